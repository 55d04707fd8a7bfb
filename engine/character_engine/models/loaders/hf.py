"""Load a Hugging Face model folder ('local' specs, and 'hub' once downloaded)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...devices import select_device
from ...errors import CorruptFile, EngineError, ModelLoadFailed, ModelNotFound, UnsupportedArchitecture
from ..checks import classify_load_error, validate_safetensors


def load_hf_folder(path: str) -> tuple[Any, Any, str]:
    """(model, tokenizer, architecture name) from a folder with config.json and weights."""
    folder = Path(path)
    if not folder.exists():
        raise ModelNotFound(f"model folder not found: {path}", path=str(path))
    if not folder.is_dir():
        raise ModelLoadFailed(f"not a model folder (expected a directory): {path}", path=str(path))
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise ModelLoadFailed(f"no config.json in {path}", path=str(path))
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CorruptFile(f"config.json is not valid JSON: {exc}", file=str(config_path)) from exc
    model_type = str(config.get("model_type", ""))
    archs = config.get("architectures") or []
    arch = archs[0] if archs else model_type
    for st in sorted(folder.glob("*.safetensors")):
        validate_safetensors(st)

    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    try:
        AutoConfig.from_pretrained(str(folder))
    except (ValueError, KeyError) as exc:
        if model_type and (
            "model type" in str(exc) or "Unrecognized" in str(exc) or isinstance(exc, KeyError)
        ):
            raise UnsupportedArchitecture(
                f"transformers does not support the architecture '{model_type}'", architecture=model_type
            ) from exc
        raise ModelLoadFailed(f"cannot read the model config: {exc}", path=str(path)) from exc
    try:
        tok = AutoTokenizer.from_pretrained(str(folder))
        model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=select_device().dtype)
    except EngineError:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure becomes a typed engine error
        raise classify_load_error(exc, str(path), model_type) from exc
    return model, tok, arch or type(model).__name__
