"""The machine's compute limit for the model, and what the machine is.

The limit is what the model's own matrix products cost at the batch generation runs with:
every nn.Linear of the decoder and the LM head, applied to [batch, in_features] inputs,
back to back, in the model's dtype. One pass = one decode step's weights for `batch`
tokens, so batch / seconds-per-pass is the tokens/s no decode loop can beat on this machine
with these kernels (attention, norms, sampling and Python all come on top). Generation is
reported as a fraction of it, measured in the same process right around the generation run,
so both see the same load.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from typing import Any

# CPU features that decide which matmul kernels torch's oneDNN paths can use.
FLAGS_OF_INTEREST = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16")


def cpu_flags() -> list[str]:
    """The FLAGS_OF_INTEREST this CPU reports (Linux /proc/cpuinfo; empty elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    have = set(line.split(":", 1)[1].split())
                    return [x for x in FLAGS_OF_INTEREST if x in have]
    except OSError:
        pass
    return []


def bf16_hardware(flags: list[str]) -> bool:
    """Whether bf16 dot products run natively (AVX512_BF16 or AMX) rather than emulated."""
    return "avx512_bf16" in flags or "amx_bf16" in flags


def machine() -> dict[str, Any]:
    """Cores, torch threads and the CPU flags that matter, stated on every bench row."""
    import torch

    flags = cpu_flags()
    return {
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "processor": platform.processor() or platform.machine(),
        "cpu_flags": flags,
        "bf16_hardware": bf16_hardware(flags),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch": torch.__version__,
    }


def linear_weights(model: Any) -> list[Any]:
    """Every nn.Linear weight a decode step multiplies by (decoder layers and LM head)."""
    import torch

    weights = [m.weight for m in model.modules() if isinstance(m, torch.nn.Linear)]
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if head is not None and all(head.weight is not w for w in weights):
        weights.append(head.weight)
    return weights


def matmul_limit(model: Any, batch: int, repeats: int = 5) -> dict[str, Any]:
    """Tokens/s (and GFLOP/s) of the model's matrix products alone at `batch` rows: the
    median of `repeats` passes after one warm-up pass."""
    import torch

    weights = [w.detach() for w in linear_weights(model)]
    dtype = weights[0].dtype
    inputs = {w.shape[1]: torch.randn(batch, w.shape[1], dtype=dtype) for w in weights}
    flops = sum(2 * w.numel() for w in weights) * batch
    times = []
    with torch.inference_mode():
        for rep in range(repeats + 1):
            t0 = time.perf_counter()
            for w in weights:
                torch.nn.functional.linear(inputs[w.shape[1]], w)
            if rep:
                times.append(time.perf_counter() - t0)
    seconds = statistics.median(times)
    return {
        "batch": batch,
        "dtype": str(dtype).replace("torch.", ""),
        "matrices": len(weights),
        "gflop_per_token": flops / batch / 1e9,
        "pass_ms": seconds * 1000,
        "tokens_per_s": batch / seconds,
        "gflops": flops / seconds / 1e9,
    }
