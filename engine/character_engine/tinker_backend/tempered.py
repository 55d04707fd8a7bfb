"""Whether Tinker's sampled log-probs are the model's own (temperature 1) or the sampler's
tempered ones: the SDK does not say, and kd needs the model's own distribution (topk_file.py).

The check costs one compute_logprobs: it scores the first answer's tokens with a plain forward
pass (no temperature exists there) and compares them with the log-probs the sampler reported
for the same tokens. At temperature 1 both readings agree, so nothing is checked.
"""

from __future__ import annotations

from statistics import median
from typing import Any

from ..errors import InvalidParams

# Median |sampler - forward| log-prob gap above which the sampler's values are not the
# model's own. Tempering at T=0.8 moves typical tokens' log-probs by tenths of a nat; bf16
# serving noise between two passes stays at hundredths.
TEMPERED_GAP = 0.05


def logprob_gap(sampled: list[float], forward: list[float]) -> float:
    """Median absolute difference of two readings of the same tokens' log-probs."""
    pairs = [abs(a - b) for a, b in zip(sampled, forward, strict=True)]
    return median(pairs) if pairs else 0.0


def check_untempered(types: Any, client: Any, prompt: list[int], seq: Any, temperature: float) -> None:
    """InvalidParams (kd cannot use the answers) when the sampler's log-probs are tempered."""
    tokens = list(seq.tokens)
    sampled = list(seq.logprobs or [])
    if temperature == 1.0 or not tokens or len(sampled) != len(tokens):
        return
    raw = client.compute_logprobs(types.ModelInput.from_ints(prompt + tokens)).result()
    forward = [float("nan") if x is None else float(x) for x in raw][-len(tokens) :]
    gap = logprob_gap(sampled, forward)
    if gap > TEMPERED_GAP:
        raise InvalidParams(
            f"Tinker's sampled log-probs at temperature {temperature:g} differ from the model's own by "
            f"{gap:.3f} nats (median): they are tempered, and kd needs the model's distribution. "
            "Capture the teacher's top-k at temperature 1, or train with sft.",
            param="sampling.temperature",
            gap=gap,
        )
