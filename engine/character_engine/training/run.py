"""One handler path for every training objective: parse the config, load a private copy
of the base, load the data the objective reads, build it and run the loop.

Adding an objective: one class with the Objective shape (objective.py) and one entry in
OBJECTIVES; the protocol method that names it parses its params (config.parse_config) and
calls `run_objective(cfg, ctx, kind)` (on-policy also passes `sample`, the student's sampler,
from the generation package). This module never reads a params dict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..context import RequestContext
from ..models.cache import load_private
from .config import TrainConfig
from .data import data_hash
from .dpo import DpoObjective
from .kd import KdObjective
from .loop import run_training
from .objective import Objective, SampleFn
from .on_policy import OnPolicyObjective
from .sft import SftObjective

# kind (as written to trainer_state.json and the checkpoint event) -> objective
OBJECTIVES: dict[str, type[Objective]] = {
    "sft": SftObjective,
    "dpo": DpoObjective,
    "kd": KdObjective,
    "on_policy": OnPolicyObjective,
}


def run_objective(
    cfg: TrainConfig,
    ctx: RequestContext,
    kind: str,
    sample: SampleFn | None = None,
    wrap: Callable[[Objective], Any] | None = None,
) -> dict[str, Any]:
    """Train a LoRA adapter with the objective named `kind`; returns a TrainResult. `wrap`
    wraps the built objective (distributed.py's Sharded, for data-parallel processes)."""
    objective = OBJECTIVES[kind]
    objective.check_config(cfg)
    ctx.progress("load", 0, 2, "loading the base model")
    # A private copy: training modifies the model, cached models serve other requests.
    loaded = load_private(cfg.model, None, ctx=ctx)
    base, tokenizer = loaded.model, loaded.tokenizer
    ctx.progress("load", 1, 2, objective.loading_message)
    train = objective.load_examples(cfg.train_path, tokenizer, cfg.max_length, "train_path")
    val = (
        objective.load_examples(cfg.val_path, tokenizer, cfg.max_length, "val_path") if cfg.val_path else None
    )
    ctx.progress("load", 2, 2)
    built = objective.from_config(cfg, tokenizer, sample)
    result = run_training(
        cfg,
        ctx,
        wrap(built) if wrap else built,
        base,
        train,
        val,
        data_hash(cfg.train_path, cfg.val_path),
        kind,
    )
    return result.to_dict()
