"""Pick the compute device and dtype once for the whole engine.

cuda > mps > cpu. On CPU the engine always computes in float32: bf16 matmuls on
CPUs without native support are many times slower and lose precision. On CUDA it computes
in bfloat16 where the GPU supports it (Ampere and later), else float16; on MPS in float32
(several ops lack half-precision kernels there). CHARACTER_ENGINE_DTYPE overrides the
choice on a GPU (float32 | bfloat16 | float16). Attention is PyTorch's SDPA, which picks
its flash / memory-efficient kernels on CUDA by itself (prefix_attention.py falls back to
it whenever no shared prefix is active). torch uses one thread per core so a single
request saturates the machine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class DeviceChoice:
    device: str  # "cuda" | "mps" | "cpu"
    dtype_name: str  # "float32" | "bfloat16" | "float16"
    threads: int

    @property
    def dtype(self):  # torch.dtype, imported lazily so `health` stays cheap to import
        import torch

        return getattr(torch, self.dtype_name)


DTYPES = ("float32", "bfloat16", "float16")


def dtype_for(device: str) -> str:
    """The compute dtype the engine uses on `device` (see the module docstring)."""
    import torch

    forced = os.environ.get("CHARACTER_ENGINE_DTYPE", "").strip().lower()
    if device != "cpu" and forced in DTYPES:
        return forced
    if device == "cuda":
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    return "float32"


def available_devices() -> list[str]:
    """Every device torch can compute on here, cpu first (the device-parametrised tests and
    scripts/gpu-check.sh run on each)."""
    import torch

    out = ["cpu"]
    if torch.cuda.is_available():
        out.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        out.append("mps")
    return out


def core_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@lru_cache(maxsize=1)
def select_device() -> DeviceChoice:
    """Choose the device (override with CHARACTER_ENGINE_DEVICE=cpu|cuda|mps).

    CHARACTER_ENGINE_THREADS overrides the thread count: on a machine shared with other
    busy processes, torch's threads spin-wait on each other and one thread can be tens
    of times faster for small models (measured: 30x for the tiny test model at load 12).
    """
    import torch

    forced = os.environ.get("CHARACTER_ENGINE_DEVICE", "").strip().lower()
    threads = core_count()
    try:
        threads = max(1, int(os.environ.get("CHARACTER_ENGINE_THREADS", "") or threads))
    except ValueError:
        pass
    torch.set_num_threads(threads)
    if forced == "cpu":
        return DeviceChoice("cpu", "float32", threads)
    if (forced in ("", "cuda")) and torch.cuda.is_available():
        return DeviceChoice("cuda", dtype_for("cuda"), threads)
    mps = getattr(torch.backends, "mps", None)
    if forced in ("", "mps") and mps is not None and mps.is_available():
        return DeviceChoice("mps", dtype_for("mps"), threads)
    return DeviceChoice("cpu", "float32", threads)


def free_memory_bytes() -> int:
    """Free memory on the selected device: GPU memory on CUDA, MemAvailable otherwise."""
    choice = select_device()
    if choice.device == "cuda":
        import torch

        free, _total = torch.cuda.mem_get_info()
        return int(free)
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # the file reports kB
    except OSError:
        pass
    try:
        pages = os.sysconf("SC_AVPHYS_PAGES")
        return int(pages * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 0
