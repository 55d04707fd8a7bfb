"""The server process: its options, the listening socket, and the pieces it wires together
(the scheduler's decoding thread, the slow-client guard, the HTTP handler threads)."""

from __future__ import annotations

import argparse
import errno
import ipaddress
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ..errors import EngineError, InvalidParams
from ..models.loaded import LoadedModel
from ..parent_watch import PARENT_PID_ENV, watch_parent
from ..state import EngineState
from .api import context_length, max_token_chars
from .handler import Handler, SlowClientGuard
from .scheduler import DEFAULT_MAX_ITEMS, DEFAULT_MAX_QUEUE, Scheduler

log = logging.getLogger("character_engine.serve")

# Seconds a client has to send a whole request (line, headers, body), and the longest any
# single read or write on its socket may block (a client that stops reading a stream).
DEFAULT_REQUEST_TIMEOUT_S = 30.0
# Connections served at once; more are answered 503 without a thread.
DEFAULT_MAX_CONNECTIONS = 64
API_KEY_ENV = "CHARACTER_ENGINE_API_KEY"
_BUSY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class ChatServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        address: tuple[str, int],
        state: EngineState,
        loaded: LoadedModel,
        model_id: str,
        *,
        api_key: str | None = None,
        max_model_len: int | None = None,
        max_batch: int = DEFAULT_MAX_ITEMS,
        max_queue: int = DEFAULT_MAX_QUEUE,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT_S,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        host = address[0]
        self.loopback = is_loopback(host)
        if not self.loopback and not api_key:
            raise ValueError(f"binding to {host} (beyond loopback) needs an API key")
        self.address_family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
        # Before binding: a bind that fails (a port in use) calls server_close, which needs them;
        # set after, the AttributeError hid "Address already in use".
        self._connections: set[Any] = set()
        self._connections_lock = threading.Lock()
        self.guard: SlowClientGuard | None = None
        self.scheduler: Scheduler | None = None
        super().__init__((host.strip("[]"), address[1]), Handler)
        self.port = int(self.server_address[1])
        self.state, self.loaded, self.model_id = state, loaded, model_id
        self.api_key = api_key or None
        self.context = context_length(loaded, max_model_len)
        self.vocab_size = int(loaded.info.get("vocab_size") or len(loaded.tokenizer))
        self.tokenizer_lock = threading.Lock()
        self.token_chars = max_token_chars(loaded.tokenizer)
        self.request_timeout = request_timeout
        self.created = int(time.time())
        self.guard = SlowClientGuard()
        self._slots = threading.BoundedSemaphore(max_connections)
        self.scheduler = Scheduler(loaded, state.prefixes, max_items=max_batch, max_queue=max_queue)
        self.scheduler.start()

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            try:
                request.sendall(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.discard(request)
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # a client that vanished or was cut off by the guard
            log.info("connection from %s ended: %s", client_address, exc)
        else:
            log.exception("error while serving %s", client_address)

    def server_close(self) -> None:
        """Stop listening, end every open connection (their threads then end) and the decoding."""
        super().server_close()
        with self._connections_lock:
            open_now = list(self._connections)
        for conn in open_now:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self.guard is not None:
            self.guard.stop()
        if self.scheduler is not None:
            self.scheduler.stop()


def default_model_id(loaded: LoadedModel, adapter: str | None) -> str:
    """The adapter folder's name when one is served (the character), else the model's name."""
    if adapter:
        return Path(adapter.rstrip("/\\")).name or "adapter"
    return str(loaded.info.get("name") or "model")


def make_server(
    state: EngineState,
    loaded: LoadedModel,
    host: str = "127.0.0.1",
    port: int = 0,
    model_id: str | None = None,
    **options: Any,
) -> ChatServer:
    """A started server (its decoding thread runs; call serve_forever to answer requests).
    Options: api_key, max_model_len, max_batch, max_queue, request_timeout, max_connections."""
    name = model_id or default_model_id(loaded, loaded.info.get("adapter"))
    return ChatServer((host, port), state, loaded, name, **options)


def build_spec(args: argparse.Namespace) -> dict[str, Any]:
    if args.model_source == "default":
        return {"source": "default"}
    if not args.path:
        raise SystemExit(f"--path is required for --model-source {args.model_source}")
    if args.model_source == "hub":
        spec: dict[str, Any] = {"source": "hub", "repo_id": args.path}
        for name in ("revision", "endpoint", "cache_dir"):
            if getattr(args, name):
                spec[name] = getattr(args, name)
        return spec
    return {"source": args.model_source, "path": args.path}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from . import __doc__ as doc

    p = argparse.ArgumentParser(
        prog="python -m character_engine serve",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model-source", choices=["default", "local", "gguf", "hub"], default="default")
    p.add_argument("--path", help="folder (local), file (gguf) or repo id (hub)")
    p.add_argument("--adapter", help="a PEFT adapter folder to apply")
    p.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    p.add_argument("--host", default="127.0.0.1", help="beyond loopback an API key is required")
    p.add_argument("--api-key", help=f"require 'Authorization: Bearer KEY' (default: ${API_KEY_ENV})")
    p.add_argument("--model-id", help="the id /v1/models reports (default: the adapter's or model's name)")
    p.add_argument("--max-model-len", type=int, help="a context shorter than the model's (tokens)")
    p.add_argument("--max-batch", type=int, default=DEFAULT_MAX_ITEMS, help="answers decoded at once")
    p.add_argument("--max-queue", type=int, default=DEFAULT_MAX_QUEUE, help="requests waiting; more get 429")
    p.add_argument("--request-timeout", type=float, default=DEFAULT_REQUEST_TIMEOUT_S, help="seconds")
    p.add_argument("--revision")
    p.add_argument("--endpoint")
    p.add_argument("--cache-dir")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    api_key = args.api_key or os.environ.get(API_KEY_ENV) or None
    if not is_loopback(args.host) and not api_key:
        print(
            f"serve: --host {args.host} is reachable beyond this machine; give --api-key KEY "
            f"(or set {API_KEY_ENV})",
            file=sys.stderr,
        )
        return 2
    state = EngineState()
    try:
        loaded = state.models.load(build_spec(args), args.adapter)
    except EngineError as exc:
        print(json.dumps({"event": "error", "error": exc.to_payload()}), flush=True)
        return 1
    try:
        server = make_server(
            state,
            loaded,
            args.host,
            args.port,
            args.model_id,
            api_key=api_key,
            max_model_len=args.max_model_len,
            max_batch=args.max_batch,
            max_queue=args.max_queue,
            request_timeout=args.request_timeout,
        )
    except OSError as exc:
        in_use = exc.errno == errno.EADDRINUSE
        message = (
            f"port {args.port} on {args.host} is in use (another server, or an engine left running: "
            f"`lsof -i :{args.port}` names it); stop it or pick another --port"
            if in_use
            else f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}"
        )
        err = InvalidParams(message, param="port", port=args.port, host=args.host)
        print(json.dumps({"event": "error", "error": err.to_payload()}), flush=True)
        return 1
    host = args.host if args.host not in ("0.0.0.0", "::") else "127.0.0.1"
    url_host = f"[{host.strip('[]')}]" if ":" in host else host
    # One machine-readable line on stdout so a parent process learns the port (useful with --port 0).
    print(
        json.dumps(
            {
                "event": "listening",
                "url": f"http://{url_host}:{server.port}/v1",
                "port": server.port,
                "model": server.model_id,
                "max_model_len": server.context,
                "api_key_required": server.api_key is not None,
            }
        ),
        flush=True,
    )
    # SIGTERM (a parent closing us) stops serving like Ctrl-C: requests end, the port closes, exit 0.
    stop = lambda *_: threading.Thread(target=server.shutdown, daemon=True).start()  # noqa: E731
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    watch_parent(os.environ.get(PARENT_PID_ENV), lambda: stop())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
