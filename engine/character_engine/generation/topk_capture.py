"""Top-k capture: the teacher's next-token distribution at every token it generates, kept
for knowledge distillation (format and meaning in topk_file.py).

The decode loop already has each step's logits; capturing costs one top-k and one
logsumexp over them per step, plus a copy of [rows, k] to the CPU. It reads the raw
logits before the sampler touches them (temperature, top-p, penalties) and draws nothing
from the generator, so what is sampled does not change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..topk_file import write_topk


@dataclass
class TopKRequest:
    """What generate_items should capture: k, and one file path per item (None: not that item)."""

    k: int
    paths: list[str | None]
    metadata: dict[str, Any] = field(default_factory=dict)  # written into every file


class BatchCapture:
    """Records, for the wanted rows of one batch, the top-k log-probabilities per step."""

    def __init__(self, k: int, wanted: list[bool]) -> None:
        self.k = k
        self.wanted = wanted
        # per batch item: (step's topk ids [rows, k], step's log-probs [rows, k], row) per step
        self.steps: list[list[tuple[Any, Any, int]]] = [[] for _ in wanted]

    def record(self, logits: Any, rows: list[int]) -> None:
        """`logits` [len(rows), vocab] are this step's raw next-token logits; rows[r] is the
        batch item of row r."""
        import torch

        raw = logits.float()
        top = torch.topk(raw, min(self.k, raw.shape[-1]), dim=-1)
        logp = top.values - torch.logsumexp(raw, dim=-1, keepdim=True)
        ids, logp = top.indices.cpu(), logp.cpu()
        for r, i in enumerate(rows):
            if self.wanted[i]:
                self.steps[i].append((ids, logp, r))

    def tensors(self, i: int) -> tuple[Any, Any]:
        """Batch item i's (topk_ids [T, k], topk_logprobs [T, k]), one row per generated token."""
        import torch

        steps = self.steps[i]
        if not steps:
            return torch.zeros((0, self.k), dtype=torch.long), torch.zeros((0, self.k))
        return torch.stack([ids[r] for ids, _, r in steps]), torch.stack([lp[r] for _, lp, r in steps])


def write_item(
    path: str, capture: BatchCapture, i: int, token_ids: list[int], metadata: dict[str, Any]
) -> int:
    """Write batch item i's file (atomically); returns the rows written."""
    ids, logp = capture.tensors(i)
    if ids.shape[0] != len(token_ids):  # one row per generated token, the stop token included
        raise RuntimeError(f"top-k capture has {ids.shape[0]} rows for {len(token_ids)} generated tokens")
    write_topk(path, token_ids, ids, logp, **metadata)
    return len(token_ids)
