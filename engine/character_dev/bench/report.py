"""The result's summary ratios and the table printed to stderr."""

from __future__ import annotations

from typing import Any

# Sections of the result that come from a phase subprocess (each may carry an "error").
PHASE_RESULTS = ("generation", "sft_engine", "sft_trl", "sft_trl_tuned_allocator")


# Prefix-cached batched generation against one request at a time, and against the machine's
# compute limit for the model (limit.py) at the same batch.
GENERATION_SPEEDUP_TARGET = 15.0
LIMIT_FRACTION_TARGET = 0.70


def _ratio(a: float | None, b: float | None) -> float | None:
    return (a / b) if a is not None and b else None


def summarize(
    gen: dict[str, Any], eng: dict[str, Any], trl: dict[str, Any], trl_tuned: dict[str, Any]
) -> dict[str, Any]:
    """The headline ratios of the phase results, next to their targets."""
    cb, sq, tt = gen.get("cached_batched", {}), gen.get("sequential_uncached", {}), gen.get("ttft", {})
    cap, bf = gen.get("topk_capture", {}), gen.get("bf16", {})
    loss_gap = None
    if eng.get("final_loss") and trl.get("final_loss"):
        loss_gap = abs(eng["final_loss"] - trl["final_loss"]) / trl["final_loss"]
    return {
        "generation_speedup": _ratio(cb.get("tokens_per_s"), sq.get("tokens_per_s")),
        "generation_speedup_by_batch": {
            bs: _ratio(r.get("tokens_per_s"), sq.get("tokens_per_s"))
            for bs, r in gen.get("cached_batched_by_batch", {}).items()
        },
        "generation_speedup_batch_size": cb.get("batch_size"),
        "generation_speedup_target": GENERATION_SPEEDUP_TARGET,
        "generation_fraction_of_limit": cb.get("fraction_of_limit"),
        "generation_fraction_of_limit_target": LIMIT_FRACTION_TARGET,
        "generation_limit_tokens_per_s": cb.get("limit", {}).get("tokens_per_s"),
        "prefix_single_copy_over_expanded": gen.get("prefix_paths", {}).get("single_copy_over_expanded"),
        "bf16_kl_per_token": bf.get("agreement", {}).get("kl_mean"),
        "bf16_kl_tolerance": bf.get("agreement", {}).get("kl_tolerance"),
        "bf16_speed_ratio": bf.get("speed", {}).get("ratio"),
        "bf16_used": bf.get("engine_uses_bf16_on_cpu"),
        "topk_capture_ratio": cap.get("ratio"),
        "topk_capture_ratio_target": 0.9,
        "sft_speedup_vs_trl": _ratio(eng.get("tokens_per_s"), trl.get("tokens_per_s")),
        "sft_speedup_target": 1.5,
        "sft_speedup_vs_trl_same_allocator": _ratio(eng.get("tokens_per_s"), trl_tuned.get("tokens_per_s")),
        "sft_final_loss_relative_gap": loss_gap,
        "sft_final_loss_gap_target": 0.02,
        "ttft_ratio_with_vs_without_prompt": _ratio(tt.get("with_prompt_ms"), tt.get("without_prompt_ms")),
    }


def _f(value: Any, fmt: str = "{:.2f}") -> str:
    return fmt.format(value) if isinstance(value, (int, float)) else "-"


def format_table(result: dict[str, Any]) -> str:
    g, e, t = result["generation"], result["sft_engine"], result["sft_trl"]
    t2 = result.get("sft_trl_tuned_allocator", {})
    s = result["summary"]
    sq, tt = g.get("sequential_uncached", {}), g.get("ttft", {})
    cap = g.get("topk_capture", {})
    cap_plain = f"generation tokens/s, batch {cap.get('batch_size')}, no capture"
    cap_topk = f"generation tokens/s, same, top-{cap.get('k')} captured"
    m = result.get("machine", {})
    lines = [
        f"Character Studio engine bench ({'quick' if result['quick'] else 'full'}; {result['model']})",
        f"machine: {m.get('cpus')} cores, torch threads {m.get('torch_threads')}, flags "
        f"{' '.join(m.get('cpu_flags') or []) or '-'}; bf16 used by the engine: "
        f"{'yes' if s.get('bf16_used') else 'no (float32)'}",
        f"{'measure':<48}{'value':>14}{'peak RSS MiB':>14}",
        f"{'generation tokens/s, one at a time, no cache':<48}{_f(sq.get('tokens_per_s')):>14}{_f(sq.get('peak_rss_mb'), '{:.0f}'):>14}",
        *[
            f"{f'generation tokens/s, prefix-cached, batch {bs}':<48}{_f(r.get('tokens_per_s')):>14}{_f(r.get('peak_rss_mb'), '{:.0f}'):>14}"
            for bs, r in g.get("cached_batched_by_batch", {}).items()
        ],
        *[
            f"{f'  speedup at batch {bs}' + (f' (target >= {GENERATION_SPEEDUP_TARGET:.0f}x)' if int(bs) == s.get('generation_speedup_batch_size') else ''):<48}{_f(x):>14}"
            for bs, x in (s.get("generation_speedup_by_batch") or {}).items()
        ],
        *[
            f"{f'  compute limit at batch {bs}, tokens/s':<48}{_f(r.get('limit', {}).get('tokens_per_s')):>14}"
            f"\n{'  fraction of it' + (' (target >= 0.70)' if int(bs) == s.get('generation_speedup_batch_size') else ''):<48}{_f(r.get('fraction_of_limit'), '{:.3f}'):>14}"
            for bs, r in g.get("cached_batched_by_batch", {}).items()
        ],
        f"{'prefix single copy / expanded SDPA (tokens/s)':<48}{_f(s.get('prefix_single_copy_over_expanded'), '{:.3f}'):>14}",
        f"{'bf16 vs fp32: KL per token, nats (tol ' + _f(s.get('bf16_kl_tolerance'), '{:.2f}') + ')':<48}{_f(s.get('bf16_kl_per_token'), '{:.4f}'):>14}",
        f"{'bf16 / fp32 generation tokens/s':<48}{_f(s.get('bf16_speed_ratio'), '{:.3f}'):>14}",
        f"{cap_plain:<48}{_f(cap.get('uncaptured', {}).get('tokens_per_s')):>14}",
        f"{cap_topk:<48}{_f(cap.get('captured', {}).get('tokens_per_s')):>14}",
        f"{'  capture / no capture (target >= 0.90)':<48}{_f(s.get('topk_capture_ratio'), '{:.3f}'):>14}",
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
