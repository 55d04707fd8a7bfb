"""The skeleton SFT (sft.py) and knowledge distillation (kd.py) share: a loss averaged over
the labelled (assistant) tokens of an optimizer step, batches padded with the tokenizer's
pad id, every setting parse_config accepts. Each subclass names how its rows load and
batch, its loss and its metrics."""

from __future__ import annotations

from typing import Any

from ..models.assistant_mask import IGNORE_INDEX
from .config import TrainConfig
from .data import pad_id_of
from .objective import SampleFn


def label_count(batch: dict[str, Any]) -> float:
    """The labelled tokens of a batch (the positions a loss is averaged over)."""
    return float((batch["labels"][:, 1:] != IGNORE_INDEX).sum())


class LabelledTokenObjective:
    """Base of the per-token objectives: units are labelled tokens, tokens the non-padding ones."""

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    @classmethod
    def check_config(cls, cfg: TrainConfig) -> None:
        pass  # every setting parse_config accepts works for a per-token objective

    @classmethod
    def from_config(cls, cfg: TrainConfig, tokenizer: Any, sample: SampleFn | None = None) -> Any:
        return cls(pad_id_of(tokenizer))

    def prepare(self, model: Any, train: list[Any], val: list[Any] | None) -> None:
        pass

    def units(self, batch: dict[str, Any]) -> float:
        return label_count(batch)

    def tokens(self, batch: dict[str, Any]) -> int:
        return int(batch["attention_mask"].sum())
