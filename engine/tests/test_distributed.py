"""Data-parallel training through torchrun: two CPU processes on the gloo backend must give the
loss one process gives on the same global batch (the acceptance bound is 1%; the only
difference is the order of summation), for SFT with gradient accumulation and for kd, with
micro-batches that do not split evenly between the processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_kd import kd_params
from test_sft import base_params, sft_rows, write_rows

ENGINE_DIR = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch(params: dict[str, Any], kind: str, tmp: Path, processes: int) -> tuple[list[dict], dict]:
    """(the metric events, the result) of one launch; processes=1 runs without torchrun."""
    path = tmp / f"params-{kind}-{processes}.json"
    path.write_text(json.dumps(params), encoding="utf-8")
    module = ["-m", "character_engine.training.distributed", str(path), "--kind", kind]
    if processes > 1:
        argv = [
            "-m",
            "torch.distributed.run",
            f"--nproc_per_node={processes}",
            "--master_addr=127.0.0.1",
            f"--master_port={free_port()}",
            *module,
        ]
    else:
        argv = module
    env = dict(
        os.environ,
        CHARACTER_ENGINE_DEVICE="cpu",
        CHARACTER_ENGINE_THREADS="1",
        OMP_NUM_THREADS="1",
        HF_HUB_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
    )
    done = subprocess.run(
        [sys.executable, *argv], cwd=ENGINE_DIR, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    metrics = [e for e in lines if e.get("event") == "metric"]
    results = [e["result"] for e in lines if "result" in e]
    assert len(results) == 1, done.stdout[-2000:]
    return metrics, results[0]


def losses(metrics: list[dict], kind: str, key: str = "loss") -> list[float]:
    return [m[key] for m in metrics if m["kind"] == kind]


def test_two_gloo_processes_give_the_single_process_loss(tiny_model_dir: str, tmp_path: Path) -> None:
    # 10 rows in micro-batches of 4 (4, 4, 2), 2 micro-batches per step: shards of 2, 2 and 1.
    params = base_params(
        tiny_model_dir,
        tmp_path,
        train_path=write_rows(tmp_path / "train10.jsonl", sft_rows(10)),
        val_path=write_rows(tmp_path / "val3.jsonl", sft_rows(3)),
        grad_accum=2,
        max_steps=4,
        warmup_steps=0,
        eval_every=2,
    )
    one, one_result = launch(dict(params, output_dir=str(tmp_path / "one")), "sft", tmp_path, 1)
    two, two_result = launch(dict(params, output_dir=str(tmp_path / "two")), "sft", tmp_path, 2)
    for kind in ("train", "eval"):
        a, b = losses(one, kind), losses(two, kind)
        assert len(a) == len(b) > 0
        for x, y in zip(a, b, strict=True):
            assert y == pytest.approx(x, rel=1e-2)  # the acceptance bound
            assert y == pytest.approx(x, rel=1e-4)  # what summation order actually costs
    # The step's tokens are counted over both processes.
    assert [m["tokens_per_s"] > 0 for m in two if m["kind"] == "train"] == [True] * 4
    assert two_result["train_loss"] == pytest.approx(one_result["train_loss"], rel=1e-4)
    # Rank 0 owns the output folder: metrics.jsonl and the final checkpoint are there.
    assert Path(two_result["final_checkpoint"]).parent.parent == tmp_path / "two"
    assert (tmp_path / "two" / "metrics.jsonl").exists()


def test_kd_over_two_processes_matches_one(tiny_model_dir: str, tmp_path: Path) -> None:
    params = kd_params(tiny_model_dir, tmp_path, batch_size=3, max_steps=3, learning_rate=5e-3)
    one, _ = launch(dict(params, output_dir=str(tmp_path / "one")), "kd", tmp_path, 1)
    two, _ = launch(dict(params, output_dir=str(tmp_path / "two")), "kd", tmp_path, 2)
    for key in ("loss", "nll"):
        for x, y in zip(losses(one, "train", key), losses(two, "train", key), strict=True):
            assert y == pytest.approx(x, rel=1e-4)


class _Inner:
    loading_message = "fake"

    def units(self, batch: dict) -> float:
        return 3.0

    def tokens(self, batch: dict) -> int:
        return 5

    def summarize(self, stats: dict, units: float) -> dict:
        return dict(stats, units=units)


def test_collectives_use_the_backends_device(monkeypatch: pytest.MonkeyPatch) -> None:
    """NCCL refuses CPU tensors: every all-reduce must hand the backend a tensor on its device.
    A fake backend that refuses host tensors stands in for NCCL (no GPU here)."""
    import torch
    import torch.distributed as dist
    from _float64_guard import Placement, on_host

    from character_engine.training.distributed import Group, Sharded, collective_device

    seen: list[str] = []

    def all_reduce(t: Any, op: Any = None) -> None:
        if on_host(t):
            raise RuntimeError("No backend type associated with device type cpu")
        seen.append(str(t.dtype))
        t.mul_(2)  # two processes with the same values

    monkeypatch.setattr(dist, "all_reduce", all_reduce)
    monkeypatch.setattr(
        dist, "all_gather_object", lambda out, obj: out.__setitem__(slice(None), [obj] * len(out))
    )
    sharded = Sharded(_Inner(), Group(0, 2, torch.device("cpu")))  # type: ignore[arg-type]
    layer = torch.nn.Linear(3, 2)
    layer(torch.ones(1, 3)).sum().backward()
    with Placement():
        assert sharded.units({"input_ids": []}) == 6.0
        assert sharded.tokens({"input_ids": []}) == 10
        assert sharded.summarize({"loss_sum": 1.5}, 6.0) == {"loss_sum": 3.0, "units": 6.0}
        sharded.synchronize(list(layer.parameters()))
    assert len(seen) == 4
    assert collective_device("gloo") == torch.device("cpu")
