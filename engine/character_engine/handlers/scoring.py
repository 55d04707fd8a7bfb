"""score, kl_metrics, embed, classifier_fit and classifier_predict."""

from __future__ import annotations

from typing import Any

from ..context import RequestContext
from ..errors import InvalidParams
from ..models.specs import parse_spec
from ..params import check_messages, get, get_list
from ..scoring.classifier import fit_classifier, predict_classifier
from ..scoring.embeddings import embed_texts
from ..scoring.kl import KL_BATCH_SIZE, Scorer, kl_metrics
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


def _model_ref(raw: Any, where: str, with_system: bool) -> tuple[dict[str, Any], str | None, str | None]:
    """(model spec, adapter, system) of a teacher/student object."""
    if not isinstance(raw, dict):
        raise InvalidParams(f"'{where}' must be an object with 'model'", param=where)
    if raw.get("model") is None:
        raise InvalidParams(f"missing parameter '{where}.model'", param=f"{where}.model")
    adapter = raw.get("adapter")
    if adapter is not None and not isinstance(adapter, str):
        raise InvalidParams(f"'{where}.adapter' must be a string", param=f"{where}.adapter")
    system = raw.get("system") if with_system else None
    if system is not None and not isinstance(system, str):
        raise InvalidParams(f"'{where}.system' must be a string", param=f"{where}.system")
    return parse_spec(raw["model"]), adapter, system or None


def handle_kl_metrics(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    t_spec, t_adapter, t_system = _model_ref(params.get("teacher"), "teacher", with_system=True)
    raw_students = get(params, "students", list)
    if not raw_students:
        raise InvalidParams("'students' must name at least one student", param="students")
    students = [_model_ref(s, f"students[{j}]", with_system=False) for j, s in enumerate(raw_students)]
    items = []
    for i, it in enumerate(get(params, "items", list)):
        if not isinstance(it, dict) or not isinstance(it.get("response"), str):
            raise InvalidParams(f"'items[{i}].response' must be a string", param=f"items[{i}].response")
        messages = check_messages(it.get("messages"), f"items[{i}].messages")
        if not messages:
            raise InvalidParams(f"'items[{i}].messages' is empty", param=f"items[{i}].messages")
        items.append({"messages": messages, "response": it["response"]})
    batch_size = get(params, "batch_size", int, KL_BATCH_SIZE)
    if batch_size < 1:
        raise InvalidParams("'batch_size' must be >= 1", param="batch_size")
    refs = [(t_spec, t_adapter), *((spec, adapter) for spec, adapter, _ in students)]
    for spec, adapter in refs:
        ctx.state.models.load(spec, adapter, ctx=ctx)
    # Loaded again now that every adapter is on its base: a handle taken before an adapter
    # was added would still point at the bare model the adapter has since wrapped.
    loaded = [ctx.state.models.load(spec, adapter, ctx=ctx) for spec, adapter in refs]
    for j, (lm, (_spec, adapter)) in enumerate(zip(loaded, refs, strict=True)):
        if lm.adapter_name is not None and lm.adapter_name not in getattr(lm.model, "peft_config", {}):
            where = "teacher.adapter" if j == 0 else f"students[{j - 1}].adapter"
            raise InvalidParams(f"too many adapters of one base model in one call ({adapter})", param=where)
    teacher = Scorer(loaded[0], t_system, "teacher.model")
    scorers = [Scorer(lm, None, f"students[{j}].model") for j, lm in enumerate(loaded[1:])]
    ctx.progress("kl_metrics", 0, len(items))
    results = kl_metrics(teacher, scorers, items, prefixes=ctx.state.prefixes, batch_size=batch_size, ctx=ctx)
    return {"items": results}


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
