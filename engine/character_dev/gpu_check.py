"""The measuring half of scripts/gpu-check.sh: on one device, a short SFT and a short kd run
(teacher top-k captured by the engine's own generate, on the same device) and the generation
bench, plus the pytest results the script collected; written as one JSON summary.

    python -m character_dev.gpu_check --device cuda --out bench/results/gpu-check.json \
        [--junit DEVICE=FILE.xml ...] [--model default|tiny] [--steps N] [--no-bench]

`--device cpu --model tiny --no-bench` runs the same code path on a machine without a GPU
(the test of this module does that); the script itself refuses to run without a GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

SYSTEM = (
    "You are Ludwig van Beethoven, the composer. Answer in the first person, with passion, "
    "about music, Vienna, your deafness and fate."
)
QUESTIONS = [
    "What is music to you?",
    "How do you compose?",
    "Tell me about Vienna.",
    "What do you think of Mozart?",
    "How do you live with deafness?",
    "What is your favourite symphony?",
    "Do you believe in fate?",
    "What advice would you give a young pianist?",
]


def machine(device: str) -> dict[str, Any]:
    import torch

    from character_engine.devices import available_devices, dtype_for

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda_build": torch.version.cuda,
        "available_devices": available_devices(),
        "device": device,
        "dtype": dtype_for(device),
    }
    if device == "cuda":
        props = torch.cuda.get_device_properties(0)
        info |= {
            "gpu": torch.cuda.get_device_name(0),
            "gpu_memory_gib": round(props.total_memory / 2**30, 1),
            "gpu_count": torch.cuda.device_count(),
            "bf16_supported": torch.cuda.is_bf16_supported(),
            "sdpa_flash_enabled": torch.backends.cuda.flash_sdp_enabled(),
            "sdpa_mem_efficient_enabled": torch.backends.cuda.mem_efficient_sdp_enabled(),
        }
    return info


def pytest_results(path: str) -> dict[str, Any]:
    """Counts (and failing test names) from a junit XML file pytest wrote."""
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time_s": 0.0}
    failed = []
    for s in suites:
        for key in ("tests", "failures", "errors", "skipped"):
            counts[key] += int(s.get(key, 0))
        counts["time_s"] += float(s.get("time", 0.0))
        for case in s.iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                failed.append(f"{case.get('classname')}::{case.get('name')}")
    counts["time_s"] = round(counts["time_s"], 1)
    return counts | {"failed": failed, "passed": counts["failures"] + counts["errors"] == 0}


class Events:
    def __init__(self) -> None:
        self.metrics: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        if event.get("event") == "metric":
            self.metrics.append(event)


def short_training(model: dict[str, Any], work: Path, steps: int) -> dict[str, Any]:
    """Teacher answers with top-k (generate on this device), then SFT and kd on them."""
    from character_engine.context import RequestContext
    from character_engine.handlers.generate import handle_generate
    from character_engine.handlers.training import handle_train_kd, handle_train_sft
    from character_engine.state import EngineState

    state = EngineState()
    items = [
        {
            "system": SYSTEM,
            "messages": [{"role": "user", "content": q}],
            "topk_path": str(work / "topk" / f"{i}.safetensors"),
        }
        for i, q in enumerate(QUESTIONS)
    ]
    t0 = time.perf_counter()
    gen = handle_generate(
        {
            "model": model,
            "items": items,
            "sampling": {"temperature": 0.6, "top_p": 0.9, "max_new_tokens": 48, "seed": 0},
            "batch_size": 8,
            "capture_topk": {"k": 32},
        },
        RequestContext("gen", lambda _e: None, state),
    )
    teacher = {"wall_s": round(time.perf_counter() - t0, 2), "tokens_per_s": round(gen["tokens_per_s"], 1)}
    rows = [
        {
            "messages": [{"role": "user", "content": q}, {"role": "assistant", "content": o["text"]}],
            "teacher_topk": items[i]["topk_path"],
        }
        for i, (q, o) in enumerate(zip(QUESTIONS, gen["outputs"], strict=True))
        if o["text"].strip()
    ]
    data = work / "train.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out: dict[str, Any] = {"teacher_generation": teacher, "rows": len(rows)}
    for kind, handler in (("sft", handle_train_sft), ("kd", handle_train_kd)):
        events = Events()
        params = {
            "model": model,
            "train_path": str(data),
            "output_dir": str(work / kind),
            "lora": {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": []},
            "learning_rate": 1e-3,
            "warmup_steps": 0,
            "schedule": "constant",
            "batch_size": 4,
            "grad_accum": 1,
            "max_steps": steps,
            "max_length": 256,
            "eval_every": 0,
            "save_every": 0,
            "seed": 0,
        }
        t0 = time.perf_counter()
        result = handler(params, RequestContext(kind, events, state))
        train = [m for m in events.metrics if m["kind"] == "train"]
        out[kind] = {
            "steps": result["steps"],
            "wall_s": round(time.perf_counter() - t0, 2),
            "first_loss": train[0]["loss"],
            "last_loss": train[-1]["loss"],
            "tokens_per_s": round(sum(m["tokens_per_s"] for m in train[1:]) / max(1, len(train) - 1), 1),
        }
    return out


def data_parallel_smoke(model: dict[str, Any], device: str, work: Path) -> dict[str, Any]:
    """Two SFT steps through torchrun with one process in a real process group: the backend
    data-parallel training uses on this device (NCCL on CUDA: its collectives refuse CPU
    tensors), every collective of training/distributed.py once per step."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    params = {
        "model": model,
        "train_path": str(work / "train.jsonl"),
        "output_dir": str(work / "ddp"),
        "lora": {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": []},
        "learning_rate": 1e-3,
        "batch_size": 2,
        "max_steps": 2,
        "max_length": 256,
        "eval_every": 0,
        "save_every": 0,
        "seed": 0,
    }
    path = work / "ddp.json"
    path.write_text(json.dumps(params), encoding="utf-8")
    env = dict(os.environ, CHARACTER_ENGINE_DEVICE=device, CHARACTER_ENGINE_PROCESS_GROUP="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=1", "--master_addr=127.0.0.1"]
    cmd += [
        f"--master_port={port}",
        "-m",
        "character_engine.training.distributed",
        str(path),
        "--kind",
        "sft",
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    results = [x["result"] for x in lines if "result" in x]
    out: dict[str, Any] = {
        "backend": "nccl" if device == "cuda" else "gloo",
        "wall_s": round(time.perf_counter() - t0, 2),
        "passed": proc.returncode == 0 and len(results) == 1 and results[0]["steps"] == 2,
    }
    if not out["passed"]:
        out["stderr_tail"] = proc.stderr[-2000:]
    return out


def generation_bench(device: str, work: Path) -> dict[str, Any]:
    out = work / "bench.json"
    env = dict(os.environ, CHARACTER_ENGINE_DEVICE=device)
    cmd = [sys.executable, "-m", "character_dev.bench", "--only", "generation", "--out", str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0 or not out.exists():
        return {"error": f"bench exited {proc.returncode}", "stderr_tail": proc.stderr[-2000:]}
    data = json.loads(out.read_text(encoding="utf-8"))
    return {"summary": data.get("summary", {}), "generation": data.get("generation", {})}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", required=True, choices=["cuda", "mps", "cpu"])
    parser.add_argument("--out", required=True)
    parser.add_argument("--junit", action="append", default=[], help="NAME=FILE.xml from pytest")
    parser.add_argument("--model", default="default", choices=["default", "tiny"])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--no-bench", action="store_true")
    args = parser.parse_args(argv)
    # Before anything selects the device (devices.select_device reads this once).
    os.environ["CHARACTER_ENGINE_DEVICE"] = args.device
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as tmp:
        work = Path(tmp)
        if args.model == "tiny":
            from .tiny import build_tiny_model

            model: dict[str, Any] = {"source": "local", "path": build_tiny_model(work / "tiny", seed=0)}
        else:
            model = {"source": "default"}
        summary: dict[str, Any] = {
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": machine(args.device),
            "model": model if args.model == "tiny" else "SmolLM2-135M-Instruct (embedded)",
            "pytest": {},
        }
        for spec in args.junit:
            name, _, path = spec.partition("=")
            summary["pytest"][name] = pytest_results(path) if os.path.exists(path) else {"missing": path}
        summary["training"] = short_training(model, work, args.steps)
        summary["data_parallel"] = data_parallel_smoke(model, args.device, work)
        summary["generation_bench"] = "skipped" if args.no_bench else generation_bench(args.device, work)
    summary["wall_s"] = round(time.perf_counter() - started, 1)
    summary["passed"] = (
        summary["data_parallel"]["passed"]
        and all(r.get("passed", False) for r in summary["pytest"].values())
        and not (isinstance(summary["generation_bench"], dict) and "error" in summary["generation_bench"])
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"out": args.out, "passed": summary["passed"], "wall_s": summary["wall_s"]}))
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
