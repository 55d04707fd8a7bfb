"""Sampling settings and the choice of the next token.

Two settings keep an answer from looping, both off by default and both applied to the raw
logits before temperature and top-p:

- `repetition_penalty` (>= 1; 1 is off), the Hugging Face rule: the logit of every token
  already generated in this answer is divided by the penalty when positive and multiplied
  by it when negative. Only generated tokens count, not the prompt: a persona's own words
  in its system prompt are not penalised.
- `no_repeat_ngram_size` n (0 is off): a token that would complete an n-gram that already
  occurs in this answer's generated tokens is banned.

With both off `choose` computes exactly what it did without them (the same draws from the
generator), so seeded and greedy outputs do not change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass
class Sampling:
    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 128
    seed: int = 0
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0

    @property
    def penalised(self) -> bool:
        return self.repetition_penalty != 1.0 or self.no_repeat_ngram_size > 0


def banned_ngram_tokens(history: Sequence[int], n: int) -> set[int]:
    """Tokens that would complete an n-gram already present in `history` (n >= 1)."""
    if n < 1 or len(history) < n:
        return set()
    if n == 1:
        return set(history)
    tail = list(history[len(history) - n + 1 :])
    return {history[j + n - 1] for j in range(len(history) - n + 1) if list(history[j : j + n - 1]) == tail}


def apply_penalties(logits: Any, sampling: Sampling, history: Sequence[Sequence[int]]) -> Any:
    """The logits [rows, vocab] after the repetition penalty and the n-gram ban; `history`
    holds each row's generated tokens. Returns `logits` itself when nothing applies, else a
    new tensor (the caller's logits, e.g. those captured for top-k files, stay raw)."""
    import torch

    if not sampling.penalised or not any(history):
        return logits
    out = logits.clone()
    penalty = float(sampling.repetition_penalty)
    n = int(sampling.no_repeat_ngram_size)
    for row, seen in enumerate(history):  # a batch is at most a few dozen rows
        if not seen:
            continue
        if penalty != 1.0:
            idx = torch.tensor(sorted(set(seen)), dtype=torch.long, device=out.device)
            score = out[row, idx]
            out[row, idx] = torch.where(score < 0, score * penalty, score / penalty)
        if n > 0:
            banned = banned_ngram_tokens(seen, n)
            if banned:
                idx = torch.tensor(sorted(banned), dtype=torch.long, device=out.device)
                out[row, idx] = float("-inf")
    return out


def choose(
    logits: Any, sampling: Sampling, generator: Any, history: Sequence[Sequence[int]] | None = None
) -> Any:
    """Next token per row: argmax when temperature is 0, else one draw from `generator`
    (a CPU generator: torch.multinomial on the CPU, `draw_on_device` elsewhere). `history` (each row's
    generated tokens) feeds the repetition penalty and the n-gram ban when they are on."""
    import torch

    if history is not None:
        logits = apply_penalties(logits, sampling, history)
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
    if probs.device.type == "cpu":
        return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
    return draw_on_device(probs, generator)


def draw_on_device(probs: Any, generator: Any) -> Any:
    """One draw per row of `probs` [rows, vocab] by inverse CDF, computed where `probs` lives.

    Only [rows] uniforms cross from the CPU generator to the device each step, where
    torch.multinomial would need the [rows, vocab] probabilities copied to the CPU (49,152
    columns per row for SmolLM2) and a sync on every token. The draws come from the same
    seeded CPU generator, so a seed gives the same answers on every run of one device; they
    are not the draws torch.multinomial makes, which is why the CPU keeps multinomial (its
    seeded outputs stay as they were). A token whose probability is 0 (cut by top-p) is
    never chosen: its CDF equals its predecessor's, so the search stops before it."""
    import torch

    # float32 throughout: MPS has no float64, and the scale by the CDF's own last entry
    # keeps the target inside it whatever rounding the cumulative sum picked up.
    u = torch.rand((probs.shape[0], 1), generator=generator, dtype=torch.float32)
    cdf = probs.float().cumsum(dim=-1)
    target = u.to(probs.device) * cdf[:, -1:]
    picked = torch.searchsorted(cdf, target, right=True).squeeze(-1)
    return picked.clamp_(max=probs.shape[-1] - 1)
