"""The one seam training metrics leave through: JSON lines in output_dir/metrics.jsonl,
mirrored as `metric` events."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..context import RequestContext


class MetricsLog:
    """Append-only JSON lines at output_dir/metrics.jsonl, mirrored as `metric` events."""

    def __init__(self, output_dir: str, ctx: RequestContext, resume_step: int | None) -> None:
        self.path = Path(output_dir) / "metrics.jsonl"
        self.ctx = ctx
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
        self.ctx.emit("metric", **row)
