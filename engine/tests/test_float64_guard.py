"""The engine's scoring, kd and generation paths never put a float64 tensor on the device:
Apple's MPS has none, so a float64 there fails a user's first evaluation on a Mac. Run here on
the CPU under _float64_guard, which treats the would-be device as MPS does."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from _float64_guard import DeviceFloat64Error, NoDeviceFloat64
from _helpers import MakeCtx
from test_kd import kd_params, run_kd
from test_kl_metrics import ITEMS

from character_engine.handlers.generate import handle_generate
from character_engine.handlers.scoring import handle_kl_metrics


def test_the_guard_catches_a_float64_device_sum_and_allows_it_on_the_host() -> None:
    weights = torch.nn.Linear(4, 4).weight  # a "device" tensor: a model's parameter
    with NoDeviceFloat64():
        assert float(weights.sum(dtype=torch.float32).cpu().double()) == pytest.approx(float(weights.sum()))
        assert torch.tensor([1.0, 2.0], dtype=torch.float64).sum() == 3.0  # made on the host
        with pytest.raises(DeviceFloat64Error):
            weights.sum(dtype=torch.float64)
        with pytest.raises(DeviceFloat64Error):
            torch.zeros(2, dtype=torch.float64, device=weights.device)


def test_kl_metrics_keeps_float64_off_the_device(tiny_model_dir: str, make_ctx: MakeCtx) -> None:
    spec = {"source": "local", "path": tiny_model_dir}
    with NoDeviceFloat64():
        out = handle_kl_metrics(
            {
                "items": ITEMS,
                "teacher": {"model": spec, "system": "You are Beethoven."},
                "students": [{"model": spec}],
            },
            make_ctx(),
        )["items"]
    assert all(row["students"][0]["kl"] > 0 for row in out if row["tokens"] > 1)


def test_generation_with_topk_capture_keeps_float64_off_the_device(
    tiny_model_dir: str, make_ctx: MakeCtx, tmp_path: Path
) -> None:
    items = [
        {"messages": [{"role": "user", "content": q}], "topk_path": str(tmp_path / f"{i}.st")}
        for i, q in enumerate(["Hello!", "Tell me about Vienna."])
    ]
    params = {
        "model": {"source": "local", "path": tiny_model_dir},
        "items": items,
        "sampling": {"temperature": 0.8, "top_p": 0.9, "max_new_tokens": 6, "seed": 1},
        "capture_topk": {"k": 4},
    }
    with NoDeviceFloat64():
        out = handle_generate(params, make_ctx())
    assert all(o["completion_tokens"] > 0 for o in out["outputs"])


def test_kd_training_keeps_float64_off_the_device(tiny_model_dir: str, tmp_path: Path) -> None:
    params = kd_params(tiny_model_dir, tmp_path, max_steps=2, batch_size=4)
    with NoDeviceFloat64():
        result, rec = run_kd(params)
    assert result["steps"] == 2 and rec.metrics("eval")
