"""The bench's compute limit (the model's own matrix products at a batch), its machine line and
its bf16 agreement measure, on the tiny model."""

from __future__ import annotations

from character_dev.bench.bf16 import bf16_agreement
from character_dev.bench.limit import bf16_hardware, linear_weights, machine, matmul_limit
from character_dev.bench.report import format_table, summarize
from character_engine.models.cache import load_private


def test_the_limit_times_every_matrix_a_decode_step_multiplies_by(tiny_model_dir: str) -> None:
    import torch

    loaded = load_private({"source": "local", "path": tiny_model_dir})
    model = loaded.model
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    weights = linear_weights(model)
    assert len(weights) == len(linears)  # the LM head is one of them, counted once
    params = sum(w.numel() for w in weights)
    limit = matmul_limit(model, batch=4, repeats=2)
    assert limit["matrices"] == len(weights)
    assert abs(limit["gflop_per_token"] - 2 * params / 1e9) < 1e-12
    assert limit["tokens_per_s"] > 0 and limit["dtype"] == "float32"
    # tokens/s and GFLOP/s are one measurement in two units
    assert abs(limit["gflops"] - limit["tokens_per_s"] * limit["gflop_per_token"]) < 1e-6 * limit["gflops"]


def test_bf16_needs_the_cpu_flags_and_the_machine_line_says_which() -> None:
    assert bf16_hardware(["avx2", "avx512_bf16"]) and bf16_hardware(["amx_bf16"])
    assert not bf16_hardware(["avx2", "fma", "avx512f"])
    m = machine()
    assert m["cpus"] >= 1 and isinstance(m["cpu_flags"], list)
    gen = {
        "cached_batched": {
            "batch_size": 8,
            "tokens_per_s": 50.0,
            "fraction_of_limit": 0.5,
            "limit": {"tokens_per_s": 100.0},
        },
        "sequential_uncached": {"tokens_per_s": 5.0},
        "cached_batched_by_batch": {
            "8": {"tokens_per_s": 50.0, "fraction_of_limit": 0.5, "limit": {"tokens_per_s": 100.0}}
        },
        "bf16": {
            "agreement": {"kl_mean": 0.001, "kl_tolerance": 0.03},
            "speed": {"ratio": 0.4},
            "engine_uses_bf16_on_cpu": False,
        },
    }
    s = summarize(gen, {}, {}, {})
    assert s["generation_fraction_of_limit"] == 0.5 and s["generation_speedup"] == 10.0
    assert s["bf16_used"] is False
    empty: dict = {}
    table = format_table(
        {
            "quick": True,
            "model": "tiny",
            "machine": {**m, "cpu_flags": ["avx2"]},
            "summary": s,
            "generation": gen,
        }
        | {"sft_engine": empty, "sft_trl": empty}
    )
    assert "flags avx2; bf16 used by the engine: no (float32)" in table
    assert "fraction of it (target >= 0.70)" in table


def test_bf16_agreement_is_small_on_the_models_own_answers(tiny_model_dir: str) -> None:
    loaded = load_private({"source": "local", "path": tiny_model_dir})
    items = [{"messages": [{"role": "user", "content": q}]} for q in ("Hello!", "Who are you?")]
    answers = [[5, 6, 7, 8], [9, 10, 11]]
    out = bf16_agreement(loaded, items, answers, k=8)
    assert out["tokens"] == 7 and out["answers"] == 2
    assert 0 <= out["kl_mean"] <= out["kl_max"]
    assert 0 < out["topk_overlap"] <= 1 and 0 <= out["argmax_agreement"] <= 1
    assert out["bf16_model"] is not loaded.model  # a copy: the float32 model is untouched
    assert (
        next(loaded.model.parameters()).dtype.is_floating_point
        and str(next(loaded.model.parameters()).dtype) == "torch.float32"
    )
