"""The stand-in "server's" storage under TINKER_STANDIN_ROOT: one folder per training run,
checkpoints in weights/, sampler_weights/ and external_weights/ (as tinker:// paths name
them), each with a <name>.json beside it (type, time, user metadata, base model, LoRA)."""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

SEGMENT = {"training": "weights", "sampler": "sampler_weights", "external": "external_weights"}
TYPE_OF = {v: k for k, v in SEGMENT.items()}


def root() -> Path:
    value = os.environ.get("TINKER_STANDIN_ROOT")
    if not value:
        raise RuntimeError("TINKER_STANDIN_ROOT is not set: the Tinker stand-in has nowhere to store runs")
    path = Path(value)
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_run_id() -> str:
    # The service's ids look like "<uuid>:train:0"; a tinker path splits on "/" only.
    return f"{uuid.uuid4()}:train:0"


def path_of(run_id: str, kind: str, name: str) -> str:
    return f"tinker://{run_id}/{SEGMENT[kind]}/{name}"


def parse(tinker_path: str) -> tuple[str, str, str]:
    """(run id, checkpoint type, name), as ParsedCheckpointTinkerPath parses it."""
    from tinker.types import ParsedCheckpointTinkerPath

    parsed = ParsedCheckpointTinkerPath.from_tinker_path(tinker_path)
    return parsed.training_run_id, parsed.checkpoint_type, parsed.checkpoint_id.split("/", 1)[1]


def folder(run_id: str, kind: str, name: str) -> Path:
    return root() / "runs" / run_id.replace(":", "_") / SEGMENT[kind] / name


def write_meta(run_id: str, kind: str, name: str, **meta: Any) -> None:
    target = folder(run_id, kind, name)
    record = {
        "run_id": run_id,
        "type": kind,
        "name": name,
        "time": datetime.now(timezone.utc).isoformat(),
        **meta,
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{target}.json").write_text(json.dumps(record), encoding="utf-8")


def read_meta(tinker_path: str) -> dict[str, Any]:
    run_id, kind, name = parse(tinker_path)
    meta = Path(f"{folder(run_id, kind, name)}.json")
    if not meta.exists():
        raise _not_found(f"no checkpoint at {tinker_path}")
    return json.loads(meta.read_text(encoding="utf-8"))


def exists(run_id: str, kind: str, name: str) -> bool:
    return Path(f"{folder(run_id, kind, name)}.json").exists()


def all_checkpoints(run_id: str | None = None) -> list[dict[str, Any]]:
    """Every checkpoint's record (newest first), of one run or all."""
    base = root() / "runs"
    if not base.exists():
        return []
    out = []
    for meta in base.glob("*/*/*.json"):
        record = json.loads(meta.read_text(encoding="utf-8"))
        if run_id is None or record["run_id"] == run_id:
            out.append(record)
    return sorted(out, key=lambda r: r["time"], reverse=True)


def checkpoint_model(record: dict[str, Any]) -> Any:
    """A record as the SDK's types.Checkpoint."""
    from tinker.types import Checkpoint

    target = folder(record["run_id"], record["type"], record["name"])
    size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file()) if target.exists() else None
    return Checkpoint(
        checkpoint_id=f"{SEGMENT[record['type']]}/{record['name']}",
        checkpoint_type=record["type"],
        time=datetime.fromisoformat(record["time"]),
        tinker_path=path_of(record["run_id"], record["type"], record["name"]),
        size_bytes=size,
        user_metadata=record.get("user_metadata") or None,
    )


def open_session() -> str:
    """A ServiceClient's session, recorded until it is closed (sessions/<id>.open)."""
    sid = str(uuid.uuid4())
    folder = root() / "sessions"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{sid}.open").write_text("", encoding="utf-8")
    return sid


def close_session(sid: str, status: str) -> None:
    folder = root() / "sessions"
    (folder / f"{sid}.open").unlink(missing_ok=True)
    (folder / f"{sid}.{status}").write_text("", encoding="utf-8")


def open_sessions() -> list[str]:
    folder = root() / "sessions"
    return sorted(p.stem for p in folder.glob("*.open")) if folder.exists() else []


def _not_found(message: str) -> Exception:
    import httpx
    import tinker

    request = httpx.Request("GET", "http://tinker-standin.invalid/api")
    return tinker.NotFoundError(message, response=httpx.Response(404, request=request), body=None)


def conflict(message: str) -> Exception:
    import httpx
    import tinker

    request = httpx.Request("POST", "http://tinker-standin.invalid/api")
    return tinker.ConflictError(message, response=httpx.Response(409, request=request), body=None)
