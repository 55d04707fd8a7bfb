"""train_sft, train_dpo, train_kd and train_on_policy: each parses its params into a
TrainConfig and runs the one training path in training/run.py. On-policy training samples
the student through the generation package's decode loop, which training/ does not import:
`sample_answers` (generation/student_sampler.py) is handed over."""

from __future__ import annotations

from typing import Any

from ..context import RequestContext
from ..generation.student_sampler import sample_answers
from ..training.config import parse_config
from ..training.run import run_objective


def handle_train_sft(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    return run_objective(parse_config(params), ctx, "sft")


def handle_train_dpo(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    return run_objective(parse_config(params), ctx, "dpo")


def handle_train_kd(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    return run_objective(parse_config(params), ctx, "kd")


def handle_train_on_policy(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    return run_objective(parse_config(params), ctx, "on_policy", sample=sample_answers)
