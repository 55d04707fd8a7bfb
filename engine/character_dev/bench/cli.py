"""`python -m character_dev.bench`: runs each phase in a subprocess and writes the result."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .data import resources_dir, sft_rows
from .distill import DISTILL_RESULTS, format_distill, phase_kd_vs_sft, phase_on_policy, summarize_distill
from .distill import FULL as DISTILL_FULL
from .distill import QUICK as DISTILL_QUICK
from .limit import machine
from .phases import phase_generation, phase_sft_engine, phase_sft_trl
from .report import PHASE_RESULTS, format_table, summarize


def _run_phase(
    name: str, spec: dict[str, Any], settings: dict[str, Any], data: str, work: str, resources: Path
) -> dict[str, Any]:
    out = os.path.join(work, f"{name}.json")
    cmd = [sys.executable, "-m", "character_dev.bench", "--phase", name, "--phase-out", out]
    cmd += ["--spec", json.dumps(spec), "--settings", json.dumps(settings), "--data", data, "--work", work]
    cmd += ["--resources", str(resources)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        return {"error": f"phase {name} failed (exit {proc.returncode})", "stderr_tail": proc.stderr[-3000:]}
    result = json.loads(Path(out).read_text(encoding="utf-8"))
    result["phase_wall_s"] = time.perf_counter() - t0
    return result


def run_bench(
    quick: bool, work: str, resources: Path, phases: tuple[str, ...] = ("generation", "sft", "distill")
) -> dict[str, Any]:
    if quick:
        from ..tiny import build_tiny_model

        model_dir = build_tiny_model(os.path.join(work, "tiny-model"), seed=0, hidden=64, layers=2)
        spec: dict[str, Any] = {"source": "local", "path": model_dir}
        settings = {"gen_items": 8, "gen_tokens": 8, "gen_batches": [4, 8], "ttft_repeats": 2}
        settings |= {"capture_k": 64, "capture_repeats": 1, "bf16_items": 4, "bf16_tokens": 4}
        settings |= {"sft_rows": 24, "sft_batch": 8, "lr": 2e-3}
        settings |= DISTILL_QUICK
        model_name = "tiny random model (hidden 64, 2 layers)"
    else:
        spec = {"source": "default"}
        # 32 teacher questions, 64 new tokens (the demo scale's answer length), in batches of
        # 16 (demo scale) and 32 (full scale) against all 32 one at a time without a cache.
        settings = {"gen_items": 32, "gen_tokens": 64, "gen_batches": [16, 32], "ttft_repeats": 3}
        # Top-k capture for distillation: k 64 at the full-scale batch, twice each way (U C C U).
        settings |= {"capture_k": 64, "capture_repeats": 2}
        # bf16 against float32: KL on 8 of the teacher's answers, and 8 items x 32 tokens timed.
        settings |= {"bf16_items": 8, "bf16_tokens": 32}
        settings |= {"sft_rows": 48, "sft_batch": 8, "lr": 1e-3}
        settings |= DISTILL_FULL
        model_name = "SmolLM2-135M-Instruct (embedded Q4_1 GGUF, dequantised to float32)"
    data = os.path.join(work, "sft.jsonl")
    Path(data).write_text(
        "".join(json.dumps(r) + "\n" for r in sft_rows(resources, settings["sft_rows"])), encoding="utf-8"
    )

    started = time.perf_counter()
    skipped = {"skipped": True}
    args = (spec, settings, data, work, resources)
    gen = _run_phase("generation", *args) if "generation" in phases else skipped
    eng = _run_phase("sft_engine", *args) if "sft" in phases else skipped
    trl = _run_phase("sft_trl", *args) if "sft" in phases else skipped
    trl_tuned = _run_phase("sft_trl_tuned", *args) if "sft" in phases else skipped
    kd = _run_phase("kd_vs_sft", *args) if "distill" in phases else skipped
    op = _run_phase("on_policy", *args) if "distill" in phases else skipped
    summary = summarize(gen, eng, trl, trl_tuned) | summarize_distill(kd, op)
    return {
        "quick": quick,
        "phases": list(phases),
        "model": model_name,
        "spec": spec,
        "settings": settings,
        "machine": {
            **machine(),
            "python": platform.python_version(),
            "threads_env": os.environ.get("CHARACTER_ENGINE_THREADS"),
            "platform": platform.platform(),
        },
        "summary": summary,
        "generation": gen,
        "sft_engine": eng,
        "sft_trl": trl,
        "sft_trl_tuned_allocator": trl_tuned,
        "distill_kd_vs_sft": kd,
        "distill_on_policy": op,
        "total_wall_s": time.perf_counter() - started,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark the engine (generation, SFT vs TRL, TTFT, memory)."
    )
    parser.add_argument("--out", help="write the JSON results here")
    parser.add_argument("--quick", action="store_true", help="tiny random model, small sizes (< 3 minutes)")
    parser.add_argument(
        "--only",
        choices=["generation", "sft", "distill"],
        help="run one part (generation+TTFT, SFT engine vs TRL, or KD/on-policy step times)",
    )
    parser.add_argument(
        "--resources",
        help="the repository's resources/ folder (default: $CHARACTER_STUDIO_RESOURCES, "
        "else ./resources or ../resources)",
    )
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--phase-out", help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    parser.add_argument("--settings", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    resources = resources_dir(args.resources)

    if args.phase:
        spec, settings = json.loads(args.spec), json.loads(args.settings)
        if args.phase != "sft_trl":
            # The engine tunes malloc at start-up (allocator.py); so do these phases. Plain
            # TRL runs with glibc's defaults, as a user would run it; sft_trl_tuned runs it
            # with the engine's setting, to show what the loop itself is worth.
            from character_engine.allocator import tune

            tune()
        if args.phase == "generation":
            res = phase_generation(spec, settings, resources)
        elif args.phase == "sft_engine":
            res = phase_sft_engine(spec, settings, args.data, args.work)
        elif args.phase == "kd_vs_sft":
            res = phase_kd_vs_sft(spec, settings, args.data, args.work, resources)
        elif args.phase == "on_policy":
            res = phase_on_policy(spec, settings, args.data, args.work, resources)
        elif args.phase in ("sft_trl", "sft_trl_tuned"):
            res = phase_sft_trl(spec, settings, args.data, args.work)
        else:
            parser.error(f"unknown phase {args.phase}")
        Path(args.phase_out).write_text(json.dumps(res, indent=2), encoding="utf-8")
        return 0

    if not args.out:
        parser.error("--out is required")
    with tempfile.TemporaryDirectory(prefix="character-bench-") as work:
        result = run_bench(
            args.quick, work, resources, (args.only,) if args.only else ("generation", "sft", "distill")
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(format_table(result) + "\n" + format_distill(result), file=sys.stderr)
    failed = [n for n in (*PHASE_RESULTS, *DISTILL_RESULTS) if "error" in result[n]]
    return 1 if failed else 0
