"""LoRA settings come from ONE function, `lora_config`, and adapters are attached here."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidParams, ModelLoadFailed
from .config import TrainConfig

# Attention projections per model_type; the same four names cover most decoder-only
# models transformers ships (Llama, Qwen2/3, Mistral, Gemma, Phi-3 uses fused qkv_proj).
DEFAULT_TARGETS: dict[str, list[str]] = {
    "llama": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "qwen2": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "qwen3": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "mistral": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "gemma": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "gemma2": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "phi3": ["qkv_proj", "o_proj"],
    "gpt2": ["c_attn", "c_proj"],
    "gpt_neox": ["query_key_value", "dense"],
}
FALLBACK_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]


def default_target_modules(model_type: str) -> list[str]:
    return list(DEFAULT_TARGETS.get(model_type, FALLBACK_TARGETS))


def lora_config(cfg: TrainConfig, model_type: str = "llama") -> Any:
    """The peft LoraConfig for a training run (task CAUSAL_LM)."""
    from peft import LoraConfig, TaskType

    targets = list(cfg.lora.target_modules) or default_target_modules(model_type)
    return LoraConfig(
        r=cfg.lora.r,
        lora_alpha=cfg.lora.alpha,
        lora_dropout=cfg.lora.dropout,
        target_modules=targets,
        bias="none",
        task_type=TaskType.CAUSAL_LM,
    )


def attach_lora(base: Any, cfg: TrainConfig, adapter_dir: str | None = None) -> Any:
    """A trainable PeftModel: a fresh LoRA from cfg, or the adapter saved in adapter_dir."""
    import torch
    from peft import PeftModel, get_peft_model

    model_type = getattr(base.config, "model_type", "llama")
    if adapter_dir:
        try:
            model = PeftModel.from_pretrained(base, adapter_dir, is_trainable=True)
        except Exception as exc:  # noqa: BLE001 - surfaced as a typed engine error
            raise ModelLoadFailed(
                f"cannot load adapter {adapter_dir}: {type(exc).__name__}: {exc}", path=adapter_dir
            ) from exc
    else:
        config = lora_config(cfg, model_type)
        present = {name.rsplit(".", 1)[-1] for name, _ in base.named_modules()}
        missing = [t for t in config.target_modules if t not in present]
        if missing:
            raise InvalidParams(
                f"lora.target_modules {missing} do not exist in this {model_type} model",
                param="lora.target_modules",
            )
        model = get_peft_model(base, config)
    # LoRA weights train in fp32 even when the base runs in half precision on a GPU.
    for p in model.parameters():
        if p.requires_grad and p.dtype != torch.float32:
            p.data = p.data.float()
    return model
