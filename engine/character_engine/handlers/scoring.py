"""score, embed, classifier_fit and classifier_predict."""

from __future__ import annotations

from typing import Any

from ..context import RequestContext
from ..errors import InvalidParams
from ..models.specs import parse_spec
from ..params import check_messages, get, get_list
from ..scoring.classifier import fit_classifier, predict_classifier
from ..scoring.embeddings import embed_texts
from ..scoring.score import score_items


def handle_score(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    spec = parse_spec(params.get("model"))
    adapter = get(params, "adapter", str, None)
    raw = get(params, "items", list)
    items = []
    for i, it in enumerate(raw):
        if not isinstance(it, dict) or not isinstance(it.get("response"), str):
            raise InvalidParams(f"'items[{i}].response' must be a string", param=f"items[{i}].response")
        system = it.get("system")
        if system is not None and not isinstance(system, str):
            raise InvalidParams(f"'items[{i}].system' must be a string", param=f"items[{i}].system")
        items.append(
            {
                "system": system,
                "messages": check_messages(it.get("messages"), f"items[{i}].messages"),
                "response": it["response"],
            }
        )
    loaded = ctx.state.models.load(spec, adapter, ctx=ctx)
    return {"scores": score_items(loaded, items, ctx=ctx)}


def handle_embed(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    texts = get_list(params, "texts", str)
    model_path = get(params, "model_path", str, None)
    vectors = embed_texts(ctx.state.embedders, texts, model_path, ctx)
    dim = int(vectors.shape[1]) if vectors.ndim == 2 else 0
    return {"vectors": [[round(float(x), 7) for x in row] for row in vectors], "dim": dim}


def handle_classifier_fit(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    texts = get_list(params, "texts", str)
    labels = get_list(params, "labels", int)
    save_path = get(params, "save_path", str)
    seed = get(params, "seed", int, 0)
    return fit_classifier(ctx.state.embedders, texts, labels, save_path, seed, ctx)


def handle_classifier_predict(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    path = get(params, "path", str)
    texts = get_list(params, "texts", str)
    return {"probs": predict_classifier(ctx.state.embedders, path, texts, ctx)}
