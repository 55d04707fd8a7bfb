"""LoRA supervised fine-tuning: question -> answer, loss on assistant tokens only.

Handler `train_sft(params, ctx) -> TrainResult` (see TrainSftParams in
src-shared/engine-protocol.ts). The loop, checkpoints, resume and cancel live in
loop.py and are shared with DPO.
"""

from __future__ import annotations

from typing import Any

from ..context import RequestContext
from ..models.cache import load_private
from .config import TrainConfig, parse_config
from .data import SftExample, collate, data_hash, load_sft
from .loop import label_logprobs, run_training


class SftObjective:
    """Mean token cross-entropy over the assistant tokens of an optimizer step."""

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def collate(self, examples: list[SftExample]) -> dict[str, Any]:
        return collate(examples, self.pad_id)

    def units(self, batch: dict[str, Any]) -> float:
        return float((batch["labels"][:, 1:] != -100).sum())

    def tokens(self, batch: dict[str, Any]) -> int:
        return int(batch["attention_mask"].sum())

    def loss(self, model: Any, batch: dict[str, Any], denom: float) -> tuple[Any, dict[str, float]]:
        logps, _rows = label_logprobs(model, batch)
        total = -logps.sum()
        return total / denom, {"loss_sum": float(total.detach())}

    def summarize(self, stats: dict[str, float], units: float) -> dict[str, float]:
        return {"loss": stats.get("loss_sum", 0.0) / units if units else float("nan")}


def pad_id_of(tokenizer: Any) -> int:
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id, 0):
        if candidate is not None:
            return int(candidate)
    return 0


def load_base(cfg: TrainConfig, ctx: RequestContext) -> tuple[Any, Any]:
    """A private (uncached) copy of the base model for training, and its tokenizer."""
    loaded = load_private(cfg.model, ctx=ctx)
    return loaded.model, loaded.tokenizer


def train_sft(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    cfg = parse_config(params)
    ctx.progress("load", 0, 2, "loading the base model")
    base, tokenizer = load_base(cfg, ctx)
    ctx.progress("load", 1, 2, "tokenizing the training data")
    train = load_sft(cfg.train_path, tokenizer, cfg.max_length, "train_path")
    val = load_sft(cfg.val_path, tokenizer, cfg.max_length, "val_path") if cfg.val_path else None
    ctx.progress("load", 2, 2)
    result = run_training(
        cfg,
        ctx,
        SftObjective(pad_id_of(tokenizer)),
        base,
        train,
        val,
        data_hash(cfg.train_path, cfg.val_path),
        "sft",
    )
    return result.to_dict()
