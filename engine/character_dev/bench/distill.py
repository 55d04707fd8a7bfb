"""The distillation rows of the bench (`--only distill`), each phase in its own subprocess:

- `kd_vs_sft`: the engine loop's step time for knowledge distillation on the teacher's
  top-k (train_kd) against SFT (train_sft) on the same rows and steps (sft_rows rows,
  batches of sft_batch, one epoch), side by side in one process, in the order
  S K K S ... so drift in the machine's load favours neither. The top-k files come from a
  teacher pass inside the phase: the same base with the ~600-word system prompt, run once
  as a stored prefix, scoring each row's answer tokens plus the end-of-turn token.
- `on_policy`: the step time of train_on_policy (batch op_batch, up to op_tokens sampled
  tokens per answer, the same system prompt for the teacher), and how much of it is the
  student's sampling.

Step time = the loop's wall time (start to the last optimizer step, no checkpoint save)
divided by its steps; the ratio kd / sft has the target <= 1.3.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from .data import system_prompt
from .memory import peak_rss_mb, reset_peak_rss
from .phases import _sft_params

# Sections of the result that come from these phases (each may carry an "error").
DISTILL_RESULTS = ("distill_kd_vs_sft", "distill_on_policy")
QUICK = {"kd_k": 64, "kd_repeats": 1, "op_batch": 8, "op_tokens": 16, "op_steps": 2}
FULL = {"kd_k": 64, "kd_repeats": 2, "op_batch": 8, "op_tokens": 64, "op_steps": 4}
KD_STEP_RATIO_TARGET = 1.3


def write_teacher_topk(model: Any, tok: Any, system: str, data: str, folder: str, k: int) -> str:
    """Top-k files for every row of the SFT file `data` (teacher = `model` with `system`),
    and the kd JSONL that names them; returns its path."""
    import torch

    from character_engine.models.assistant_mask import IGNORE_INDEX
    from character_engine.models.chat_template import prompt_ids
    from character_engine.topk_file import write_topk
    from character_engine.training.data import SftExample, collate, pad_id_of, read_jsonl
    from character_engine.training.logprobs import label_logits, store_prefix
    from character_engine.training.on_policy import common_prefix

    rows = read_jsonl(data, "data")
    end = tok.eos_token_id
    head = common_prefix(
        prompt_ids(tok, system, [{"role": "user", "content": "a"}]),
        prompt_ids(tok, system, [{"role": "user", "content": "Zq"}]),
    )
    out_rows = []
    with torch.no_grad():
        prefix = store_prefix(model, head)
        for b0 in range(0, len(rows), 8):
            chunk, examples, answers = rows[b0 : b0 + 8], [], []
            for row in chunk:
                question, answer = row["messages"][0], row["messages"][1]["content"]
                prompt = prompt_ids(tok, system, [question])[len(head) :]
                tokens = tok(answer, add_special_tokens=False)["input_ids"] + [end]
                examples.append(SftExample(prompt + tokens, [IGNORE_INDEX] * len(prompt) + tokens))
                answers.append(tokens)
            logits, _, _ = label_logits(model, collate(examples, pad_id_of(tok)), prefix=prefix)
            top = torch.log_softmax(logits, dim=-1).topk(k, dim=-1)
            start = 0
            for j, (row, tokens) in enumerate(zip(chunk, answers, strict=True)):
                rel = f"topk/{b0 + j}.safetensors"
                end_row = start + len(tokens)
                write_topk(
                    os.path.join(folder, rel), tokens, top.indices[start:end_row], top.values[start:end_row]
                )
                start = end_row
                out_rows.append(dict(row, teacher_topk=rel))
    path = os.path.join(folder, "kd.jsonl")
    Path(path).write_text("".join(json.dumps(r) + "\n" for r in out_rows), encoding="utf-8")
    return path


def _timed_run(kind: str, params: dict[str, Any], sample: Any = None) -> dict[str, Any]:
    """One training run through the engine loop; step times from its metric events."""
    from character_engine.context import RequestContext
    from character_engine.models.cache import collect_garbage, load_private
    from character_engine.state import EngineState
    from character_engine.training.config import parse_config
    from character_engine.training.data import data_hash
    from character_engine.training.loop import run_training
    from character_engine.training.run import OBJECTIVES

    events: list[tuple[float, dict[str, Any]]] = []
    ctx = RequestContext("bench", lambda e: events.append((time.perf_counter(), e)), EngineState())
    cfg = parse_config(params)
    objective_cls = OBJECTIVES[kind]
    loaded = load_private(cfg.model, ctx=ctx)
    train = objective_cls.load_examples(cfg.train_path, loaded.tokenizer, cfg.max_length, "train_path")
    objective = objective_cls.from_config(cfg, loaded.tokenizer, sample)
    reset_peak_rss()
    t0 = time.perf_counter()
    result = run_training(cfg, ctx, objective, loaded.model, train, None, data_hash(cfg.train_path), kind)
    steps = [(t, e) for t, e in events if e.get("event") == "metric" and e.get("kind") == "train"]
    wall = steps[-1][0] - t0
    times = [t for t, _ in steps]
    out = {
        "steps": result.steps,
        "wall_s": wall,
        "step_s": wall / result.steps,
        "step_s_each": [b - a for a, b in zip([t0, *times[:-1]], times, strict=True)],
        "tokens_per_s": statistics.mean(e["tokens_per_s"] for _, e in steps),
        "first_step_loss": steps[0][1]["loss"],
        "last_step_loss": result.train_loss,
        "peak_rss_mb": peak_rss_mb(),
        "metrics": [e for _, e in steps],
    }
    del loaded, result
    collect_garbage()
    return out


def phase_kd_vs_sft(
    spec: dict[str, Any], settings: dict[str, Any], data: str, work: str, resources: Path
) -> dict[str, Any]:
    from character_engine.models.cache import collect_garbage, load_private

    prompt, _source = system_prompt(resources)
    folder = os.path.join(work, "kd-data")
    teacher = load_private(spec)
    t0 = time.perf_counter()
    kd_data = write_teacher_topk(teacher.model, teacher.tokenizer, prompt, data, folder, settings["kd_k"])
    teacher_s = time.perf_counter() - t0
    del teacher
    collect_garbage()

    order = (["sft", "kd", "kd", "sft"] * settings["kd_repeats"])[: 2 * settings["kd_repeats"]]
    runs: dict[str, list[dict[str, Any]]] = {"sft": [], "kd": []}
    for i, kind in enumerate(order):
        path = data if kind == "sft" else kd_data
        params = _sft_params(spec, path, os.path.join(work, f"distill-{kind}-{i}"), settings)
        runs[kind].append(_timed_run(kind, params))
    sft_step = statistics.mean(r["step_s"] for r in runs["sft"])
    kd_step = statistics.mean(r["step_s"] for r in runs["kd"])
    return {
        "rows": settings["sft_rows"],
        "batch_size": settings["sft_batch"],
        "k": settings["kd_k"],
        "order": order,
        "teacher_topk_s": teacher_s,
        "sft_step_s": sft_step,
        "kd_step_s": kd_step,
        "kd_sft_step_ratio": kd_step / sft_step,
        "sft": [{k: v for k, v in r.items() if k != "metrics"} for r in runs["sft"]],
        "kd": [{k: v for k, v in r.items() if k != "metrics"} for r in runs["kd"]],
        # nll is SFT's loss on the same rows: how far KD moves the cross-entropy too.
        "kd_last_step_nll": runs["kd"][-1]["metrics"][-1].get("nll"),
    }


def phase_on_policy(
    spec: dict[str, Any], settings: dict[str, Any], data: str, work: str, resources: Path
) -> dict[str, Any]:
    from character_engine.generation.student_sampler import sample_answers

    prompt, _source = system_prompt(resources)
    sampling_s: list[float] = []

    def timed_sample(*args: Any) -> list[list[int]]:
        t0 = time.perf_counter()
        out = sample_answers(*args)
        sampling_s.append(time.perf_counter() - t0)
        return out

    params = _sft_params(spec, data, os.path.join(work, "distill-on-policy"), settings)
    params.pop("epochs")
    params |= {
        "batch_size": settings["op_batch"],
        "max_steps": settings["op_steps"],
        "teacher": {"system": prompt},
        "sampling": {"temperature": 1.0, "top_p": 1.0, "max_new_tokens": settings["op_tokens"]},
    }
    run = _timed_run("on_policy", params, timed_sample)
    metrics = run.pop("metrics")
    return {
        **run,
        "batch_size": settings["op_batch"],
        "max_new_tokens": settings["op_tokens"],
        "sampled_tokens_mean": statistics.mean(m["sampled_tokens"] for m in metrics),
        "sampling_s_mean": statistics.mean(sampling_s),
        "sampling_share": sum(sampling_s) / run["wall_s"],
        "reverse_kl_each": [m["loss"] for m in metrics],
    }


def summarize_distill(kd: dict[str, Any], op: dict[str, Any]) -> dict[str, Any]:
    return {
        "kd_sft_step_time_ratio": kd.get("kd_sft_step_ratio"),
        "kd_sft_step_time_ratio_target": KD_STEP_RATIO_TARGET,
        "kd_step_s": kd.get("kd_step_s"),
        "sft_step_s": kd.get("sft_step_s"),
        "on_policy_step_s": op.get("step_s"),
        "on_policy_sampling_share": op.get("sampling_share"),
    }


def format_distill(result: dict[str, Any]) -> str:
    s = result["summary"]

    def f(v: Any, fmt: str = "{:.2f}") -> str:
        return fmt.format(v) if isinstance(v, (int, float)) else "-"

    op = result.get("distill_on_policy", {})
    title = f"on-policy s/step (batch {op.get('batch_size')}, <= {op.get('max_new_tokens')} tokens)"
    return "\n".join(
        [
            f"{'SFT s/step, engine loop':<48}{f(s.get('sft_step_s')):>14}",
            f"{'KD (top-k) s/step, same rows':<48}{f(s.get('kd_step_s')):>14}",
            f"{'  KD / SFT (target <= 1.3)':<48}{f(s.get('kd_sft_step_time_ratio'), '{:.3f}'):>14}",
            f"{title:<48}{f(s.get('on_policy_step_s')):>14}",
            f"{'  share spent sampling':<48}{f(s.get('on_policy_sampling_share'), '{:.0%}'):>14}",
        ]
    )
