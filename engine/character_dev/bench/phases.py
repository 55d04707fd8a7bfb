"""The bench phases. Each runs in a subprocess of its own (cli.py), so its peak RSS is its own."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from .bf16 import bf16_agreement, bf16_speed
from .data import questions, system_prompt
from .limit import matmul_limit
from .memory import peak_rss_mb, reset_peak_rss


def phase_generation(spec: dict[str, Any], settings: dict[str, Any], resources: Path) -> dict[str, Any]:
    from character_engine.generation.decode_loop import generate_items
    from character_engine.generation.sampling import Sampling
    from character_engine.state import EngineState

    state = EngineState()
    prefixes = state.prefixes
    loaded = state.models.load(spec)
    prompt, source = system_prompt(resources)
    qs = questions(resources, settings["gen_items"])
    items = [{"system": prompt, "messages": [{"role": "user", "content": q}]} for q in qs]
    sampling = Sampling(temperature=0.0, top_p=1.0, max_new_tokens=settings["gen_tokens"], seed=0)
    # Warm-up (first-call allocations), not timed.
    hello = [{"messages": [{"role": "user", "content": "Hello"}]}]
    generate_items(loaded, hello, Sampling(0.0, 1.0, 4, 0), prefixes=prefixes)
    out: dict[str, Any] = {"system_prompt_source": source, "system_prompt_words": len(prompt.split())}

    # Each batched run starts with no stored prefix: computing it is part of the measured time.
    by_batch: dict[str, Any] = {}
    cached: list[Any] = []
    for batch_size in settings["gen_batches"]:
        prefixes.clear()
        reset_peak_rss()
        # The compute limit right before and after the run, so both see the machine's load.
        before = matmul_limit(loaded.model, batch_size)
        t0 = time.perf_counter()
        cached, stats = generate_items(loaded, items, sampling, prefixes=prefixes, batch_size=batch_size)
        wall = time.perf_counter() - t0
        after = matmul_limit(loaded.model, batch_size)
        limit_tps = (before["tokens_per_s"] + after["tokens_per_s"]) / 2
        n_tok = sum(r.completion_tokens for r in cached)
        by_batch[str(batch_size)] = {
            "limit": {**after, "tokens_per_s": limit_tps, "before_after": [before, after]},
            "fraction_of_limit": n_tok / wall / limit_tps,
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
    out["topk_capture"] = _capture_overhead(loaded, prefixes, items, sampling, settings)
    out["prefix_paths"] = _prefix_paths(loaded, items, sampling, settings)

    reset_peak_rss()
    t0 = time.perf_counter()
    seq = []
    for it in items:
        res, _ = generate_items(loaded, [it], sampling, prefixes=None, batch_size=1)
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

    out["bf16"] = _bf16(loaded, items, cached, settings)

    reset_peak_rss()
    one = Sampling(temperature=0.0, top_p=1.0, max_new_tokens=1, seed=0)
    with_prompt, without = [], []
    for _ in range(settings["ttft_repeats"]):
        r, _ = generate_items(loaded, [items[0]], one, prefixes=None, batch_size=1)
        with_prompt.append((r[0].ttft_ms, r[0].prompt_tokens))
        r, _ = generate_items(loaded, [{"messages": items[0]["messages"]}], one, prefixes=None, batch_size=1)
        without.append((r[0].ttft_ms, r[0].prompt_tokens))
    # With the system prompt's KV cache already computed (chat with a persona, later turns).
    generate_items(loaded, [items[0]], one, prefixes=prefixes, batch_size=1)
    warm = []
    for _ in range(settings["ttft_repeats"]):
        r, _ = generate_items(loaded, [items[1]], one, prefixes=prefixes, batch_size=1)
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


def _prefix_paths(
    loaded: Any, items: list[dict[str, Any]], sampling: Any, settings: dict[str, Any]
) -> dict[str, Any]:
    """The two ways a shared prefix is attended to, at the largest batch, alternated
    S E E S: the single copy (prefix_attention.py, the CPU's path) and the stock SDPA over
    the prefix expanded to every row (the GPU's path; prefix_attention.single_copy_pays)."""
    from character_engine.generation.decode_loop import generate_items
    from character_engine.generation.prefix_cache import PrefixCache

    batch_size = max(settings["gen_batches"])
    order = (["single_copy", "expanded", "expanded", "single_copy"] * settings["capture_repeats"])[
        : 2 * settings["capture_repeats"]
    ]
    totals = {m: {"completion_tokens": 0, "wall_s": 0.0} for m in ("single_copy", "expanded")}
    texts: dict[str, list[str]] = {}
    for mode in order:
        t0 = time.perf_counter()
        res, _ = generate_items(
            loaded,
            items,
            sampling,
            prefixes=PrefixCache(),
            batch_size=batch_size,
            single_copy=mode == "single_copy",
        )
        totals[mode]["wall_s"] += time.perf_counter() - t0
        totals[mode]["completion_tokens"] += sum(r.completion_tokens for r in res)
        texts.setdefault(mode, [r.text for r in res])
    tps = {m: t["completion_tokens"] / t["wall_s"] for m, t in totals.items()}
    same = sum(a == b for a, b in zip(texts["single_copy"], texts["expanded"], strict=True))
    return {
        "batch_size": batch_size,
        "order": order,
        "single_copy_tokens_per_s": tps["single_copy"],
        "expanded_sdpa_tokens_per_s": tps["expanded"],
        "single_copy_over_expanded": tps["single_copy"] / tps["expanded"],
        "same_greedy_text": same / len(items),
    }


def _bf16(
    loaded: Any, items: list[dict[str, Any]], answers: list[Any], settings: dict[str, Any]
) -> dict[str, Any]:
    """bf16 vs float32 on the teacher's own greedy answers (bf16.py)."""
    from character_engine.generation.sampling import Sampling

    n = settings["bf16_items"]
    tok = loaded.tokenizer
    ids = [tok(a.text, add_special_tokens=False).input_ids for a in answers[:n]]
    agreement = bf16_agreement(loaded, items[:n], ids, settings["capture_k"])
    half = agreement.pop("bf16_model")
    sampling = Sampling(temperature=0.0, top_p=1.0, max_new_tokens=settings["bf16_tokens"], seed=0)
    speed = bf16_speed(loaded, half, items[:n], sampling, n, settings["capture_repeats"])
    return {"agreement": agreement, "speed": speed, "engine_uses_bf16_on_cpu": False}


def _capture_overhead(
    loaded: Any, prefixes: Any, items: list[dict[str, Any]], sampling: Any, settings: dict[str, Any]
) -> dict[str, Any]:
    """The same shared-prompt generation with and without top-k capture (files written, as
    teacher generation for distillation does), alternated U C C U ... so drift in the
    machine's load favours neither side. Each run computes its prefix afresh, as above."""
    from character_engine.generation.decode_loop import generate_items
    from character_engine.generation.topk_capture import TopKRequest

    batch_size, k = max(settings["gen_batches"]), settings["capture_k"]
    order = ["uncaptured", "captured", "captured", "uncaptured"] * settings["capture_repeats"]
    order = order[: 2 * settings["capture_repeats"]]
    totals = {mode: {"completion_tokens": 0, "wall_s": 0.0, "runs": 0} for mode in ("uncaptured", "captured")}
    texts: dict[str, list[str]] = {}
    file_bytes: list[int] = []
    with tempfile.TemporaryDirectory(prefix="bench-topk-") as tmp:
        for run, mode in enumerate(order):
            paths = [os.path.join(tmp, f"r{run}-{i}.safetensors") for i in range(len(items))]
            topk = TopKRequest(k, list(paths)) if mode == "captured" else None
            prefixes.clear()
            t0 = time.perf_counter()
            res, _ = generate_items(
                loaded, items, sampling, prefixes=prefixes, batch_size=batch_size, topk=topk
            )
            wall = time.perf_counter() - t0
            totals[mode]["completion_tokens"] += sum(r.completion_tokens for r in res)
            totals[mode]["wall_s"] += wall
            totals[mode]["runs"] += 1
            texts.setdefault(mode, [r.text for r in res])
            if topk is not None:
                file_bytes += [os.path.getsize(p) for p in paths]
    for t in totals.values():
        t["tokens_per_s"] = t["completion_tokens"] / t["wall_s"] if t["wall_s"] else None
    u, c = totals["uncaptured"]["tokens_per_s"], totals["captured"]["tokens_per_s"]
    same = sum(a == b for a, b in zip(texts["uncaptured"], texts["captured"], strict=True))
    return {
        "items": len(items),
        "batch_size": batch_size,
        "max_new_tokens": sampling.max_new_tokens,
        "k": k,
        "order": order,
        "uncaptured": totals["uncaptured"],
        "captured": totals["captured"],
        "ratio": (c / u) if u and c else None,
        "same_greedy_text": same / len(items),
        "file_bytes_mean": statistics.mean(file_bytes) if file_bytes else None,
    }


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
    from character_engine.training.data import load_sft, pad_id_of
    from character_engine.training.loop import evaluate
    from character_engine.training.sft import SftObjective

    examples = load_sft(data, tokenizer, 512, "train_path")
    device = next(model.parameters()).device
    return evaluate(model, SftObjective(pad_id_of(tokenizer)), examples, batch_size, device)["loss"]


def phase_sft_engine(spec: dict[str, Any], settings: dict[str, Any], data: str, work: str) -> dict[str, Any]:
    from character_engine.context import RequestContext
    from character_engine.models.cache import load_private
    from character_engine.state import EngineState
    from character_engine.training.config import parse_config
    from character_engine.training.data import data_hash, load_sft, pad_id_of
    from character_engine.training.loop import run_training
    from character_engine.training.sft import SftObjective

    events: list[tuple[float, dict[str, Any]]] = []
    ctx = RequestContext("bench", lambda e: events.append((time.perf_counter(), e)), EngineState())
    cfg = parse_config(_sft_params(spec, data, os.path.join(work, "engine-sft"), settings))
    loaded = load_private(cfg.model, ctx=ctx)
    base, tok = loaded.model, loaded.tokenizer
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

    from character_engine.models.cache import load_private
    from character_engine.models.loaders.gguf import drop_dequantized_gguf_marker
    from character_engine.training.config import parse_config
    from character_engine.training.data import read_jsonl
    from character_engine.training.lora import lora_config

    cfg = parse_config(_sft_params(spec, data, os.path.join(work, "trl-sft"), settings))
    loaded = load_private(cfg.model)
    base, tok = loaded.model, loaded.tokenizer
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
