"""The in-character classifier: logistic regression on sentence embeddings, saved with joblib."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ..errors import InvalidParams, ModelLoadFailed, ModelNotFound
from .embeddings import EmbedderCache, default_embedding_path, embed_texts

CV_FOLDS = 5
CV_MIN_ITEMS = 10


def fit_classifier(
    embedders: EmbedderCache,
    texts: list[str],
    labels: list[int],
    save_path: str,
    seed: int = 0,
    ctx: Any = None,
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
    x = embed_texts(embedders, texts, ctx=ctx)
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


def predict_classifier(embedders: EmbedderCache, path: str, texts: list[str], ctx: Any = None) -> list[float]:
    import joblib

    if not Path(path).is_file():
        raise ModelNotFound(f"classifier file not found: {path}", path=path)
    try:
        bundle = joblib.load(path)
        clf = bundle["classifier"]
    except Exception as exc:  # noqa: BLE001 - unpickling can raise anything the pickled code can; each becomes ModelLoadFailed
        raise ModelLoadFailed(
            f"cannot read classifier {path}: {type(exc).__name__}: {exc}", path=path
        ) from exc
    if not texts:
        return []
    x = embed_texts(embedders, texts, ctx=ctx)
    col = list(clf.classes_).index(1)
    return [float(p) for p in clf.predict_proba(x)[:, col]]
