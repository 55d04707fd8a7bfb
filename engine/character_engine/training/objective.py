"""What a training objective is. SFT (sft.py) and DPO (dpo.py) are the two there are; a
new one is one class with this shape plus one entry in run.py's OBJECTIVES."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from .config import TrainConfig


class Objective(Protocol):
    """How an objective's data loads and batches, the loss it minimises, and how its
    summed stats read out. run.py calls the class methods; loop.py the instance ones."""

    # The progress message while its training (and validation) data is tokenized.
    loading_message: ClassVar[str]

    @classmethod
    def check_config(cls, cfg: TrainConfig) -> None:
        """Raise InvalidParams for settings this objective cannot train with."""
        ...

    @classmethod
    def load_examples(cls, path: str, tokenizer: Any, max_length: int, param: str) -> list[Any]:
        """The examples of a JSONL file; each has a `length` (tokens) for length bucketing."""
        ...

    @classmethod
    def from_config(cls, cfg: TrainConfig, tokenizer: Any) -> Objective: ...

    def collate(self, examples: list[Any]) -> dict[str, Any]: ...

    def units(self, batch: dict[str, Any]) -> float:
        """What the loss is normalised by over an optimizer step (label tokens, pairs...)."""
        ...

    def tokens(self, batch: dict[str, Any]) -> int:
        """Non-padding tokens, for tokens/s."""
        ...

    def loss(self, model: Any, batch: dict[str, Any], denom: float) -> tuple[Any, dict[str, float]]:
        """(loss summed over the batch / denom, summed stats for `summarize`)."""
        ...

    def summarize(self, stats: dict[str, float], units: float) -> dict[str, float]:
        """Metrics from stats summed over a step or an evaluation; always has 'loss'."""
        ...
