"""tinker_train: the local flat loop (training/loop.py) with Tinker doing the arithmetic.

Same data (the local objectives' loaders, tokenized with the tokenizer Tinker names for its
base model), same micro-batch order (data.epoch_batches), same LR schedule (computed here and
sent with each optim_step: AdamW with torch's defaults, beta2 0.999 and eps 1e-8, rather than
Tinker's 0.95 and 1e-12, and the local loop's gradient clipping), same metric rows
(metrics.jsonl and `metric` events) and `checkpoint` events; a checkpoint's path is the
tinker:// path of TrainingClient.save_state, whose user metadata carries what the local
trainer_state.json holds (kind, step, data hash...), so a resume reads it back from the service.

When training ends, the final weights are exported (save_weights_external: a PEFT adapter)
and downloaded into output_dir/adapter/, with tinker.json naming where they came from: the
TrainResult's final_checkpoint is that local folder (chat, review, evaluation and export use
it like any local adapter) and remote_checkpoint the tinker:// path.

LoRA on Tinker: the rank is the run's; which layers train follows lora.target_modules
(attention projections -> train_attn, MLP -> train_mlp, lm_head -> train_unembed; Tinker
cannot train a subset of the attention projections); alpha and dropout are the service's.
The SDK takes no alpha: Tinker's is TINKER_LORA_ALPHA (the cookbook's hyperparam_utils assume
32; the service does not document it), so with the run's alpha a the same learning rate moves
the weights about TINKER_LORA_ALPHA / a times as far as locally. The LR is sent unscaled (so a
run reads the same as its config) and the difference is logged and recorded in the result.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

from ..context import RequestContext
from ..errors import InvalidParams
from ..training.config import TrainConfig, parse_config
from ..training.data import data_hash, epoch_batches
from ..training.loop import lr_factor
from ..training.metrics import MetricsLog
from .objectives import OBJECTIVES
from .sdk import TinkerSettings, download_files, parse_settings, remote_errors, rest_client, sdk, session

ATTN = {"q_proj", "k_proj", "v_proj", "o_proj", "qkv_proj", "c_attn", "query_key_value"}
MLP = {"gate_proj", "up_proj", "down_proj", "c_fc", "dense", "fc1", "fc2"}
# AdamW as torch (and so the local loop) defaults it.
BETAS, EPS = (0.9, 0.999), 1e-8
# LoRA alpha as Tinker applies it (see the module docstring): recorded, never sent.
TINKER_LORA_ALPHA = 32.0
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


def switches(cfg: TrainConfig) -> dict[str, bool]:
    targets = set(cfg.lora.target_modules) or {"q_proj"}
    return {
        "train_attn": bool(targets & ATTN),
        "train_mlp": bool(targets & MLP),
        "train_unembed": "lm_head" in targets,
    }


def _tinker_source(params: dict[str, Any], name: str) -> str | None:
    """A tinker:// path given as resume_from / init_adapter, or read from a pulled adapter's
    tinker.json; the local parser then sees no such path."""
    value = params.pop(name, None)
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.startswith("tinker://"):
        return value
    marker = Path(str(value)) / "tinker.json"
    if marker.exists():
        return str(json.loads(marker.read_text(encoding="utf-8"))["tinker_path"])
    raise InvalidParams(
        f"'{name}' must be a tinker:// path or an adapter pulled from Tinker (with tinker.json): {value}",
        param=name,
    )


def _remote_state(settings: TinkerSettings, path: str) -> dict[str, str]:
    """The user metadata a checkpoint was saved with."""
    run_id = path[len("tinker://") :].split("/", 1)[0]
    for c in rest_client(settings).list_checkpoints(run_id).result().checkpoints:
        if c.tinker_path == path:
            return dict(c.user_metadata or {})
    raise InvalidParams(f"no Tinker checkpoint {path}", param="resume_from")


def run_tinker_training(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    params = dict(params)
    kind = params.pop("objective", None)
    if kind not in OBJECTIVES:
        raise InvalidParams(f"'objective' must be one of {', '.join(OBJECTIVES)}", param="objective")
    settings = parse_settings(params)
    resume = _tinker_source(params, "resume_from")
    init = _tinker_source(params, "init_adapter")
    params.pop("tinker", None)
    cfg = parse_config(params)
    objective_cls = OBJECTIVES[kind]
    objective_cls.local.check_config(cfg)
    types = sdk().types
    digest = data_hash(cfg.train_path, cfg.val_path)
    ctx.progress("load", 0, 2, f"starting a Tinker training client for {settings.base_model}")
    with remote_errors(settings), session(settings) as service:
        state: dict[str, str] = {}
        if resume:
            state = _remote_state(settings, resume)
            if state.get("data_hash") != digest or state.get("kind") != kind:
                raise InvalidParams(
                    "resume_from was written for other data or another objective", param="resume_from"
                )
            tc = service.create_training_client_from_state_with_optimizer(resume).result()
        elif init:
            tc = service.create_training_client_from_state(init).result()
        else:
            tc = service.create_lora_training_client(
                settings.base_model, rank=cfg.lora.r, seed=cfg.seed, **switches(cfg)
            ).result()
        tokenizer = tc.get_tokenizer()
        ctx.progress("load", 1, 2, objective_cls.local.loading_message)
        train = objective_cls.local.load_examples(cfg.train_path, tokenizer, cfg.max_length, "train_path")
        val = (
            objective_cls.local.load_examples(cfg.val_path, tokenizer, cfg.max_length, "val_path")
            if cfg.val_path
            else None
        )
        objective = objective_cls(types, cfg, tokenizer, service, settings)
        ctx.progress("load", 2, 2)
        if cfg.lora.alpha != TINKER_LORA_ALPHA:
            ctx.log(
                f"Tinker applies LoRA alpha {TINKER_LORA_ALPHA:g}, not this run's {cfg.lora.alpha:g}: "
                f"the same learning rate steps about {TINKER_LORA_ALPHA / cfg.lora.alpha:.2g}x as far "
                "as a local run (sent unscaled)",
                level="warning",
            )
        return _loop(cfg, ctx, kind, objective, tc, service, settings, train, val, digest, state, types)


def _loop(
    cfg: TrainConfig,
    ctx: RequestContext,
    kind: str,
    objective: Any,
    tc: Any,
    service: Any,
    settings: TinkerSettings,
    train: list[Any],
    val: list[Any] | None,
    digest: str,
    state: dict[str, str],
    types: Any,
) -> dict[str, Any]:
    os.makedirs(cfg.output_dir, exist_ok=True)
    lengths = [e.length for e in train]
    micro_per_epoch = math.ceil(len(train) / cfg.batch_size)
    total = cfg.max_steps or max(1, math.ceil((cfg.epochs or 1.0) * micro_per_epoch / cfg.grad_accum))
    factor = lr_factor(cfg.schedule, cfg.warmup_steps, total)
    step = int(state.get("step", 0))
    metrics = MetricsLog(cfg.output_dir, ctx, step if state else None)
    last_loss = float(state.get("last_loss") or "nan")
    val_loss: float | None = None
    batches: dict[int, list[list[int]]] = {}
    # The service refuses a second save under one name (409): a step saved periodically and
    # then again on a cancel or at the end reuses the first save.
    saved: dict[int, str] = {}

    def micro_batch(index: int) -> list[Any]:
        epoch, pos = divmod(index, micro_per_epoch)
        if epoch not in batches:
            batches.clear()
            batches[epoch] = epoch_batches(lengths, cfg.batch_size, cfg.seed, epoch)
        return [train[i] for i in batches[epoch][pos]]

    def save(at: int) -> str:
        if at in saved:
            return saved[at]
        epoch = at * cfg.grad_accum / micro_per_epoch
        meta = {
            "kind": kind,
            "step": str(at),
            "total_steps": str(total),
            "epoch": str(epoch),
            "data_hash": digest,
            "last_loss": "" if not math.isfinite(last_loss) else repr(last_loss),
            "base_model": settings.base_model,
        }
        path = tc.save_state(f"step-{at:06d}", user_metadata=meta).result().path
        saved[at] = path
        ctx.emit(
            "checkpoint",
            step=at,
            path=path,
            kind=kind,
            data_hash=digest,
            total_steps=total,
            epoch=epoch,
            train_loss=last_loss if math.isfinite(last_loss) else None,
            val_loss=val_loss,
        )
        return path

    def evaluate(at: int) -> float:
        summary = objective.evaluate(tc, val)
        metrics.write("eval", at, **summary)
        return float(summary["loss"])

    def result(final: str, remote: str, cancelled: bool) -> dict[str, Any]:
        return {
            "output_dir": cfg.output_dir,
            "final_checkpoint": final,
            "remote_checkpoint": remote,
            "steps": step,
            "train_loss": last_loss if math.isfinite(last_loss) else None,
            "val_loss": val_loss,
            "data_hash": digest,
            "cancelled": cancelled,
            "lora_alpha": {"run": cfg.lora.alpha, "tinker": TINKER_LORA_ALPHA, "sent": False},
        }

    ctx.progress("train", step, total)
    while step < total:
        if ctx.cancelled:
            path = save(step)
            return result(path, path, True)
        started = time.perf_counter()
        first = step * cfg.grad_accum
        groups = [micro_batch(first + k) for k in range(cfg.grad_accum)]
        lr = cfg.learning_rate * factor(step)
        stats, units, tokens = objective.step(tc, groups, first)
        reply = tc.optim_step(
            types.AdamParams(
                learning_rate=lr, beta1=BETAS[0], beta2=BETAS[1], eps=EPS, grad_clip_norm=cfg.max_grad_norm
            )
        ).result()
        step += 1
        elapsed = time.perf_counter() - started
        summary = objective.summarize(stats, units)
        last_loss = float(summary["loss"])
        extra = {}
        grad_norm = (getattr(reply, "metrics", None) or {}).get("grad_norm")
        if grad_norm is not None:
            extra["grad_norm"] = float(grad_norm)
        metrics.write(
            "train",
            step,
            **summary,
            lr=lr,
            **extra,
            tokens_per_s=tokens / elapsed if elapsed > 0 else 0.0,
            epoch=step * cfg.grad_accum / micro_per_epoch,
        )
        ctx.progress("train", step, total)
        if val and cfg.eval_every and step % cfg.eval_every == 0 and step < total:
            val_loss = evaluate(step)
        if cfg.save_every and step % cfg.save_every == 0 and step < total:
            save(step)
    if val:
        val_loss = evaluate(step)
    remote = save(step)
    ctx.progress("download", 0, 1, "exporting the adapter from Tinker")
    folder = pull_adapter(service, tc, Path(cfg.output_dir) / "adapter", remote, settings, ctx)
    ctx.progress("download", 1, 1)
    return result(folder, remote, False)


def pull_adapter(
    service: Any, tc: Any, dest: Path, source: str, settings: TinkerSettings, ctx: RequestContext
) -> str:
    """Export tc's weights as a PEFT adapter and download it into dest (with tinker.json)."""
    external = tc.save_weights_external(f"export-{int(time.time() * 1000)}").result().path
    return download_external(service, external, dest, source, settings, ctx)


def download_external(
    service: Any, external: str, dest: Path, source: str, settings: TinkerSettings, ctx: RequestContext
) -> str:
    urls = rest_client(settings).get_external_weights_urls(external).result().urls
    dest.mkdir(parents=True, exist_ok=True)
    files = download_files(urls, dest, lambda: ctx.cancelled)
    missing = [f for f in ADAPTER_FILES if f not in files]
    if missing:
        raise InvalidParams(
            f"{external} is not a PEFT adapter: {', '.join(missing)} missing", param="tinker_path"
        )
    (dest / "tinker.json").write_text(
        json.dumps(
            {
                "tinker_path": source,
                "external_path": external,
                "base_model": settings.base_model,
                "files": files,
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    return str(dest)
