"""The typed training config, parsed and validated from TrainSftParams / TrainDpoParams /
TrainKdParams / TrainOnPolicyParams (src-shared/engine-protocol.ts). Every failure is
InvalidParams naming the parameter. Settings only one objective uses are range-checked by
its `check_config` (dpo.py, on_policy.py)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import InvalidParams
from ..models.specs import parse_spec

SCHEDULES = ("linear", "cosine", "constant")


@dataclass(frozen=True)
class LoraSettings:
    r: int = 16
    alpha: float = 32.0
    dropout: float = 0.05
    # Empty means the engine's default for the architecture (see lora.default_target_modules).
    target_modules: tuple[str, ...] = ()


@dataclass(frozen=True)
class SamplingSettings:
    """How the on-policy student samples its answers (the loss itself is at temperature 1)."""

    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 128


@dataclass(frozen=True)
class TeacherSettings:
    """The on-policy teacher: `system` is the constitution it answers with; `model` None
    means the student's own base with the adapter disabled."""

    system: str
    model: dict[str, Any] | None = None


@dataclass(frozen=True)
class TrainConfig:
    model: dict[str, Any]
    train_path: str
    output_dir: str
    lora: LoraSettings = field(default_factory=LoraSettings)
    val_path: str | None = None
    init_adapter: str | None = None
    resume_from: str | None = None
    learning_rate: float = 1e-4
    warmup_steps: int = 0
    schedule: str = "linear"
    batch_size: int = 8
    grad_accum: int = 1
    max_steps: int | None = None
    epochs: float | None = None
    max_length: int = 1024
    eval_every: int = 0  # optimizer steps; 0 = only at the end
    save_every: int = 0  # optimizer steps; 0 = only at the end
    seed: int = 0
    # DPO only (checked by DpoObjective.check_config).
    beta: float = 0.1
    nll_coef: float = 0.0
    # On-policy only (checked by OnPolicyObjective.check_config).
    teacher: TeacherSettings | None = None
    sampling: SamplingSettings = field(default_factory=SamplingSettings)
    kd_weight: float = 0.0
    # Gradient clipping threshold (global L2 norm); fixed, like TRL's default.
    max_grad_norm: float = 1.0
    # Mirror every metric row to TensorBoard event files in output_dir/tensorboard (off by default).
    tensorboard: bool = False

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["lora"]["target_modules"] = list(self.lora.target_modules)
        return data


def _num(params: dict[str, Any], name: str, default: Any, kind: type = float, prefix: str = "") -> Any:
    value = params.get(name)
    label = prefix + name
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidParams(f"'{label}' must be a number", param=label)
    if kind is int:
        if int(value) != value:
            raise InvalidParams(f"'{label}' must be an integer", param=label)
        return int(value)
    return float(value)


def _path(params: dict[str, Any], name: str, required: bool, must_exist: bool) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise InvalidParams(f"missing parameter '{name}'", param=name)
        return None
    if not isinstance(value, str):
        raise InvalidParams(f"'{name}' must be a path string", param=name)
    if must_exist and not os.path.exists(value):
        raise InvalidParams(f"'{name}' does not exist: {value}", param=name)
    return value


def parse_config(params: dict[str, Any]) -> TrainConfig:
    if not isinstance(params, dict):
        raise InvalidParams("params must be an object", param="params")
    model = parse_spec(params.get("model"), "model")
    train_path = _path(params, "train_path", True, True)
    val_path = _path(params, "val_path", False, True)
    output_dir = _path(params, "output_dir", True, False)
    init_adapter = _path(params, "init_adapter", False, True)
    resume_from = _path(params, "resume_from", False, True)

    lora_raw = params.get("lora") or {}
    if not isinstance(lora_raw, dict):
        raise InvalidParams("'lora' must be an object", param="lora")
    r = _num(lora_raw, "r", 16, int, "lora.")
    if r < 1:
        raise InvalidParams(f"'lora.r' (rank) must be >= 1, got {r}", param="lora.r")
    alpha = _num(lora_raw, "alpha", 2.0 * r, float, "lora.")
    if alpha <= 0:
        raise InvalidParams(f"'lora.alpha' must be > 0, got {alpha}", param="lora.alpha")
    dropout = _num(lora_raw, "dropout", 0.05, float, "lora.")
    if not (0 <= dropout < 1):
        raise InvalidParams(f"'lora.dropout' must be in [0, 1), got {dropout}", param="lora.dropout")
    targets = lora_raw.get("target_modules") or []
    if not isinstance(targets, list) or not all(isinstance(t, str) and t for t in targets):
        raise InvalidParams(
            "'lora.target_modules' must be a list of module names", param="lora.target_modules"
        )

    lr = _num(params, "learning_rate", 1e-4)
    if not lr > 0:
        raise InvalidParams(f"'learning_rate' must be > 0, got {lr}", param="learning_rate")
    warmup = _num(params, "warmup_steps", 0, int)
    if warmup < 0:
        raise InvalidParams("'warmup_steps' must be >= 0", param="warmup_steps")
    schedule = params.get("schedule") or "linear"
    if schedule not in SCHEDULES:
        raise InvalidParams(f"'schedule' must be one of {', '.join(SCHEDULES)}", param="schedule")
    batch_size = _num(params, "batch_size", 8, int)
    if batch_size < 1:
        raise InvalidParams("'batch_size' must be >= 1", param="batch_size")
    grad_accum = _num(params, "grad_accum", 1, int)
    if grad_accum < 1:
        raise InvalidParams("'grad_accum' must be >= 1", param="grad_accum")
    max_steps = _num(params, "max_steps", None, int)
    if max_steps is not None and max_steps < 1:
        raise InvalidParams("'max_steps' must be >= 1", param="max_steps")
    epochs = _num(params, "epochs", None)
    if epochs is not None and not epochs > 0:
        raise InvalidParams("'epochs' must be > 0", param="epochs")
    if max_steps is None and epochs is None:
        epochs = 1.0
    max_length = _num(params, "max_length", 1024, int)
    if max_length < 8:
        raise InvalidParams("'max_length' must be >= 8 tokens", param="max_length")
    eval_every = _num(params, "eval_every", 0, int)
    save_every = _num(params, "save_every", 0, int)
    if eval_every < 0:
        raise InvalidParams("'eval_every' must be >= 0", param="eval_every")
    if save_every < 0:
        raise InvalidParams("'save_every' must be >= 0", param="save_every")
    seed = _num(params, "seed", 0, int)
    beta = _num(params, "beta", 0.1)
    nll_coef = _num(params, "nll_coef", 0.0)
    kd_weight = _num(params, "kd_weight", 0.0)
    tensorboard = params.get("tensorboard", False)
    if not isinstance(tensorboard, bool):
        raise InvalidParams("'tensorboard' must be true or false", param="tensorboard")
    return TrainConfig(
        model=model,
        train_path=train_path,  # type: ignore[arg-type]
        val_path=val_path,
        output_dir=output_dir,  # type: ignore[arg-type]
        lora=LoraSettings(r=r, alpha=alpha, dropout=float(dropout), target_modules=tuple(targets)),
        init_adapter=init_adapter,
        resume_from=resume_from,
        learning_rate=lr,
        warmup_steps=warmup,
        schedule=schedule,
        batch_size=batch_size,
        grad_accum=grad_accum,
        max_steps=max_steps,
        epochs=epochs,
        max_length=max_length,
        eval_every=eval_every,
        save_every=save_every,
        seed=seed,
        beta=beta,
        nll_coef=nll_coef,
        teacher=_teacher(params.get("teacher")),
        sampling=_sampling(params.get("sampling")),
        kd_weight=kd_weight,
        tensorboard=tensorboard,
    )


def _teacher(raw: Any) -> TeacherSettings | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InvalidParams("'teacher' must be an object {system, model?}", param="teacher")
    system = raw.get("system")
    if not isinstance(system, str) or not system.strip():
        raise InvalidParams("'teacher.system' must be a non-empty string", param="teacher.system")
    model = parse_spec(raw["model"], "teacher.model") if raw.get("model") is not None else None
    return TeacherSettings(system=system, model=model)


def _sampling(raw: Any) -> SamplingSettings:
    if raw is None:
        return SamplingSettings()
    if not isinstance(raw, dict):
        raise InvalidParams("'sampling' must be an object", param="sampling")
    temperature = _num(raw, "temperature", 1.0, float, "sampling.")
    if not 0 < temperature <= 2:
        raise InvalidParams("'sampling.temperature' must be in (0, 2]", param="sampling.temperature")
    top_p = _num(raw, "top_p", 1.0, float, "sampling.")
    if not 0 < top_p <= 1:
        raise InvalidParams("'sampling.top_p' must be in (0, 1]", param="sampling.top_p")
    max_new = _num(raw, "max_new_tokens", 128, int, "sampling.")
    if max_new < 1:
        raise InvalidParams("'sampling.max_new_tokens' must be >= 1", param="sampling.max_new_tokens")
    return SamplingSettings(temperature=temperature, top_p=top_p, max_new_tokens=max_new)
