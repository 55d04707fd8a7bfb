"""Load one GGUF file ('gguf' specs and the embedded 'default' model); transformers
dequantises it to plain float tensors and reads the tokenizer from the same file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...devices import select_device
from ...errors import CorruptFile, EngineError, ModelLoadFailed, ModelNotFound, UnsupportedArchitecture
from ..checks import classify_load_error


def load_gguf(path: str) -> tuple[Any, Any, str]:
    """(model, tokenizer, architecture name) from a GGUF file."""
    file = Path(path)
    if not file.exists():
        raise ModelNotFound(f"GGUF file not found: {path}", path=str(path))
    if not file.is_file():
        raise ModelLoadFailed(f"not a GGUF file: {path}", path=str(path))
    architecture = gguf_architecture(str(file))
    if not gguf_architecture_supported(architecture):
        raise UnsupportedArchitecture(
            f"transformers cannot load GGUF models of architecture '{architecture}'",
            architecture=architecture,
            path=str(path),
        )
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(str(file.parent), gguf_file=file.name)
        model = AutoModelForCausalLM.from_pretrained(
            str(file.parent), gguf_file=file.name, dtype=select_device().dtype
        )
    except EngineError:
        raise
    except Exception as exc:  # noqa: BLE001 - transformers' GGUF path raises many types; classify_load_error types them
        raise classify_load_error(exc, str(path), architecture) from exc
    archs = getattr(model.config, "architectures", None) or [type(model).__name__]
    return model, tok, archs[0]


def gguf_architecture(path: str) -> str:
    """general.architecture of a GGUF file; CorruptFile if the file cannot be parsed."""
    try:
        from gguf import GGUFReader

        reader = GGUFReader(path)
        field_ = reader.fields.get("general.architecture")
        if field_ is None:
            raise CorruptFile(f"GGUF file has no general.architecture: {path}", file=path)
        value = field_.parts[field_.data[0]]
        return bytes(value).decode("utf-8")
    except EngineError:
        raise
    except Exception as exc:  # noqa: BLE001 - the gguf reader raises ValueError, struct errors, OSError... for one bad file
        raise CorruptFile(f"cannot read GGUF file {path}: {type(exc).__name__}: {exc}", file=path) from exc


def gguf_architecture_supported(architecture: str) -> bool:
    from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES

    if architecture in GGUF_SUPPORTED_ARCHITECTURES:
        return True
    # transformers renames a few GGUF architectures before checking (see load_gguf_checkpoint).
    aliases = {
        "qwen2moe": "qwen2_moe",
        "gpt-oss": "gpt_oss",
        "qwen3moe": "qwen3_moe",
        "minimax-m2": "minimax_m2",
    }
    return any(k in architecture and v in GGUF_SUPPORTED_ARCHITECTURES for k, v in aliases.items())


def drop_dequantized_gguf_marker(model: Any) -> None:
    """transformers dequantises a GGUF base to plain float tensors on load, yet keeps a GGUF
    quantizer on the model; that marker makes Trainer refuse to train it and save_pretrained
    refuse to save it. The weights are ordinary tensors, so the marker can go."""
    quantizer = getattr(model, "hf_quantizer", None)
    method = str(getattr(getattr(quantizer, "quantization_config", None), "quant_method", "")).lower()
    if quantizer is None or "gguf" not in method:
        return
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        delattr(model.config, "quantization_config")
