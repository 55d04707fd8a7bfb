"""Load a base model from a parsed ModelSpec: one module per source (gguf.py for 'default'
and 'gguf', hf.py for 'local', hub.py for 'hub'), then the steps every source shares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...devices import select_device
from ..specs import DEFAULT_MODEL_NAME, default_model_path, spec_key


def load_base(spec: dict[str, Any], ctx: Any) -> tuple[Any, Any, dict[str, Any]]:
    """(model on the engine's device in eval mode, tokenizer with a pad token, ModelInfo)."""
    source = spec["source"]
    if source == "default":
        from .gguf import load_gguf

        path = default_model_path()
        model, tok, arch = load_gguf(path)
        name = DEFAULT_MODEL_NAME
    elif source == "gguf":
        from .gguf import load_gguf

        path = spec["path"]
        model, tok, arch = load_gguf(path)
        name = Path(path).stem
    elif source == "local":
        from .hf import load_hf_folder

        path = spec["path"]
        model, tok, arch = load_hf_folder(path)
        name = Path(path).name
    else:
        from .hub import load_hub

        path, model, tok, arch = load_hub(spec, ctx)
        name = spec["repo_id"]
    ensure_pad_token(tok)
    if getattr(model.config, "pad_token_id", None) is None and tok.pad_token_id is not None:
        model.config.pad_token_id = tok.pad_token_id
    choice = select_device()
    model.to(choice.device)
    model.eval()
    info = {
        "key": spec_key(spec),
        "source": source,
        "name": name,
        "architecture": arch,
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "vocab_size": int(getattr(model.config, "vocab_size", len(tok))),
        "has_chat_template": bool(getattr(tok, "chat_template", None)),
        "device": choice.device,
        "dtype": choice.dtype_name,
        "path": str(path),
    }
    return model, tok, info


def ensure_pad_token(tokenizer: Any) -> None:
    """Generation pads on the left; a tokenizer without a pad token pads with EOS."""
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is not None:
            tokenizer.pad_token = tokenizer.eos_token
        elif tokenizer.unk_token is not None:
            tokenizer.pad_token = tokenizer.unk_token
    tokenizer.padding_side = "left"
