"""PEFT adapters: check a folder, name it, load it onto a base model."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from ..errors import EngineError, InvalidParams, ModelLoadFailed, ModelNotFound
from .checks import validate_safetensors

# PEFT's own default adapter name, used for uncached (private) models.
FRESH_ADAPTER_NAME = "default"


def check_adapter(adapter: str) -> str:
    """The adapter folder's real path, after checking it holds a readable adapter."""
    if not isinstance(adapter, str) or not adapter:
        raise InvalidParams("'adapter' must be a folder path", param="adapter")
    folder = Path(adapter)
    if not folder.exists():
        raise ModelNotFound(f"adapter folder not found: {adapter}", path=adapter, what="adapter")
    if not (folder / "adapter_config.json").is_file():
        raise ModelLoadFailed(f"no adapter_config.json in {adapter}", path=adapter)
    for st in sorted(folder.glob("*.safetensors")):
        validate_safetensors(st)
    return os.path.realpath(adapter)


def adapter_name(path: str) -> str:
    """A PEFT adapter name that changes when the weights on disk change (retrained in place)."""
    weights = Path(path) / "adapter_model.safetensors"
    stamp = f"{weights.stat().st_mtime_ns}:{weights.stat().st_size}" if weights.exists() else ""
    return "a" + hashlib.sha1(f"{path}|{stamp}".encode()).hexdigest()[:12]


def add_adapter(model: Any, path: str, name: str) -> Any:
    """The model with the adapter at `path` loaded as `name` (a PeftModel from a plain base)."""
    try:
        if hasattr(model, "peft_config"):
            model.load_adapter(path, adapter_name=name)
            return model
        from peft import PeftModel

        peft_model = PeftModel.from_pretrained(model, path, adapter_name=name)
        peft_model.eval()
        return peft_model
    except EngineError:
        raise
    except Exception as exc:  # noqa: BLE001 - peft and safetensors raise many unrelated types for a bad adapter folder; each becomes ModelLoadFailed
        raise ModelLoadFailed(
            f"failed to load adapter {path}: {type(exc).__name__}: {exc}", path=path, what="adapter"
        ) from exc
