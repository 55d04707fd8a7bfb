"""LoRA DPO on the tiny random model: reward accuracy rises, metrics, SFT init, resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_sft import Recorder, write_rows

from character_engine.errors import InvalidParams


def dpo_rows(n: int = 8) -> list[dict[str, Any]]:
    return [
        {
            "prompt": [{"role": "user", "content": f"Question {i}: what do you love?"}],
            "chosen": f"I love the symphony number {i} in Vienna.",
            "rejected": f"You dislike a simple song {i} at night.",
        }
        for i in range(n)
    ]


def dpo_params(model_dir: str, tmp: Path, **over: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "model": {"source": "local", "path": model_dir},
        "train_path": write_rows(tmp / "pairs.jsonl", dpo_rows()),
        "val_path": write_rows(tmp / "val_pairs.jsonl", dpo_rows(2)),
        "output_dir": str(tmp / "dpo"),
        "lora": {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": []},
        "learning_rate": 5e-4,
        "warmup_steps": 0,
        "schedule": "constant",
        "batch_size": 4,
        "grad_accum": 1,
        "max_steps": 12,
        "max_length": 128,
        "eval_every": 0,
        "save_every": 0,
        "seed": 0,
        "beta": 0.1,
        "nll_coef": 0.0,
    }
    params.update(over)
    return params


def run_dpo(params: dict[str, Any], rec: Recorder | None = None) -> tuple[dict[str, Any], Recorder]:
    from character_engine.handlers.training import handle_train_dpo

    rec = rec or Recorder()
    return handle_train_dpo(params, rec.ctx), rec


def test_dpo_reward_accuracy_rises(tiny_model_dir: str, tmp_path: Path) -> None:
    result, rec = run_dpo(dpo_params(tiny_model_dir, tmp_path))
    train = rec.metrics()
    assert len(train) == 12 and result["steps"] == 12
    # At step 1 the adapter is zero (lora_B = 0): policy == reference, every margin is 0.
    assert train[0]["reward_accuracy"] == 0.0 and train[0]["reward_margin"] == pytest.approx(0.0, abs=1e-6)
    assert train[0]["loss"] == pytest.approx(0.6931, abs=1e-3)  # -log(sigmoid(0))
    assert all(m["reward_accuracy"] >= 0.75 for m in train[-4:])
    assert train[-1]["reward_margin"] > 0 and train[-1]["loss"] < train[0]["loss"]
    evals = rec.metrics("eval")
    assert evals and {"loss", "reward_accuracy", "reward_margin"} <= set(evals[-1])
    assert Path(result["final_checkpoint"], "adapter_model.safetensors").is_file()


def test_dpo_from_sft_adapter_with_nll(tiny_model_dir: str, tmp_path: Path) -> None:
    from test_sft import base_params, run_sft

    sft, _ = run_sft(base_params(tiny_model_dir, tmp_path, max_steps=6))
    params = dpo_params(
        tiny_model_dir, tmp_path, init_adapter=sft["final_checkpoint"], nll_coef=0.1, max_steps=4
    )
    result, rec = run_dpo(params)
    first = rec.metrics()[0]
    # The reference is the base without the adapter, so the SFT adapter already gives non-zero rewards.
    assert first["reward_margin"] != pytest.approx(0.0, abs=1e-6)
    # The NLL term adds a positive, length-normalised loss on chosen replies.
    assert first["loss"] > 0.1 and result["steps"] == 4


def test_dpo_resume_reproduces_next_step(tiny_model_dir: str, tmp_path: Path) -> None:
    full, rec_full = run_dpo(dpo_params(tiny_model_dir, tmp_path, max_steps=4, save_every=2, batch_size=2))
    ckpt = tmp_path / "dpo" / "checkpoints" / "step-000002"
    resumed, rec = run_dpo(
        dpo_params(
            tiny_model_dir,
            tmp_path,
            max_steps=4,
            batch_size=2,
            output_dir=str(tmp_path / "r"),
            resume_from=str(ckpt),
        )
    )
    a = {m["step"]: m["loss"] for m in rec_full.metrics()}
    b = {m["step"]: m["loss"] for m in rec.metrics()}
    assert (
        sorted(b) == [3, 4]
        and b[3] == pytest.approx(a[3], abs=1e-5)
        and b[4] == pytest.approx(a[4], abs=1e-5)
    )


@pytest.mark.parametrize(("override", "param"), [({"beta": 0}, "beta"), ({"nll_coef": -1}, "nll_coef")])
def test_dpo_invalid_params(
    tiny_model_dir: str, tmp_path: Path, override: dict[str, Any], param: str
) -> None:
    with pytest.raises(InvalidParams) as err:
        run_dpo(dpo_params(tiny_model_dir, tmp_path, **override))
    assert err.value.detail["param"] == param
