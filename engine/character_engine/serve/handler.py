"""The HTTP side of the server: who may ask (Host, Origin, API key), well-formed requests
(Content-Length, body size, clients that send too slowly), the routes, and answers whole
or streamed. Generation itself happens on the scheduler's thread (scheduler.py); a handler
thread queues a job and relays its events, and cancels it when its client leaves."""

from __future__ import annotations

import hmac
import json
import logging
import queue
import re
import select
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import urlsplit

from .api import ApiError, GenRequest, parse_chat, parse_completion, prepare
from .responses import Reply
from .scheduler import Job

log = logging.getLogger("character_engine.serve")

MAX_BODY_BYTES = 8 << 20
# How often a handler waiting for tokens checks that its client is still there (seconds).
POLL_S = 0.05
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "[::1]", "::1"}
_DIGITS = re.compile(r"[0-9]{1,15}")
_HOST = re.compile(r"^(\[[^\]]+\]|[^:\[\]]+)(?::([0-9]{1,5}))?$")


class HandlerServer(Protocol):
    """What a Handler reads from its server (app.py's ChatServer has it all): declared here so
    the handler does not import the app that constructs it."""

    loopback: bool
    port: int
    api_key: str | None
    model_id: str
    created: int
    context: int
    vocab_size: int
    token_chars: int
    request_timeout: float
    loaded: Any  # models.loaded.LoadedModel
    tokenizer_lock: Any  # threading.Lock
    guard: Any  # SlowClientGuard, set once the server is bound
    scheduler: Any  # scheduler.Scheduler, set once the server is bound


class ClientGone(Exception):
    """The client closed its connection; its job was cancelled."""


class SlowClientGuard:
    """Closes connections whose request (line, headers and body) has not fully arrived
    within its deadline, and idle keep-alive connections: a per-read socket timeout alone
    lets a client that sends a byte every few seconds hold a thread forever."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: dict[int, tuple[Handler, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="serve-guard", daemon=True)
        self._thread.start()

    def arm(self, handler: Handler, seconds: float) -> None:
        with self._lock:
            self._armed[id(handler)] = (handler, time.monotonic() + seconds)

    def disarm(self, handler: Handler) -> None:
        with self._lock:
            self._armed.pop(id(handler), None)

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            now = time.monotonic()
            with self._lock:
                late = [h for h, deadline in self._armed.values() if deadline <= now]
                for h in late:
                    del self._armed[id(h)]
            for h in late:
                h.expired = True
                try:
                    h.connection.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in recv
                except OSError:
                    pass


def host_allowed(header: str, port: int) -> bool:
    """A loopback name, with this server's port (none given: port 80), as the bridge checks."""
    match = _HOST.match(header.strip().lower())
    if not match or match.group(1) not in LOOPBACK_NAMES:
        return False
    return int(match.group(2)) == port if match.group(2) else port == 80


def origin_allowed(origin: str) -> bool:
    try:
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK_NAMES
    except ValueError:
        return False


def content_length(headers: Any) -> int:
    """The body's length from well-formed headers, else an ApiError (and the connection closes)."""
    if headers.get("Transfer-Encoding") is not None:
        raise ApiError(411, "send the body with a Content-Length (chunked bodies are not accepted)")
    values = [v.strip() for v in headers.get_all("Content-Length") or []]
    if not values:
        raise ApiError(411, "a POST needs a Content-Length header")
    if len(set(values)) > 1 or not _DIGITS.fullmatch(values[0]):
        raise ApiError(400, "Content-Length must be one non-negative integer")
    length = int(values[0])
    if length > MAX_BODY_BYTES:
        raise ApiError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    return length


class Handler(BaseHTTPRequestHandler):
    server: HandlerServer
    protocol_version = "HTTP/1.1"
    expired = False  # set by the guard when the request took too long to arrive

    def setup(self) -> None:
        self.timeout = self.server.request_timeout  # every read and write on the socket
        super().setup()

    def handle_one_request(self) -> None:
        self.server.guard.arm(self, self.server.request_timeout)
        try:
            super().handle_one_request()
        finally:
            self.server.guard.disarm(self)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.info("%s %s", self.address_string(), format % args)

    # -- writing
    def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _error(self, err: ApiError) -> None:
        try:
            self._json(err.status, err.body(), err.headers)
        except OSError:
            self.close_connection = True

    def _sse(self, payload: dict[str, Any] | str) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        self.wfile.write(f"data: {data}\n\n".encode())
        self.wfile.flush()

    # -- who may ask
    def _check_access(self) -> None:
        hosts = self.headers.get_all("Host") or []
        if len(hosts) != 1:
            raise ApiError(400, "exactly one Host header is required")
        if self.server.loopback and not host_allowed(hosts[0], self.server.port):
            raise ApiError(403, "this server answers loopback host names only", code="forbidden_host")
        origin = self.headers.get("Origin")
        if origin and self.server.loopback and not origin_allowed(origin):
            raise ApiError(403, "cross-origin requests are refused", code="forbidden_origin")
        key = self.server.api_key
        if key:
            scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), key.encode()):
                raise ApiError(
                    401,
                    "a valid API key is required (Authorization: Bearer KEY)",
                    code="invalid_api_key",
                    headers={"WWW-Authenticate": "Bearer"},
                )

    def _read_body(self) -> dict[str, Any]:
        try:
            length = content_length(self.headers)
        except ApiError:
            self.close_connection = True  # what follows on the wire cannot be trusted
            raise
        try:
            raw = self.rfile.read(length) if length else b""
        except TimeoutError:
            self.close_connection = True
            raise ApiError(408, "the request body did not arrive in time") from None
        if len(raw) < length or self.expired:
            self.close_connection = True
            raise ClientGone()
        self.server.guard.disarm(self)  # the request is in; generating may take long
        try:
            body = json.loads(raw.decode("utf-8") or "null")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ApiError(400, f"body is not valid JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise ApiError(400, "body must be a JSON object")
        return body

    # -- routes
    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self.server.guard.disarm(self)
        if self.expired:  # the guard cut this request off while it arrived
            self.close_connection = True
            return
        if self.headers.get("Content-Length") not in (None, "0") or self.headers.get("Transfer-Encoding"):
            self.close_connection = True  # a GET with a body: do not read the body as a request
        path = self.path.split("?")[0].rstrip("/")
        try:
            if path == "/health":  # liveness only: says nothing about the model
                self._json(200, {"ok": True})
                return
            self._check_access()
            if path == "/v1/models":
                self._json(200, {"object": "list", "data": [self._model_card()]})
            elif path.startswith("/v1/models/"):
                name = path[len("/v1/models/") :]
                if name != self.server.model_id:
                    raise ApiError(404, f"The model `{name}` does not exist.", code="model_not_found")
                self._json(200, self._model_card())
            else:
                raise ApiError(404, f"no route GET {self.path}", code="not_found")
        except ApiError as err:
            self._error(err)

    def do_POST(self) -> None:  # noqa: N802
        if self.expired:
            self.close_connection = True
            return
        path = self.path.split("?")[0].rstrip("/")
        self.close_connection = True  # until the body is read: on a refusal it stays unread
        try:
            self._check_access()
            if path not in ("/v1/chat/completions", "/v1/completions"):
                raise ApiError(404, f"no route POST {self.path}", code="not_found")
            body = self._read_body()
            self.close_connection = self._wants_close()
            model = body.get("model")
            if isinstance(model, str) and model != self.server.model_id:
                raise ApiError(
                    404, f"The model `{model}` does not exist.", param="model", code="model_not_found"
                )
            req = parse_chat(body) if path == "/v1/chat/completions" else parse_completion(body)
            self._generate(req)
        except ClientGone:
            self.close_connection = True
        except ApiError as err:
            self._error(err)
        except Exception as exc:  # noqa: BLE001 - answer 500 instead of dropping the connection
            log.exception("request failed")
            self._error(ApiError(500, f"{type(exc).__name__}: {exc}", kind="server_error", code="internal"))

    def _wants_close(self) -> bool:
        """What the request's Connection header and HTTP version ask for (as parse_request read it)."""
        conn = (self.headers.get("Connection") or "").lower()
        return conn == "close" or (self.request_version != "HTTP/1.1" and conn != "keep-alive")

    def _model_card(self) -> dict[str, Any]:
        return {
            "id": self.server.model_id,
            "object": "model",
            "created": self.server.created,
            "owned_by": "character-studio",
            "max_model_len": self.server.context,
        }

    # -- generating
    def _generate(self, req: GenRequest) -> None:
        srv = self.server
        tokenizer = srv.loaded.tokenizer
        prepare(req, tokenizer, srv.context, srv.vocab_size, srv.tokenizer_lock, srv.token_chars)
        job = Job(req, tokenizer)
        srv.scheduler.submit(job)  # 429 when the queue is full
        reply = Reply(req, srv.model_id, tokenizer)
        try:
            if req.stream:
                self._stream(job, reply)
            else:
                for event in self._events(job):
                    reply.record(event)
                self._json(200, reply.whole())
        finally:
            if job.outcome is None:
                job.cancel.set()  # this thread leaves before its job ended: stop it

    def _events(self, job: Job) -> Iterator[tuple[Any, ...]]:
        """The job's delta/done events until it ends. Cancels it (ClientGone) when the client
        disconnects; the loop ends with the job, the client or the decoding thread."""
        next_check = time.monotonic() + POLL_S
        while True:
            try:
                event = job.events.get(timeout=POLL_S)
            except queue.Empty:
                event = None
            if time.monotonic() >= next_check:  # tokens may flow without a pause: check by the clock
                next_check = time.monotonic() + POLL_S
                if self._client_gone():
                    job.cancel.set()
                    raise ClientGone()
                if not self.server.scheduler.alive():
                    raise ApiError(500, "the decoding thread stopped", kind="server_error")
            if event is None:
                continue
            if event[0] == "error":
                raise event[1]
            if event[0] == "end":
                return
            yield event

    def _client_gone(self) -> bool:
        """True when the peer closed the connection (readable with nothing to read)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _stream(self, job: Job, reply: Reply) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            for chunk in reply.opening():
                self._sse(chunk)
            for event in self._events(job):
                chunk = reply.chunk(event)
                if chunk is not None:
                    self._sse(chunk)
            usage = reply.usage_chunk()
            if usage is not None:
                self._sse(usage)
            self._sse("[DONE]")
        except ApiError as err:  # headers are sent: report in-band
            try:
                self._sse(err.body())
            except OSError:
                pass
        except OSError:  # the client left mid-stream (a broken pipe, a reset, a write timeout)
            job.cancel.set()
