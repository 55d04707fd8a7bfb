"""LoRA supervised fine-tuning: question -> answer, loss on assistant tokens only.

Rows are {"messages": [...]} (TrainSftParams in src-shared/engine-protocol.ts). The
handler path (config, base, data, loop) is run.py's; the loop is loop.py's.
"""

from __future__ import annotations

from typing import Any

from .data import SftExample, collate, load_sft
from .logprobs import label_logprobs
from .token_objective import LabelledTokenObjective


class SftObjective(LabelledTokenObjective):
    """Mean token cross-entropy over the assistant tokens of an optimizer step."""

    loading_message = "tokenizing the training data"

    @classmethod
    def load_examples(cls, path: str, tokenizer: Any, max_length: int, param: str) -> list[SftExample]:
        return load_sft(path, tokenizer, max_length, param)

    def collate(self, examples: list[SftExample], index: int | None = None) -> dict[str, Any]:
        return collate(examples, self.pad_id)

    def loss(self, model: Any, batch: dict[str, Any], denom: float) -> tuple[Any, dict[str, float]]:
        logps, _rows = label_logprobs(model, batch)
        total = -logps.sum()
        return total / denom, {"loss_sum": float(total.detach())}

    def summarize(self, stats: dict[str, float], units: float) -> dict[str, float]:
        return {"loss": stats.get("loss_sum", 0.0) / units if units else float("nan")}
