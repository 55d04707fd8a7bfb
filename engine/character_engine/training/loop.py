"""The flat training loop every objective shares (SFT, DPO, KD, on-policy; see objective.py).

One optimizer step = `grad_accum` micro-batches of `batch_size` examples. The loss is
normalised by the objective's unit count over the WHOLE step (label tokens for SFT and
KD, pairs for DPO, sampled tokens for on-policy), so accumulation gives the same gradient as one big batch.

Events (RequestContext): `metric` (kind 'train' every optimizer step, kind 'eval' every
eval_every steps and at the end), `checkpoint` after each save (with what the client
would otherwise read from its trainer_state.json: kind, data_hash, total_steps, epoch,
and the losses known at that step), `progress` (phase 'train', done/total optimizer
steps). The same metric rows are appended to output_dir/metrics.jsonl (metrics.py).

Cancellation: checked before a step's batches are built (an on-policy step samples then)
and before every micro-batch. On cancel the loop discards the partial step, saves a
checkpoint of the last COMPLETED step and returns a TrainResult with cancelled=true (it
does not raise), so the client can resume from it.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..context import RequestContext
from ..errors import InvalidParams
from .checkpoints import (
    capture_rng,
    load_torch,
    read_state,
    remove_stale_temp_folders,
    restore_rng,
    save_checkpoint,
)
from .config import TrainConfig
from .data import epoch_batches
from .lora import attach_lora
from .metrics import MetricsLog
from .objective import Objective

# ----------------------------------------------------------------------------- schedule


def lr_factor(schedule: str, warmup: int, total: int) -> Callable[[int], float]:
    """Multiplier of the peak LR for 0-based step s: linear warmup from 1/warmup to 1,
    then linear decay / cosine decay towards 0 (never exactly 0 on a trained step) / constant."""

    def f(s: int) -> float:
        if warmup > 0 and s < warmup:
            return (s + 1) / warmup
        if schedule == "constant":
            return 1.0
        progress = (s - warmup) / max(1, total - warmup)
        progress = min(max(progress, 0.0), 1.0)
        if schedule == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * progress))
        return 1.0 - progress

    return f


# ----------------------------------------------------------------------------- the loop


@dataclass
class LoopResult:
    output_dir: str
    final_checkpoint: str
    steps: int
    train_loss: float
    val_loss: float | None
    data_hash: str
    cancelled: bool
    # The trained PeftModel (in memory, for callers such as the benchmark; not on the wire).
    model: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "output_dir": self.output_dir,
            "final_checkpoint": self.final_checkpoint,
            "steps": self.steps,
            # NaN is not JSON: a run cancelled before its first step has no loss yet.
            "train_loss": self.train_loss if math.isfinite(self.train_loss) else None,
            "val_loss": self.val_loss,
            "data_hash": self.data_hash,
            "cancelled": self.cancelled,
        }


def _to_device(batch: dict[str, Any], device: Any) -> dict[str, Any]:
    return {k: (v.to(device) if hasattr(v, "to") else v) for k, v in batch.items()}


def evaluate(
    model: Any, objective: Objective, examples: list[Any], batch_size: int, device: Any
) -> dict[str, Any]:
    import torch

    was_training = model.training
    model.eval()
    order = sorted(range(len(examples)), key=lambda i: examples[i].length)
    stats: dict[str, float] = {}
    units = 0.0
    with torch.no_grad():
        for i in range(0, len(order), batch_size):
            batch = _to_device(objective.collate([examples[j] for j in order[i : i + batch_size]]), device)
            u = objective.units(batch)
            _, s = objective.loss(model, batch, 1.0)
            units += u
            for k, v in s.items():
                stats[k] = stats.get(k, 0.0) + v
    if was_training:
        model.train()
    return objective.summarize(stats, units)


def run_training(
    cfg: TrainConfig,
    ctx: RequestContext,
    objective: Objective,
    base_model: Any,
    train: list[Any],
    val: list[Any] | None,
    data_hash: str,
    kind: str,
) -> LoopResult:
    import torch

    os.makedirs(cfg.output_dir, exist_ok=True)
    remove_stale_temp_folders(cfg.output_dir)
    state: dict[str, Any] | None = None
    if cfg.resume_from:
        state = read_state(cfg.resume_from)
        if state.get("data_hash") != data_hash:
            raise InvalidParams(
                "resume_from was written for different training data (data hash differs); "
                "resume only with the same train/val files",
                param="resume_from",
                checkpoint_hash=state.get("data_hash"),
                data_hash=data_hash,
            )
        if state.get("kind", kind) != kind:
            raise InvalidParams(
                f"resume_from is a {state.get('kind')} checkpoint, not {kind}", param="resume_from"
            )

    torch.manual_seed(cfg.seed)  # LoRA init and dropout are reproducible from the seed
    adapter_dir = cfg.resume_from or cfg.init_adapter
    model = attach_lora(base_model, cfg, adapter_dir)
    model.train()
    objective.prepare(model, train, val)
    device = next(model.parameters()).device
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=cfg.learning_rate, weight_decay=0.0)

    lengths = [e.length for e in train]
    micro_per_epoch = math.ceil(len(train) / cfg.batch_size)
    if cfg.max_steps is not None:
        total_steps = cfg.max_steps
    else:
        total_steps = max(1, math.ceil((cfg.epochs or 1.0) * micro_per_epoch / cfg.grad_accum))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lr_factor(cfg.schedule, cfg.warmup_steps, total_steps)
    )

    step = 0
    if state is not None and cfg.resume_from:
        folder = Path(cfg.resume_from)
        optimizer.load_state_dict(load_torch(folder / "optimizer.pt"))
        scheduler.load_state_dict(load_torch(folder / "scheduler.pt"))
        restore_rng(load_torch(folder / "rng_state.pt"))
        step = int(state["step"])
    metrics = MetricsLog(cfg.output_dir, ctx, step if state is not None else None, cfg.tensorboard)
    last_loss = float((state or {}).get("last_loss") or float("nan"))

    epoch_cache: dict[int, list[list[int]]] = {}

    def micro_batch(index: int) -> list[Any]:
        epoch, pos = divmod(index, micro_per_epoch)
        if epoch not in epoch_cache:
            epoch_cache.clear()
            epoch_cache[epoch] = epoch_batches(lengths, cfg.batch_size, cfg.seed, epoch)
        return [train[i] for i in epoch_cache[epoch][pos]]

    def state_for(at_step: int) -> dict[str, Any]:
        micro = at_step * cfg.grad_accum
        return {
            "kind": kind,
            "step": at_step,
            "total_steps": total_steps,
            "epoch": micro / micro_per_epoch,
            "micro_batch_index": micro,
            "micro_batches_per_epoch": micro_per_epoch,
            "config": cfg.to_json(),
            "data_hash": data_hash,
            "train_path": cfg.train_path,
            "val_path": cfg.val_path,
            "last_loss": last_loss if math.isfinite(last_loss) else None,
        }

    def save(at_step: int, rng: dict[str, Any]) -> str:
        state = state_for(at_step)
        path = save_checkpoint(cfg.output_dir, at_step, model, optimizer, scheduler, rng, state)
        # The facts a client needs about the checkpoint (lineage, metrics), so it need not
        # read trainer_state.json. val_loss is the latest evaluation's, at or before this step.
        ctx.emit(
            "checkpoint",
            step=at_step,
            path=path,
            kind=kind,
            data_hash=data_hash,
            total_steps=total_steps,
            epoch=state["epoch"],
            train_loss=state["last_loss"],
            val_loss=val_loss,
        )
        return path

    val_loss: float | None = None
    final_ckpt = ""
    ctx.progress("train", step, total_steps)
    while step < total_steps:
        rng_at_start = capture_rng()
        started = time.perf_counter()
        # Checked before the batches are built too: an on-policy step samples while collating.
        cancelled = ctx.cancelled
        first = step * cfg.grad_accum
        group = [] if cancelled else [micro_batch(first + k) for k in range(cfg.grad_accum)]
        batches = [objective.collate(g, first + k) for k, g in enumerate(group)]
        denom = sum(objective.units(b) for b in batches) or 1.0
        stats: dict[str, float] = {}
        tokens = 0
        for b in batches:
            if ctx.cancelled:
                cancelled = True
                break
            b = _to_device(b, device)
            loss, s = objective.loss(model, b, denom)
            loss.backward()
            tokens += objective.tokens(b)
            for k, v in s.items():
                stats[k] = stats.get(k, 0.0) + v
        if cancelled:
            optimizer.zero_grad(set_to_none=True)
            final_ckpt = save(step, rng_at_start)
            metrics.close()
            return LoopResult(cfg.output_dir, final_ckpt, step, last_loss, val_loss, data_hash, True, model)
        sync = getattr(objective, "synchronize", None)
        if sync is not None:  # data-parallel processes (distributed.py): sum the step's gradients
            sync(trainable)
        grad_norm = float(torch.nn.utils.clip_grad_norm_(trainable, cfg.max_grad_norm))
        lr = float(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        elapsed = time.perf_counter() - started
        summary = objective.summarize(stats, denom)
        last_loss = summary["loss"]
        metrics.write(
            "train",
            step,
            **summary,
            lr=lr,
            grad_norm=grad_norm,
            tokens_per_s=tokens / elapsed if elapsed > 0 else 0.0,
            epoch=step * cfg.grad_accum / micro_per_epoch,
        )
        ctx.progress("train", step, total_steps)
        if val and cfg.eval_every and step % cfg.eval_every == 0 and step < total_steps:
            val_loss = metrics_eval(metrics, model, objective, val, cfg, device, step)
        if cfg.save_every and step % cfg.save_every == 0 and step < total_steps:
            final_ckpt = save(step, capture_rng())
    if val:
        val_loss = metrics_eval(metrics, model, objective, val, cfg, device, step)
    final_ckpt = save(step, capture_rng())
    metrics.close()
    return LoopResult(cfg.output_dir, final_ckpt, step, last_loss, val_loss, data_hash, False, model)


def metrics_eval(
    metrics: MetricsLog,
    model: Any,
    objective: Objective,
    val: list[Any],
    cfg: TrainConfig,
    device: Any,
    step: int,
) -> float:
    summary = evaluate(model, objective, val, cfg.batch_size, device)
    metrics.write("eval", step, **summary)
    return summary["loss"]
