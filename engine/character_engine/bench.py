"""Side-by-side benchmarks of the engine on this machine, measured in one run on the same data.

  python -m character_engine.bench --out FILE.json [--quick]

1. Teacher-data generation with a ~600-word shared system prompt (the Beethoven
   constitution from resources/personas, else filler): prefix-cached + batched
   (generation.generate_items) at two batch sizes vs one request at a time without a
   cache. tokens/s, speedup (headline: the larger batch, the full-scale teacher batch).
2. SFT: non-padding tokens/s of the engine's loop (training/loop.py) vs a plain TRL
   SFTTrainer (bf16=False, gradient_checkpointing=False, same LoRA, data, steps, LR),
   and the final loss of both adapters, evaluated the same way on the same data.
3. Time to first token with the system prompt vs without it.
4. Peak RSS per phase (VmHWM, reset between phases via /proc/self/clear_refs; each of
   generation / engine SFT / TRL SFT runs in its own subprocess).

The engine phases tune glibc malloc as the engine does at start-up (allocator.py). TRL
runs twice: plain (glibc defaults, the headline comparison) and with the same malloc
setting, which isolates what the training loop itself is worth.

The full run uses the embedded SmolLM2-135M-Instruct; --quick uses a tiny random model
(mechanics only: its ratios say little). Results go to FILE.json; a table to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# Sections of the result that come from a phase subprocess (each may carry an "error").
PHASE_RESULTS = ("generation", "sft_engine", "sft_trl", "sft_trl_tuned_allocator")
PROMPT_WORDS = 600


# ----------------------------------------------------------------------------- memory


def peak_rss_mb() -> float:
    """VmHWM of this process in MiB (peak resident set since start or the last reset)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # the file reports kB
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")  # 5 = reset the peak RSS counter (Linux >= 4.0)
        return True
    except OSError:
        return False


# ----------------------------------------------------------------------------- data


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def system_prompt(words: int = PROMPT_WORDS) -> tuple[str, str]:
    """(~`words`-word system prompt, where it came from)."""
    path = ROOT / "resources" / "personas" / "beethoven.yaml"
    text = ""
    source = "filler"
    if path.is_file():
        try:
            import yaml

            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            body = {k: v for k, v in doc.items() if k != "meta"} if isinstance(doc, dict) else doc
            text = "\n".join(s.strip() for s in _strings(body) if s.strip())
            source = str(path.relative_to(ROOT))
        except Exception:  # noqa: BLE001 - fall back to filler below
            text = ""
    tokens = text.split()
    filler = (
        "You are Ludwig van Beethoven, the composer, speaking from Vienna in 1827. "
        "Answer in the first person with passion, pride and honesty about music, deafness and fate. "
    ).split()
    while len(tokens) < words:
        tokens += filler
    return " ".join(tokens[:words]), source


def questions(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    path = ROOT / "resources" / "questions" / "templates.json"
    vocab_path = ROOT / "resources" / "questions" / "vocab" / "beethoven.json"
    try:
        templates = [t["text"] for t in json.loads(path.read_text(encoding="utf-8"))["templates"]]
        vocab = json.loads(vocab_path.read_text(encoding="utf-8")) if vocab_path.is_file() else {}
    except (OSError, ValueError, KeyError, TypeError):
        templates, vocab = [], {}

    def fill(m: re.Match[str]) -> str:
        values = vocab.get(m.group(1).rstrip("0123456789")) or ["music"]
        return str(rng.choice(values))

    rng.shuffle(templates)
    for t in templates[:n]:
        out.append(re.sub(r"\{(\w+)\}", fill, t))
    base = ["What does music mean to you?", "Tell me about Vienna.", "How do you compose a symphony?"]
    while len(out) < n:
        out.append(f"{base[len(out) % len(base)]} ({len(out)})")
    return out


def sft_rows(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Question -> answer rows of varied length (1-8 sentences), like distilled teacher data."""
    from .tiny import build_corpus

    rng = random.Random(seed)
    corpus = build_corpus(seed)
    qs = questions(n, seed)
    rows = []
    for q in qs:
        answer = " ".join(rng.choice(corpus) for _ in range(rng.randint(1, 8)))
        rows.append({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": answer}]})
    return rows


# ----------------------------------------------------------------------------- phases (subprocess side)


def phase_generation(spec: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    from .generation import Sampling, generate_items, prefix_store
    from .models import load_model

    loaded = load_model(spec)
    prompt, source = system_prompt()
    qs = questions(settings["gen_items"])
    items = [{"system": prompt, "messages": [{"role": "user", "content": q}]} for q in qs]
    sampling = Sampling(temperature=0.0, top_p=1.0, max_new_tokens=settings["gen_tokens"], seed=0)
    # Warm-up (first-call allocations), not timed.
    generate_items(loaded, [{"messages": [{"role": "user", "content": "Hello"}]}], Sampling(0.0, 1.0, 4, 0))
    out: dict[str, Any] = {"system_prompt_source": source, "system_prompt_words": len(prompt.split())}

    # Each batched run starts with no stored prefix: computing it is part of the measured time.
    by_batch: dict[str, Any] = {}
    cached: list[Any] = []
    for batch_size in settings["gen_batches"]:
        prefix_store.clear()
        reset_peak_rss()
        t0 = time.perf_counter()
        cached, stats = generate_items(loaded, items, sampling, batch_size=batch_size, prefix_cache=True)
        wall = time.perf_counter() - t0
        n_tok = sum(r.completion_tokens for r in cached)
        by_batch[str(batch_size)] = {
            "items": len(items),
            "batch_size": batch_size,
            "completion_tokens": n_tok,
            "wall_s": wall,
            "tokens_per_s": n_tok / wall,
            "prompt_tokens": cached[0].prompt_tokens,
            "prefix_tokens": stats.get("prefix_tokens"),
            "peak_rss_mb": peak_rss_mb(),
        }
    out["cached_batched_by_batch"] = by_batch
    # The headline is the largest batch, the full-scale pipeline's teacher batch size.
    out["cached_batched"] = by_batch[str(max(settings["gen_batches"]))]

    reset_peak_rss()
    t0 = time.perf_counter()
    seq = []
    for it in items:
        res, _ = generate_items(loaded, [it], sampling, batch_size=1, prefix_cache=False)
        seq += res
    wall = time.perf_counter() - t0
    n_tok = sum(r.completion_tokens for r in seq)
    out["sequential_uncached"] = {
        "items": len(items),
        "completion_tokens": n_tok,
        "wall_s": wall,
        "tokens_per_s": n_tok / wall,
        "peak_rss_mb": peak_rss_mb(),
    }
    out["same_greedy_text"] = sum(a.text == b.text for a, b in zip(cached, seq, strict=True)) / len(items)

    reset_peak_rss()
    one = Sampling(temperature=0.0, top_p=1.0, max_new_tokens=1, seed=0)
    with_prompt, without = [], []
    for _ in range(settings["ttft_repeats"]):
        r, _ = generate_items(loaded, [items[0]], one, batch_size=1, prefix_cache=False)
        with_prompt.append((r[0].ttft_ms, r[0].prompt_tokens))
        r, _ = generate_items(
            loaded, [{"messages": items[0]["messages"]}], one, batch_size=1, prefix_cache=False
        )
        without.append((r[0].ttft_ms, r[0].prompt_tokens))
    # With the system prompt's KV cache already computed (chat with a persona, later turns).
    generate_items(loaded, [items[0]], one, batch_size=1, prefix_cache=True)
    warm = []
    for _ in range(settings["ttft_repeats"]):
        r, _ = generate_items(loaded, [items[1]], one, batch_size=1, prefix_cache=True)
        warm.append(r[0].ttft_ms)
    out["ttft"] = {
        "with_prompt_ms": statistics.median(x[0] for x in with_prompt),
        "with_prompt_tokens": with_prompt[0][1],
        "without_prompt_ms": statistics.median(x[0] for x in without),
        "without_prompt_tokens": without[0][1],
        "with_prompt_warm_prefix_cache_ms": statistics.median(warm),
        "repeats": settings["ttft_repeats"],
        "peak_rss_mb": peak_rss_mb(),
    }
    return out


def _sft_params(spec: dict[str, Any], data: str, out_dir: str, settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": spec,
        "train_path": data,
        "output_dir": out_dir,
        "lora": {"r": 16, "alpha": 32, "dropout": 0.0, "target_modules": []},
        "learning_rate": settings["lr"],
        "warmup_steps": 0,
        "schedule": "linear",
        "batch_size": settings["sft_batch"],
        "grad_accum": 1,
        "epochs": 1,
        "max_length": 512,
        "eval_every": 0,
        "save_every": 0,
        "seed": 0,
    }


def _final_loss(model: Any, tokenizer: Any, data: str, batch_size: int) -> float:
    from .training.data import load_sft
    from .training.loop import evaluate
    from .training.sft import SftObjective, pad_id_of

    examples = load_sft(data, tokenizer, 512, "train_path")
    device = next(model.parameters()).device
    return evaluate(model, SftObjective(pad_id_of(tokenizer)), examples, batch_size, device)["loss"]


def phase_sft_engine(spec: dict[str, Any], settings: dict[str, Any], data: str, work: str) -> dict[str, Any]:
    from .context import RequestContext
    from .training.config import parse_config
    from .training.data import data_hash, load_sft
    from .training.loop import run_training
    from .training.sft import SftObjective, load_base, pad_id_of

    events: list[tuple[float, dict[str, Any]]] = []
    ctx = RequestContext("bench", lambda e: events.append((time.perf_counter(), e)))
    cfg = parse_config(_sft_params(spec, data, os.path.join(work, "engine-sft"), settings))
    base, tok = load_base(cfg, ctx)
    train = load_sft(cfg.train_path, tok, cfg.max_length, "train_path")
    reset_peak_rss()
    t0 = time.perf_counter()
    result = run_training(cfg, ctx, SftObjective(pad_id_of(tok)), base, train, None, data_hash(data), "sft")
    metrics = [(t, e) for t, e in events if e.get("event") == "metric" and e.get("kind") == "train"]
    # Loop time: start of training to the last optimizer step (excludes the final checkpoint save).
    wall = metrics[-1][0] - t0
    tokens = sum(e.length for e in train)
    peak = peak_rss_mb()
    return {
        "steps": result.steps,
        "non_padding_tokens": tokens,
        "wall_s": wall,
        "tokens_per_s": tokens / wall,
        "last_step_loss": result.train_loss,
        "final_loss": _final_loss(result.model, tok, data, cfg.batch_size),
        "peak_rss_mb": peak,
    }


def phase_sft_trl(spec: dict[str, Any], settings: dict[str, Any], data: str, work: str) -> dict[str, Any]:
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from .training.config import parse_config
    from .training.data import read_jsonl
    from .training.lora import drop_dequantized_gguf_marker, lora_config
    from .training.sft import load_base

    cfg = parse_config(_sft_params(spec, data, os.path.join(work, "trl-sft"), settings))
    base, tok = load_base(cfg, None)
    drop_dequantized_gguf_marker(base)  # else Trainer refuses the (already dequantised) GGUF base
    tok.padding_side = "right"
    rows = read_jsonl(data, "train_path")
    # Prompt/completion form: TRL then trains on the completion (assistant reply) only.
    ds = Dataset.from_list([{"prompt": r["messages"][:-1], "completion": r["messages"][-1:]} for r in rows])
    args = SFTConfig(
        output_dir=os.path.join(work, "trl-sft"),
        per_device_train_batch_size=cfg.batch_size,
        gradient_accumulation_steps=1,
        num_train_epochs=1,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type="linear",
        warmup_steps=0,
        weight_decay=0.0,
        max_grad_norm=1.0,
        bf16=False,
        fp16=False,
        gradient_checkpointing=False,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        max_length=cfg.max_length,
        packing=False,
        seed=0,
        dataloader_num_workers=0,
        disable_tqdm=True,
    )
    trainer = SFTTrainer(
        model=base,
        args=args,
        train_dataset=ds,
        processing_class=tok,
        peft_config=lora_config(cfg, getattr(base.config, "model_type", "llama")),
    )
    reset_peak_rss()
    t0 = time.perf_counter()
    out = trainer.train()
    wall = time.perf_counter() - t0
    tokens = int(sum(len(x) for x in trainer.train_dataset["input_ids"]))
    peak = peak_rss_mb()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    return {
        "steps": int(out.global_step),
        "non_padding_tokens": tokens,
        "wall_s": wall,
        "train_runtime_s": float(out.metrics.get("train_runtime", wall)),
        "tokens_per_s": tokens / wall,
        "last_step_loss": losses[-1] if losses else None,
        "final_loss": _final_loss(trainer.model, tok, data, cfg.batch_size),
        "peak_rss_mb": peak,
    }


# ----------------------------------------------------------------------------- orchestration


def _run_phase(
    name: str, spec: dict[str, Any], settings: dict[str, Any], data: str, work: str
) -> dict[str, Any]:
    out = os.path.join(work, f"{name}.json")
    cmd = [sys.executable, "-m", "character_engine.bench", "--phase", name, "--phase-out", out]
    cmd += ["--spec", json.dumps(spec), "--settings", json.dumps(settings), "--data", data, "--work", work]
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=str(ROOT / "engine")
    )
    if proc.returncode != 0:
        return {"error": f"phase {name} failed (exit {proc.returncode})", "stderr_tail": proc.stderr[-3000:]}
    result = json.loads(Path(out).read_text(encoding="utf-8"))
    result["phase_wall_s"] = time.perf_counter() - t0
    return result


def _ratio(a: float | None, b: float | None) -> float | None:
    return (a / b) if a is not None and b else None


def run_bench(quick: bool, work: str, phases: tuple[str, ...] = ("generation", "sft")) -> dict[str, Any]:
    if quick:
        from .tiny import build_tiny_model

        model_dir = build_tiny_model(os.path.join(work, "tiny-model"), seed=0, hidden=64, layers=2)
        spec: dict[str, Any] = {"source": "local", "path": model_dir}
        settings = {"gen_items": 8, "gen_tokens": 8, "gen_batches": [4, 8], "ttft_repeats": 2}
        settings |= {"sft_rows": 24, "sft_batch": 8, "lr": 2e-3}
        model_name = "tiny random model (hidden 64, 2 layers)"
    else:
        spec = {"source": "default"}
        # 32 teacher questions, 64 new tokens (the demo scale's answer length), in batches of
        # 16 (demo scale) and 32 (full scale) against all 32 one at a time without a cache.
        settings = {"gen_items": 32, "gen_tokens": 64, "gen_batches": [16, 32], "ttft_repeats": 3}
        settings |= {"sft_rows": 48, "sft_batch": 8, "lr": 1e-3}
        model_name = "SmolLM2-135M-Instruct (embedded Q4_1 GGUF, dequantised to float32)"
    data = os.path.join(work, "sft.jsonl")
    Path(data).write_text(
        "".join(json.dumps(r) + "\n" for r in sft_rows(settings["sft_rows"])), encoding="utf-8"
    )

    started = time.perf_counter()
    skipped = {"skipped": True}
    gen = _run_phase("generation", spec, settings, data, work) if "generation" in phases else skipped
    eng = _run_phase("sft_engine", spec, settings, data, work) if "sft" in phases else skipped
    trl = _run_phase("sft_trl", spec, settings, data, work) if "sft" in phases else skipped
    trl_tuned = _run_phase("sft_trl_tuned", spec, settings, data, work) if "sft" in phases else skipped
    cb, sq, tt = gen.get("cached_batched", {}), gen.get("sequential_uncached", {}), gen.get("ttft", {})
    loss_gap = None
    if eng.get("final_loss") and trl.get("final_loss"):
        loss_gap = abs(eng["final_loss"] - trl["final_loss"]) / trl["final_loss"]
    summary = {
        "generation_speedup": _ratio(cb.get("tokens_per_s"), sq.get("tokens_per_s")),
        "generation_speedup_by_batch": {
            bs: _ratio(r.get("tokens_per_s"), sq.get("tokens_per_s"))
            for bs, r in gen.get("cached_batched_by_batch", {}).items()
        },
        "generation_speedup_batch_size": cb.get("batch_size"),
        "generation_speedup_target": 8.0,
        "sft_speedup_vs_trl": _ratio(eng.get("tokens_per_s"), trl.get("tokens_per_s")),
        "sft_speedup_target": 1.5,
        "sft_speedup_vs_trl_same_allocator": _ratio(eng.get("tokens_per_s"), trl_tuned.get("tokens_per_s")),
        "sft_final_loss_relative_gap": loss_gap,
        "sft_final_loss_gap_target": 0.02,
        "ttft_ratio_with_vs_without_prompt": _ratio(tt.get("with_prompt_ms"), tt.get("without_prompt_ms")),
    }
    return {
        "quick": quick,
        "phases": list(phases),
        "model": model_name,
        "spec": spec,
        "settings": settings,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "threads_env": os.environ.get("CHARACTER_ENGINE_THREADS"),
            "platform": platform.platform(),
        },
        "summary": summary,
        "generation": gen,
        "sft_engine": eng,
        "sft_trl": trl,
        "sft_trl_tuned_allocator": trl_tuned,
        "total_wall_s": time.perf_counter() - started,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _f(value: Any, fmt: str = "{:.2f}") -> str:
    return fmt.format(value) if isinstance(value, (int, float)) else "-"


def format_table(result: dict[str, Any]) -> str:
    g, e, t = result["generation"], result["sft_engine"], result["sft_trl"]
    t2 = result.get("sft_trl_tuned_allocator", {})
    s = result["summary"]
    sq, tt = g.get("sequential_uncached", {}), g.get("ttft", {})
    lines = [
        f"Character Studio engine bench ({'quick' if result['quick'] else 'full'}; {result['model']})",
        f"{'measure':<48}{'value':>14}{'peak RSS MiB':>14}",
        f"{'generation tokens/s, one at a time, no cache':<48}{_f(sq.get('tokens_per_s')):>14}{_f(sq.get('peak_rss_mb'), '{:.0f}'):>14}",
        *[
            f"{f'generation tokens/s, prefix-cached, batch {bs}':<48}{_f(r.get('tokens_per_s')):>14}{_f(r.get('peak_rss_mb'), '{:.0f}'):>14}"
            for bs, r in g.get("cached_batched_by_batch", {}).items()
        ],
        *[
            f"{f'  speedup at batch {bs}' + (' (target >= 8x)' if int(bs) == s.get('generation_speedup_batch_size') else ''):<48}{_f(x):>14}"
            for bs, x in (s.get("generation_speedup_by_batch") or {}).items()
        ],
        f"{'SFT tokens/s, engine loop':<48}{_f(e.get('tokens_per_s')):>14}{_f(e.get('peak_rss_mb'), '{:.0f}'):>14}",
        f"{'SFT tokens/s, TRL SFTTrainer':<48}{_f(t.get('tokens_per_s')):>14}{_f(t.get('peak_rss_mb'), '{:.0f}'):>14}",
        f"{'  speedup (target >= 1.5x)':<48}{_f(s['sft_speedup_vs_trl']):>14}",
        f"{'SFT tokens/s, TRL with the engine malloc setting':<48}{_f(t2.get('tokens_per_s')):>14}{_f(t2.get('peak_rss_mb'), '{:.0f}'):>14}",
        f"{'  speedup of the loop alone':<48}{_f(s.get('sft_speedup_vs_trl_same_allocator')):>14}",
        f"{'SFT final loss, engine / TRL':<48}{_f(e.get('final_loss'), '{:.4f}') + ' / ' + _f(t.get('final_loss'), '{:.4f}'):>14}",
        f"{'  relative gap (target <= 2%)':<48}{_f(s['sft_final_loss_relative_gap'], '{:.2%}'):>14}",
        f"{'TTFT ms with ~600-word prompt':<48}{_f(tt.get('with_prompt_ms'), '{:.1f}'):>14}{_f(tt.get('peak_rss_mb'), '{:.0f}'):>14}",
        f"{'TTFT ms without prompt':<48}{_f(tt.get('without_prompt_ms'), '{:.1f}'):>14}",
        f"{'TTFT ms with prompt, warm prefix cache':<48}{_f(tt.get('with_prompt_warm_prefix_cache_ms'), '{:.1f}'):>14}",
    ]
    for name in PHASE_RESULTS:
        if "error" in result.get(name, {}):
            lines.append(f"!! {result[name]['error']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark the engine (generation, SFT vs TRL, TTFT, memory)."
    )
    parser.add_argument("--out", help="write the JSON results here")
    parser.add_argument("--quick", action="store_true", help="tiny random model, small sizes (< 3 minutes)")
    parser.add_argument(
        "--only", choices=["generation", "sft"], help="run one part (generation+TTFT, or SFT engine vs TRL)"
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

    if args.phase:
        spec, settings = json.loads(args.spec), json.loads(args.settings)
        if args.phase != "sft_trl":
            # The engine tunes malloc at start-up (allocator.py); so do these phases. Plain
            # TRL runs with glibc's defaults, as a user would run it; sft_trl_tuned runs it
            # with the engine's setting, to show what the loop itself is worth.
            from .allocator import tune

            tune()
        if args.phase == "generation":
            res = phase_generation(spec, settings)
        elif args.phase == "sft_engine":
            res = phase_sft_engine(spec, settings, args.data, args.work)
        elif args.phase in ("sft_trl", "sft_trl_tuned"):
            res = phase_sft_trl(spec, settings, args.data, args.work)
        else:
            parser.error(f"unknown phase {args.phase}")
        Path(args.phase_out).write_text(json.dumps(res, indent=2), encoding="utf-8")
        return 0

    if not args.out:
        parser.error("--out is required")
    with tempfile.TemporaryDirectory(prefix="character-bench-") as work:
        result = run_bench(args.quick, work, (args.only,) if args.only else ("generation", "sft"))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(format_table(result), file=sys.stderr)
    failed = [n for n in PHASE_RESULTS if "error" in result[n]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
