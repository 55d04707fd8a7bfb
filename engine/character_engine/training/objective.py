"""What a training objective is: SFT (sft.py), DPO (dpo.py), knowledge distillation on the
teacher's top-k (kd.py) and on-policy distillation (on_policy.py). A new one is one class
with this shape plus one entry in run.py's OBJECTIVES."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from .config import SamplingSettings, TrainConfig


class SampleFn(Protocol):
    """Student answers for on-policy objectives. The handler passes one built on the
    generation decode loop (training/ does not import generation/)."""

    def __call__(
        self, model: Any, tokenizer: Any, prompts: list[list[int]], sampling: SamplingSettings, seed: int
    ) -> list[list[int]]:
        """Per prompt, the sampled token ids; the stop token is the last one when one ended it."""
        ...


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
    def from_config(cls, cfg: TrainConfig, tokenizer: Any, sample: SampleFn | None = None) -> Objective:
        """`sample` is given to objectives that train on the student's own answers."""
        ...

    def prepare(self, model: Any, train: list[Any], val: list[Any] | None) -> None:
        """Called once the trainable model exists, before the first step: checks of the data
        against the model, state computed once per run (the on-policy teacher's prefix)."""
        ...

    def collate(self, examples: list[Any], index: int | None = None) -> dict[str, Any]:
        """A batch of tensors. `index` is the micro-batch's position in the run (None in
        evaluation); objectives that sample derive their seed from it, so a resumed run
        builds the same batches."""
        ...

    def units(self, batch: dict[str, Any]) -> float:
        """What the loss is normalised by over an optimizer step (label tokens, pairs...)."""
        ...

    def tokens(self, batch: dict[str, Any]) -> int:
        """Non-padding tokens, for tokens/s."""
        ...

    def loss(self, model: Any, batch: dict[str, Any], denom: float) -> tuple[Any, dict[str, float]]:
        """(loss summed over the batch / denom, summed stats for `summarize`)."""
        ...

    def summarize(self, stats: dict[str, float], units: float) -> dict[str, Any]:
        """Metrics from stats summed over a step or an evaluation; always has 'loss' (a float)."""
        ...
