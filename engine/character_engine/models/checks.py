"""Checks on model files before transformers sees them, and load failures as typed errors."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from ..errors import CorruptFile, EngineError, ModelLoadFailed, UnsupportedArchitecture


def validate_safetensors(path: Path | str) -> None:
    """Check a .safetensors file's header and that its size covers every tensor.

    A truncated download otherwise fails deep inside transformers with a vague message.
    """
    p = Path(path)
    try:
        size = p.stat().st_size
        with open(p, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise CorruptFile(f"truncated safetensors file (no header): {p}", file=str(p))
            (n,) = struct.unpack("<Q", head)
            if n <= 0 or 8 + n > size:
                raise CorruptFile(f"corrupt safetensors header in {p}", file=str(p))
            header = json.loads(fh.read(n).decode("utf-8"))
    except CorruptFile:
        raise
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise CorruptFile(f"corrupt safetensors file {p}: {exc}", file=str(p)) from exc
    end = 0
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        offsets = meta.get("data_offsets") if isinstance(meta, dict) else None
        if not offsets or len(offsets) != 2:
            raise CorruptFile(f"corrupt safetensors header in {p} (tensor {name})", file=str(p))
        end = max(end, int(offsets[1]))
    if 8 + n + end > size:
        raise CorruptFile(
            f"truncated safetensors file {p}: {size} bytes, header needs {8 + n + end}",
            file=str(p),
            size=size,
            expected=8 + n + end,
        )


def classify_load_error(exc: Exception, path: str, architecture: str) -> EngineError:
    text = f"{type(exc).__name__}: {exc}"
    if "SafetensorError" in type(exc).__name__ or "deserializ" in str(exc):
        return CorruptFile(f"corrupt weights file under {path}: {exc}", file=path)
    if "not supported" in str(exc) and "architecture" in str(exc):
        return UnsupportedArchitecture(
            f"unsupported architecture '{architecture}': {exc}", architecture=architecture
        )
    if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower():
        raise exc  # the server maps these to out_of_memory
    return ModelLoadFailed(f"failed to load {path}: {text}", path=path, exception=type(exc).__name__)
