"""The JSON-lines protocol server (see PROTOCOL.md and src-shared/engine-protocol.ts).

Threads: the reader (main thread) parses stdin lines and answers `health`, `cancel`
and `shutdown` at once; every other request queues for ONE worker thread and runs in
order (tensor work on a few cores gains nothing from running requests side by side).
stdout carries protocol lines only: the real stdout is kept privately and sys.stdout
is pointed at stderr, so stray library prints cannot corrupt the channel.

The server owns the engine state (state.py: model cache, prefix cache, embedders) and
hands it to every request in its RequestContext.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import logging
import math
import os
import platform
import queue
import sys
import threading
import traceback
from collections.abc import Callable
from typing import IO, Any

from . import __version__
from .context import RequestContext
from .errors import BadRequest, Cancelled, EngineError, InvalidParams, OutOfMemory, UnknownMethod
from .parent_watch import PARENT_PID_ENV, terminate_self, watch_parent
from .state import EngineState

log = logging.getLogger("character_engine")

Handler = Callable[[dict[str, Any], RequestContext], dict[str, Any]]

# name -> "module:function", imported on first use so startup stays fast and a broken
# optional module (training, export) cannot stop the engine from serving the rest.
METHODS: dict[str, str] = {
    "load_model": "character_engine.handlers.models:handle_load_model",
    "unload_model": "character_engine.handlers.models:handle_unload_model",
    "count_tokens": "character_engine.handlers.generate:handle_count_tokens",
    "generate": "character_engine.handlers.generate:handle_generate",
    "score": "character_engine.handlers.scoring:handle_score",
    "kl_metrics": "character_engine.handlers.scoring:handle_kl_metrics",
    "embed": "character_engine.handlers.scoring:handle_embed",
    "classifier_fit": "character_engine.handlers.scoring:handle_classifier_fit",
    "classifier_predict": "character_engine.handlers.scoring:handle_classifier_predict",
    "train_sft": "character_engine.handlers.training:handle_train_sft",
    "train_dpo": "character_engine.handlers.training:handle_train_dpo",
    "train_kd": "character_engine.handlers.training:handle_train_kd",
    "train_on_policy": "character_engine.handlers.training:handle_train_on_policy",
    "export_adapter": "character_engine.handlers.export:handle_export_adapter",
    "push_to_hub": "character_engine.handlers.export:handle_push_to_hub",
    "export_modal": "character_engine.handlers.export:handle_export_modal",
    "tinker_train": "character_engine.handlers.tinker:handle_tinker_train",
    "tinker_generate": "character_engine.handlers.tinker:handle_tinker_generate",
    "tinker_checkpoints": "character_engine.handlers.tinker:handle_tinker_checkpoints",
    "tinker_pull": "character_engine.handlers.tinker:handle_tinker_pull",
    "topk_from_logprobs": "character_engine.handlers.topk:handle_topk_from_logprobs",
    "topk_trim": "character_engine.handlers.topk:handle_topk_trim",
    "merge_adapters": "character_engine.handlers.merge:handle_merge_adapters",
}
IMMEDIATE = ("health", "cancel", "shutdown")
VERSION_PACKAGES = (
    "torch",
    "transformers",
    "peft",
    "trl",
    "tokenizers",
    "safetensors",
    "accelerate",
    "sentence-transformers",
    "scikit-learn",
    "gguf",
    "numpy",
)
WORKER_JOIN_S = 10.0


def resolve_handler(method: str) -> Handler:
    target = METHODS.get(method)
    if target is None:
        raise UnknownMethod(f"unknown method '{method}'", method=method, known=sorted([*METHODS, *IMMEDIATE]))
    module_name, func_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, func_name)
    except (ImportError, AttributeError) as exc:
        raise EngineError(
            f"method '{method}' is not available: {type(exc).__name__}: {exc}", method=method, target=target
        ) from exc


def health() -> dict[str, Any]:
    from .devices import free_memory_bytes, select_device

    versions = {}
    for pkg in VERSION_PACKAGES:
        try:
            versions[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            versions[pkg] = "missing"
    from .allocator import state as allocator_state

    choice = select_device()
    return {
        "engine_version": __version__,
        "python": platform.python_version(),
        "versions": versions,
        "device": choice.device,
        "dtype": choice.dtype_name,
        "threads": choice.threads,
        "free_memory_bytes": free_memory_bytes(),
        "allocator": allocator_state(),
        "pid": os.getpid(),
    }


def error_payload(exc: BaseException) -> dict[str, Any]:
    """Map any exception to the wire error object; never raises."""
    if isinstance(exc, EngineError):
        return exc.to_payload()
    oom_type = None
    try:
        import torch

        oom_type = getattr(torch, "OutOfMemoryError", None)
    except ImportError:
        pass
    if isinstance(exc, MemoryError) or (oom_type is not None and isinstance(exc, oom_type)):
        return OutOfMemory(f"out of memory: {exc}", exception=type(exc).__name__).to_payload()
    if isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower():
        return OutOfMemory(f"out of memory: {exc}", exception=type(exc).__name__).to_payload()
    return EngineError(
        f"{type(exc).__name__}: {exc}",
        exception=type(exc).__name__,
        traceback=traceback.format_exc(limit=8),
    ).to_payload()


def _finite(value: Any) -> Any:
    """A copy of value with every non-finite float replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class _RequestLogHandler(logging.Handler):
    """Forwards warnings logged while a request runs (by us or a library) as `log` events."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.current = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        ctx = getattr(self.current, "ctx", None)
        if ctx is None:
            return
        level = {logging.WARNING: "warning", logging.ERROR: "error", logging.CRITICAL: "error"}.get(
            record.levelno, "info"
        )
        try:
            ctx.log(record.getMessage()[:2000], level=level)
        except Exception:  # noqa: BLE001 - logging must never break a request
            pass


class Server:
    def __init__(self, out: IO[str], inp: IO[bytes], state: EngineState) -> None:
        self._out = out
        self._in = inp
        self.state = state  # handed to every request as ctx.state
        self._write_lock = threading.Lock()
        self._queue: queue.Queue[tuple[str, str, dict[str, Any], RequestContext] | None] = queue.Queue()
        self._pending: dict[str, RequestContext] = {}
        self._pending_lock = threading.Lock()
        self._worker = threading.Thread(target=self._work, name="engine-worker", daemon=True)
        self._stopping = threading.Event()
        self._log_handler = _RequestLogHandler()
        logging.getLogger().addHandler(self._log_handler)

    # -- output
    def send(self, message: dict[str, Any]) -> None:
        line = json.dumps(message, ensure_ascii=False, allow_nan=False, default=str)
        with self._write_lock:
            self._out.write(line + "\n")
            self._out.flush()

    def _safe_send(self, message: dict[str, Any]) -> None:
        try:
            self.send(message)
        except ValueError:  # NaN/inf is not JSON: send null in its place instead of dying
            self.send(_finite(message))
        except (BrokenPipeError, OSError):
            self._stopping.set()

    def reply(self, req_id: Any, result: dict[str, Any]) -> None:
        self._safe_send({"id": req_id, "result": result})

    def fail(self, req_id: Any, payload: dict[str, Any]) -> None:
        self._safe_send({"id": req_id, "error": payload})

    # -- loop
    def serve(self) -> int:
        self._worker.start()
        while not self._stopping.is_set():
            raw = self._in.readline()
            if not raw:
                break  # EOF: the parent went away
            if not raw.strip():
                continue
            self._handle_line(raw)
        self._stop()
        return 0

    def _handle_line(self, raw: bytes) -> None:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.fail(None, BadRequest(f"line is not UTF-8: {exc}").to_payload())
            return
        try:
            msg = json.loads(text)
        except json.JSONDecodeError as exc:
            self.fail(
                None,
                BadRequest(
                    f"line is not valid JSON: {exc.msg} at column {exc.colno}", line=text[:200]
                ).to_payload(),
            )
            return
        if not isinstance(msg, dict):
            self.fail(None, BadRequest("a request must be a JSON object", line=text[:200]).to_payload())
            return
        req_id = msg.get("id")
        if not isinstance(req_id, str) or not req_id:
            self.fail(None, BadRequest("request lacks a string 'id'", line=text[:200]).to_payload())
            return
        method = msg.get("method")
        if not isinstance(method, str):
            self.fail(req_id, BadRequest("request lacks a string 'method'", line=text[:200]).to_payload())
            return
        params = msg.get("params", {})
        if params is None:
            params = {}
        if not isinstance(params, dict):
            self.fail(req_id, InvalidParams("'params' must be an object", param="params").to_payload())
            return
        if method in IMMEDIATE:
            self._immediate(req_id, method, params)
            return
        if method not in METHODS:
            self.fail(req_id, UnknownMethod(f"unknown method '{method}'", method=method).to_payload())
            return
        with self._pending_lock:
            if req_id in self._pending:
                self.fail(
                    req_id, BadRequest(f"request id '{req_id}' is already in use", id=req_id).to_payload()
                )
                return
            ctx = RequestContext(request_id=req_id, _emit=self._safe_send, state=self.state)
            self._pending[req_id] = ctx
        self._queue.put((req_id, method, params, ctx))

    def _immediate(self, req_id: str, method: str, params: dict[str, Any]) -> None:
        try:
            if method == "health":
                self.reply(req_id, health())
            elif method == "cancel":
                target = params.get("target")
                if not isinstance(target, str):
                    raise InvalidParams("'target' must be a request id", param="target")
                with self._pending_lock:
                    ctx = self._pending.get(target)
                if ctx is not None:
                    ctx.cancel_event.set()
                self.reply(req_id, {"cancelled": ctx is not None})
            else:  # shutdown
                self.reply(req_id, {"ok": True})
                self._stopping.set()
        except Exception as exc:  # noqa: BLE001 - the loop must survive anything
            self.fail(req_id, error_payload(exc))

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            req_id, method, params, ctx = job
            self._log_handler.current.ctx = ctx
            try:
                if ctx.cancelled:
                    raise Cancelled("request was cancelled before it started", request=req_id)
                handler = resolve_handler(method)
                result = handler(params, ctx)
                self.reply(req_id, result if result is not None else {})
            except BaseException as exc:  # noqa: BLE001 - includes MemoryError; never kill the worker
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise
                if not isinstance(exc, EngineError):
                    log.exception("request %s (%s) failed", req_id, method)
                self.fail(req_id, error_payload(exc))
            finally:
                self._log_handler.current.ctx = None
                with self._pending_lock:
                    self._pending.pop(req_id, None)

    def _stop(self) -> None:
        self._stopping.set()
        with self._pending_lock:
            for ctx in self._pending.values():
                ctx.cancel_event.set()
        self._queue.put(None)
        self._worker.join(timeout=WORKER_JOIN_S)


def run_protocol_server() -> int:
    """Entry for `python -m character_engine` with no arguments."""
    proto_out = sys.stdout
    sys.stdout = sys.stderr  # library prints go to stderr; proto_out is ours alone
    logging.basicConfig(
        stream=sys.stderr,
        level=os.environ.get("CHARACTER_ENGINE_LOG", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # tqdm bars and hub lookups: never on stdout, never on the network for local files.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Gone with the process that started it (a training step does not read stdin for minutes).
    watch_parent(os.environ.get(PARENT_PID_ENV), terminate_self)
    # The one engine state of this process: loaded models and stored prefixes outlive requests.
    server = Server(proto_out, sys.stdin.buffer, EngineState())
    return server.serve()
