"""The student's own answers for on-policy training (training/objective.py's SampleFn), from
the decode loop. It lives here, with the loop, so the training library never imports
generation/: the training handler and the data-parallel launcher (training/distributed.py's
process entry point) pass it in."""

from __future__ import annotations

from typing import Any

from ..training.config import SamplingSettings


def sample_answers(
    model: Any, tokenizer: Any, prompts: list[list[int]], sampling: SamplingSettings, seed: int
) -> list[list[int]]:
    """One answer per prompt (token ids) in one batch of the decode loop; an answer that a
    stop token ended carries it last (training/objective.py's SampleFn)."""
    import torch

    from ..models.chat_template import stop_token_ids
    from .decode_loop import run_batch
    from .sampling import Sampling

    settings = Sampling(
        temperature=sampling.temperature,
        top_p=sampling.top_p,
        max_new_tokens=sampling.max_new_tokens,
        seed=seed,
    )
    out = run_batch(
        model,
        tokenizer,
        prompts,
        None,  # no stored prefix: the student's weights change every step
        settings,
        stop_token_ids(model, tokenizer),
        torch.Generator().manual_seed(seed),
        [None] * len(prompts),
        None,  # the loop checks for cancellation around the step
    )
    return [g + ([s] if s is not None else []) for g, s in zip(out.generated, out.stop_ids, strict=True)]
