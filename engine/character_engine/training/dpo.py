"""LoRA DPO: sigmoid preference loss against a reference that is the same model with
the adapter disabled (so init_adapter=<SFT adapter> trains DPO on top of SFT, with the
base as reference), plus an optional length-normalised NLL term on the chosen reply, plus an optional kd term.

Rows are {"prompt", "chosen", "rejected", "teacher_topk"?} (TrainDpoParams). Metrics per step:
loss, reward_accuracy (share of pairs whose implicit reward prefers chosen) and
reward_margin (mean chosen - rejected reward), reward = beta * (logp - logp_ref).

The kd term (`kd_weight` > 0; the character recipe's anchor). The paper's NLL term pulls the
policy towards the one token the teacher sampled at each position of the chosen answer; on a
135M model DPO alone moved the student AWAY from the teacher per token (captured < 0, README),
because the preference margin can grow by pushing probability anywhere except the rejected
answer. With the teacher's captured top-k of the chosen answer (`teacher_topk`, kd.py's file),
kd_weight x the length-normalised kd loss (KL(teacher || student) over top-k + rest, kd.py)
keeps the whole next-token distribution near the teacher's. The chosen sequence is then the
prompt followed by the file's token ids (as kd trains), not a re-tokenization of the text.
Metric `kd_loss` (mean per chosen token) whenever every row of a batch has its top-k, so plain
DPO's drift from the teacher is measured too.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidParams
from .config import TrainConfig
from .data import DpoExample, collate, load_dpo, pad_id_of, read_jsonl
from .kd import KdExample, check_vocab, kd_example, kd_token_losses, output_vocab
from .logprobs import label_logits
from .objective import SampleFn


def load_dpo_rows(path: str, tokenizer: Any, max_length: int, param: str) -> list[DpoExample]:
    """load_dpo's pairs; a row with `teacher_topk` gets its chosen side from that file (a
    KdExample: the teacher's token ids with their top-k), so a kd term can be trained on it."""
    pairs = load_dpo(path, tokenizer, max_length, param)
    for line, (row, pair) in enumerate(zip(read_jsonl(path, param), pairs, strict=True), start=1):
        if row.get("teacher_topk") is None:
            continue
        kd_row = {
            "messages": [*row["prompt"], {"role": "assistant", "content": row["chosen"]}],
            "teacher_topk": row["teacher_topk"],
        }
        pair.chosen = kd_example(kd_row, line, path, tokenizer, max_length, param)
    return pairs


class DpoObjective:
    """Rows 0..n-1 of a batch are chosen replies, rows n..2n-1 the rejected ones."""

    loading_message = "tokenizing the preference pairs"

    def __init__(self, pad_id: int, beta: float, nll_coef: float, kd_weight: float = 0.0) -> None:
        self.pad_id = pad_id
        self.beta = beta
        self.nll_coef = nll_coef
        self.kd_weight = kd_weight

    @classmethod
    def check_config(cls, cfg: TrainConfig) -> None:
        if not cfg.beta > 0:
            raise InvalidParams("'beta' must be > 0", param="beta")
        if cfg.nll_coef < 0:
            raise InvalidParams("'nll_coef' must be >= 0", param="nll_coef")
        if cfg.kd_weight < 0:
            raise InvalidParams("'kd_weight' must be >= 0", param="kd_weight")

    @classmethod
    def load_examples(cls, path: str, tokenizer: Any, max_length: int, param: str) -> list[DpoExample]:
        return load_dpo_rows(path, tokenizer, max_length, param)

    @classmethod
    def from_config(cls, cfg: TrainConfig, tokenizer: Any, sample: SampleFn | None = None) -> DpoObjective:
        return cls(pad_id_of(tokenizer), cfg.beta, cfg.nll_coef, cfg.kd_weight)

    def prepare(self, model: Any, train: list[DpoExample], val: list[DpoExample] | None) -> None:
        if not self.kd_weight:
            return
        for where, examples in (("train_path", train), ("val_path", val or [])):
            missing = sum(not isinstance(e.chosen, KdExample) for e in examples)
            if missing:
                raise InvalidParams(
                    f"kd_weight {self.kd_weight} needs the teacher's top-k of every chosen answer, "
                    f"but {missing} of {len(examples)} rows of {where} have no 'teacher_topk'",
                    param=where,
                    missing=missing,
                )
        check_vocab([e.chosen for e in train + (val or [])], output_vocab(model))  # type: ignore[misc]

    def collate(self, examples: list[DpoExample], index: int | None = None) -> dict[str, Any]:
        import torch

        batch = collate([e.chosen for e in examples] + [e.rejected for e in examples], self.pad_id)
        batch["pairs"] = len(examples)
        if all(isinstance(e.chosen, KdExample) for e in examples):
            chosen: list[KdExample] = [e.chosen for e in examples]  # type: ignore[misc]
            k = min(int(c.topk_ids.shape[1]) for c in chosen)
            batch["topk_ids"] = torch.cat([c.topk_ids[:, :k] for c in chosen])
            batch["topk_logprobs"] = torch.cat([c.topk_logprobs[:, :k] for c in chosen])
        return batch

    def units(self, batch: dict[str, Any]) -> float:
        return float(batch["pairs"])

    def tokens(self, batch: dict[str, Any]) -> int:
        return int(batch["attention_mask"].sum())

    def loss(self, model: Any, batch: dict[str, Any], denom: float) -> tuple[Any, dict[str, float]]:
        import torch
        import torch.nn.functional as F

        n = batch["pairs"]
        policy, counts, logits, targets, rows = _sequence_logprobs(model, batch)
        with torch.no_grad(), model.disable_adapter():
            reference = _sequence_logprobs(model, batch)[0]
        chosen_reward = self.beta * (policy[:n] - reference[:n])
        rejected_reward = self.beta * (policy[n:] - reference[n:])
        margin = chosen_reward - rejected_reward
        per_pair = -F.logsigmoid(margin)
        if self.nll_coef:
            per_pair = per_pair + self.nll_coef * (-policy[:n] / counts[:n].clamp(min=1))
        kd_sum = None
        if "topk_ids" in batch:  # measured whenever captured; trained on when kd_weight > 0
            # Rows come out row by row, chosen (rows < n) first: the same order as topk_*.
            on_chosen = rows < n
            kd, _nll = kd_token_losses(
                logits[on_chosen], targets[on_chosen], batch["topk_ids"], batch["topk_logprobs"]
            )
            per_row = torch.zeros(n, dtype=kd.dtype, device=kd.device).index_add(0, rows[on_chosen], kd)
            if self.kd_weight:
                per_pair = per_pair + self.kd_weight * per_row / counts[:n].clamp(min=1)
            kd_sum = per_row.sum()
        total = per_pair.sum()
        stats = {
            "loss_sum": float(total.detach()),
            "correct": float((margin.detach() > 0).sum()),
            "margin_sum": float(margin.detach().sum()),
        }
        if kd_sum is not None:
            stats["kd_sum"] = float(kd_sum.detach())
            stats["kd_tokens"] = float(counts[:n].sum())
        return total / denom, stats

    def summarize(self, stats: dict[str, float], units: float) -> dict[str, float]:
        if not units:
            return {"loss": float("nan"), "reward_accuracy": 0.0, "reward_margin": 0.0}
        out = {
            "loss": stats.get("loss_sum", 0.0) / units,
            "reward_accuracy": stats.get("correct", 0.0) / units,
            "reward_margin": stats.get("margin_sum", 0.0) / units,
        }
        if stats.get("kd_tokens"):
            out["kd_loss"] = stats["kd_sum"] / stats["kd_tokens"]
        return out


def _sequence_logprobs(model: Any, batch: dict[str, Any]) -> tuple[Any, Any, Any, Any, Any]:
    """logprobs.sequence_logprobs plus the label logits, targets and row indices it came
    from, so the kd term reuses the one forward pass."""
    import torch
    import torch.nn.functional as F

    logits, targets, rows = label_logits(model, batch)
    logps = -F.cross_entropy(logits, targets, reduction="none")
    n = batch["input_ids"].shape[0]
    sums = torch.zeros(n, dtype=logps.dtype, device=logps.device).index_add(0, rows, logps)
    counts = torch.zeros(n, dtype=logps.dtype, device=logps.device).index_add(0, rows, torch.ones_like(logps))
    return sums, counts, logits, targets, rows
