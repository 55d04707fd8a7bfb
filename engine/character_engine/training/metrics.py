"""The one seam training metrics leave through: JSON lines in output_dir/metrics.jsonl,
mirrored as `metric` events, and, when asked, as TensorBoard scalars in output_dir/tensorboard
(`tensorboard --logdir <run>/jobs` then shows every job's curves; needs `pip install tensorboard`)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ..context import RequestContext
from ..errors import InvalidParams


class MetricsLog:
    """Append-only JSON lines at output_dir/metrics.jsonl, mirrored as `metric` events."""

    def __init__(
        self, output_dir: str, ctx: RequestContext, resume_step: int | None, tensorboard: bool = False
    ) -> None:
        self.path = Path(output_dir) / "metrics.jsonl"
        self.ctx = ctx
        self.board = _board(Path(output_dir) / "tensorboard", resume_step) if tensorboard else None
        if resume_step is not None and self.path.exists():
            # Rows past the checkpoint came from the interrupted run; the resumed run redoes them.
            keep = [
                line
                for line in self.path.read_text(encoding="utf-8").splitlines()
                if line.strip() and json.loads(line).get("step", 0) <= resume_step
            ]
            self.path.write_text("".join(line + "\n" for line in keep), encoding="utf-8")
        elif resume_step is None and self.path.exists():
            self.path.unlink()

    def write(self, kind: str, step: int, **values: float | str) -> None:
        """One row; values are numbers, plus a few labels (on-policy's `loss_kind`)."""
        row = {"kind": kind, "step": step, **values}
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(dict(row, time=round(time.time(), 3))) + "\n")
        if self.board is not None:
            for name, value in values.items():
                if isinstance(value, (int, float)):
                    self.board.add_scalar(f"{kind}/{name}", float(value), step)
            self.board.flush()
        self.ctx.emit("metric", **row)

    def close(self) -> None:
        if self.board is not None:
            self.board.close()


def _board(folder: Path, resume_step: int | None) -> Any:
    """A TensorBoard writer; a resumed run purges the interrupted steps after its checkpoint."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as exc:
        raise InvalidParams(
            "'tensorboard' needs the tensorboard package in the engine's environment: "
            "engine/.venv/bin/pip install tensorboard",
            param="tensorboard",
        ) from exc
    return SummaryWriter(str(folder), purge_step=resume_step + 1 if resume_step is not None else None)
