"""Sampling settings and the choice of the next token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Sampling:
    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 128
    seed: int = 0


def choose(logits: Any, sampling: Sampling, generator: Any) -> Any:
    """Next token per row: argmax when temperature is 0, else one draw from `generator`
    (on the CPU, so a seed gives the same draws on every device)."""
    import torch

    if sampling.temperature <= 0:
        return torch.argmax(logits, dim=-1)
    probs = torch.softmax(logits.float() / sampling.temperature, dim=-1)
    if 0 < sampling.top_p < 1:
        sorted_p, sorted_i = torch.sort(probs, dim=-1, descending=True)
        cum = torch.cumsum(sorted_p, dim=-1)
        drop = (cum - sorted_p) > sampling.top_p  # keep the smallest set whose mass reaches top_p
        sorted_p = sorted_p.masked_fill(drop, 0.0)
        probs = torch.zeros_like(probs).scatter(-1, sorted_i, sorted_p)
    probs = probs / probs.sum(dim=-1, keepdim=True)
    return torch.multinomial(probs.cpu(), 1, generator=generator).squeeze(-1).to(logits.device)
