"""train_sft and train_dpo: both run the one training path in training/run.py."""

from __future__ import annotations

from typing import Any

from ..context import RequestContext
from ..training.run import run_objective


def handle_train_sft(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    return run_objective(params, ctx, "sft")


def handle_train_dpo(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    return run_objective(params, ctx, "dpo")
