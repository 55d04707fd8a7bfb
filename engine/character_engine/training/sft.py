"""LoRA supervised fine-tuning: question -> answer, loss on assistant tokens only.

Rows are {"messages": [...]} (TrainSftParams in src-shared/engine-protocol.ts). The
handler path (config, base, data, loop) is run.py's; the loop is loop.py's.
"""

from __future__ import annotations

from typing import Any

from .config import TrainConfig
from .data import SftExample, collate, load_sft, pad_id_of
from .logprobs import label_logprobs
from .objective import SampleFn


class SftObjective:
    """Mean token cross-entropy over the assistant tokens of an optimizer step."""

    loading_message = "tokenizing the training data"

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    @classmethod
    def check_config(cls, cfg: TrainConfig) -> None:
        pass  # every setting parse_config accepts works for SFT

    @classmethod
    def load_examples(cls, path: str, tokenizer: Any, max_length: int, param: str) -> list[SftExample]:
        return load_sft(path, tokenizer, max_length, param)

    @classmethod
    def from_config(cls, cfg: TrainConfig, tokenizer: Any, sample: SampleFn | None = None) -> SftObjective:
        return cls(pad_id_of(tokenizer))

    def prepare(self, model: Any, train: list[Any], val: list[Any] | None) -> None:
        pass

    def collate(self, examples: list[SftExample], index: int | None = None) -> dict[str, Any]:
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
