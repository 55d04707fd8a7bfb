"""Complete, atomic checkpoints: output_dir/checkpoints/step-000NNN/ holds

  adapter_model.safetensors, adapter_config.json   the PEFT adapter (save_pretrained)
  optimizer.pt, scheduler.pt                        optimizer and LR schedule state
  rng_state.pt                                      torch / python / numpy RNG states
  trainer_state.json                                step, epoch, data position, config, data_hash

Each checkpoint is written into a hidden temp folder and renamed into place, so a
kill mid-save never leaves a half checkpoint under a step-* name.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

from ..errors import CorruptFile, InvalidParams

STATE_FILE = "trainer_state.json"
REQUIRED_FILES = ("adapter_config.json", "optimizer.pt", "scheduler.pt", "rng_state.pt", STATE_FILE)


def checkpoint_dir(output_dir: str, step: int) -> Path:
    return Path(output_dir) / "checkpoints" / f"step-{step:06d}"


def capture_rng() -> dict[str, Any]:
    import numpy as np
    import torch

    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": np.random.get_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    import numpy as np
    import torch

    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(
    output_dir: str,
    step: int,
    model: Any,
    optimizer: Any,
    scheduler: Any,
    rng_state: dict[str, Any],
    state: dict[str, Any],
) -> str:
    """Write a complete checkpoint atomically; returns its folder."""
    import torch

    final = checkpoint_dir(output_dir, step)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".tmp-{final.name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    model.save_pretrained(str(tmp))
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
    torch.save(rng_state, tmp / "rng_state.pt")
    (tmp / STATE_FILE).write_text(json.dumps(dict(state, step=step), indent=2), encoding="utf-8")
    _fsync_dir(tmp)
    if final.exists():  # re-saving the same step (e.g. a resumed run): replace it
        old = final.parent / f".old-{final.name}-{os.getpid()}"
        os.rename(final, old)
        os.rename(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, final)
    _fsync_dir(final.parent)
    return str(final)


def _fsync_dir(path: Path) -> None:
    for f in path.iterdir() if path.is_dir() else []:
        if f.is_file():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
    try:
        fd = os.open(str(path), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def read_state(path: str) -> dict[str, Any]:
    folder = Path(path)
    missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
    if missing:
        raise InvalidParams(
            f"'{path}' is not a complete checkpoint (missing {', '.join(missing)})",
            param="resume_from",
            missing=missing,
        )
    try:
        return json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise CorruptFile(
            f"{folder / STATE_FILE} is not valid JSON: {exc}", file=str(folder / STATE_FILE)
        ) from exc


def load_torch(path: Path) -> Any:
    import torch

    # Our own files: optimizer/scheduler/RNG states contain numpy and python objects.
    return torch.load(path, map_location="cpu", weights_only=False)


def remove_stale_temp_folders(output_dir: str) -> None:
    """Half-written saves of a killed run (hidden .tmp-*/.old-* folders) are garbage."""
    root = Path(output_dir) / "checkpoints"
    if root.is_dir():
        for p in root.iterdir():
            if p.is_dir() and (p.name.startswith(".tmp-") or p.name.startswith(".old-")):
                shutil.rmtree(p, ignore_errors=True)


def latest_checkpoint(output_dir: str) -> str | None:
    root = Path(output_dir) / "checkpoints"
    if not root.is_dir():
        return None
    steps = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("step-"))
    return str(steps[-1]) if steps else None
