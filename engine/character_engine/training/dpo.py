"""LoRA DPO: sigmoid preference loss against a reference that is the same model with
the adapter disabled (so init_adapter=<SFT adapter> trains DPO on top of SFT, with the
base as reference), plus an optional length-normalised NLL term on the chosen reply.

Rows are {"prompt", "chosen", "rejected"} (TrainDpoParams). Metrics per step:
loss, reward_accuracy (share of pairs whose implicit reward prefers chosen) and
reward_margin (mean chosen - rejected reward), reward = beta * (logp - logp_ref).
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidParams
from .config import TrainConfig
from .data import DpoExample, collate, load_dpo, pad_id_of
from .logprobs import sequence_logprobs
from .objective import SampleFn


class DpoObjective:
    """Rows 0..n-1 of a batch are chosen replies, rows n..2n-1 the rejected ones."""

    loading_message = "tokenizing the preference pairs"

    def __init__(self, pad_id: int, beta: float, nll_coef: float) -> None:
        self.pad_id = pad_id
        self.beta = beta
        self.nll_coef = nll_coef

    @classmethod
    def check_config(cls, cfg: TrainConfig) -> None:
        if not cfg.beta > 0:
            raise InvalidParams("'beta' must be > 0", param="beta")
        if cfg.nll_coef < 0:
            raise InvalidParams("'nll_coef' must be >= 0", param="nll_coef")

    @classmethod
    def load_examples(cls, path: str, tokenizer: Any, max_length: int, param: str) -> list[DpoExample]:
        return load_dpo(path, tokenizer, max_length, param)

    @classmethod
    def from_config(cls, cfg: TrainConfig, tokenizer: Any, sample: SampleFn | None = None) -> DpoObjective:
        return cls(pad_id_of(tokenizer), cfg.beta, cfg.nll_coef)

    def prepare(self, model: Any, train: list[Any], val: list[Any] | None) -> None:
        pass

    def collate(self, examples: list[DpoExample], index: int | None = None) -> dict[str, Any]:
        batch = collate([e.chosen for e in examples] + [e.rejected for e in examples], self.pad_id)
        batch["pairs"] = len(examples)
        return batch

    def units(self, batch: dict[str, Any]) -> float:
        return float(batch["pairs"])

    def tokens(self, batch: dict[str, Any]) -> int:
        return int(batch["attention_mask"].sum())

    def loss(self, model: Any, batch: dict[str, Any], denom: float) -> tuple[Any, dict[str, float]]:
        import torch
        import torch.nn.functional as F

        n = batch["pairs"]
        policy, counts = sequence_logprobs(model, batch)
        with torch.no_grad(), model.disable_adapter():
            reference, _ = sequence_logprobs(model, batch)
        chosen_reward = self.beta * (policy[:n] - reference[:n])
        rejected_reward = self.beta * (policy[n:] - reference[n:])
        margin = chosen_reward - rejected_reward
        per_pair = -F.logsigmoid(margin)
        if self.nll_coef:
            per_pair = per_pair + self.nll_coef * (-policy[:n] / counts[:n].clamp(min=1))
        total = per_pair.sum()
        stats = {
            "loss_sum": float(total.detach()),
            "correct": float((margin.detach() > 0).sum()),
            "margin_sum": float(margin.detach().sum()),
        }
        return total / denom, stats

    def summarize(self, stats: dict[str, float], units: float) -> dict[str, float]:
        if not units:
            return {"loss": float("nan"), "reward_accuracy": 0.0, "reward_margin": 0.0}
        return {
            "loss": stats.get("loss_sum", 0.0) / units,
            "reward_accuracy": stats.get("correct", 0.0) / units,
            "reward_margin": stats.get("margin_sum", 0.0) / units,
        }
