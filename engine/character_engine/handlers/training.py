"""train_sft, train_dpo, train_kd and train_on_policy: all run the one training path in
training/run.py. On-policy training samples the student through the generation package's
decode loop, which training/ does not import: `sample_answers` hands it over."""

from __future__ import annotations

from typing import Any

from ..context import RequestContext
from ..training.config import SamplingSettings
from ..training.run import run_objective


def handle_train_sft(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    return run_objective(params, ctx, "sft")


def handle_train_dpo(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    return run_objective(params, ctx, "dpo")


def handle_train_kd(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    return run_objective(params, ctx, "kd")


def handle_train_on_policy(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    return run_objective(params, ctx, "on_policy", sample=sample_answers)


def sample_answers(
    model: Any, tokenizer: Any, prompts: list[list[int]], sampling: SamplingSettings, seed: int
) -> list[list[int]]:
    """One answer per prompt (token ids) in one batch of the decode loop; an answer that a
    stop token ended carries it last (training/objective.py's SampleFn)."""
    import torch

    from ..generation.decode_loop import run_batch
    from ..generation.sampling import Sampling
    from ..models.chat_template import stop_token_ids

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
