"""An OpenAI-compatible HTTP server for one model (+ optional adapter) on 127.0.0.1.

    python -m character_engine serve --model-source local --path DIR [--adapter DIR] --port 8000

GET /v1/models, POST /v1/chat/completions (stream false -> JSON; true -> SSE chunks then
`data: [DONE]`). Requests are served on threads but generation is serialised by one
lock: the cores are shared, parallel decoding only slows everyone down.

The server has an engine state of its own (state.py): its model comes from that state's
model cache and the system prompt's prefix is kept in its prefix cache between requests.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .errors import Cancelled, EngineError, InvalidParams
from .generation.decode_loop import generate_items
from .generation.sampling import Sampling
from .models.loaded import LoadedModel
from .params import check_messages
from .state import EngineState

log = logging.getLogger("character_engine.serve")

DEFAULT_MAX_TOKENS = 256
MAX_BODY_BYTES = 8 << 20


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        kind: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.param, self.code = status, message, kind, param, code

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


class ChatServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], state: EngineState, loaded: LoadedModel, model_id: str
    ) -> None:
        super().__init__(address, _Handler)
        self.state = state
        self.loaded = loaded
        self.model_id = model_id
        self.generate_lock = threading.Lock()
        self.created = int(time.time())


def _text_content(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
        parts = [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        return "".join(parts)
    raise ApiError(400, f"'{where}' must be a string or a list of text parts", param=where)


def parse_chat_request(body: dict[str, Any]) -> tuple[dict[str, Any], Sampling, bool, bool]:
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise ApiError(400, "'messages' must be a non-empty list", param="messages")
    msgs = []
    for i, m in enumerate(raw):
        if not isinstance(m, dict):
            raise ApiError(400, f"'messages[{i}]' must be an object", param=f"messages[{i}]")
        role = "system" if m.get("role") == "developer" else m.get("role")
        msgs.append({"role": role, "content": _text_content(m.get("content"), f"messages[{i}].content")})
    try:
        msgs = check_messages(msgs, "messages")
    except InvalidParams as exc:
        raise ApiError(400, exc.message, param=exc.detail.get("param")) from exc
    system = None
    if msgs[0]["role"] == "system":
        system, msgs = msgs[0]["content"], msgs[1:]
    if body.get("n") not in (None, 1):
        raise ApiError(400, "only n=1 is supported", param="n")

    def number(name: str, default: float, lo: float, hi: float) -> float:
        value = body.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
            raise ApiError(400, f"'{name}' must be a number in [{lo}, {hi}]", param=name)
        return float(value)

    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is None:
        max_tokens = DEFAULT_MAX_TOKENS
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise ApiError(400, "'max_tokens' must be a positive integer", param="max_tokens")
    seed = body.get("seed")
    # Extensions to the OpenAI body (vLLM accepts repetition_penalty the same way).
    penalty = body.get("repetition_penalty")
    if penalty is None:
        penalty = 1.0
    if isinstance(penalty, bool) or not isinstance(penalty, (int, float)) or not 1 <= penalty < math.inf:
        raise ApiError(
            400, "'repetition_penalty' must be a number >= 1 (1 is off)", param="repetition_penalty"
        )
    ngram = body.get("no_repeat_ngram_size")
    if ngram is None:
        ngram = 0
    if isinstance(ngram, bool) or not isinstance(ngram, int) or ngram < 0:
        raise ApiError(
            400, "'no_repeat_ngram_size' must be an integer >= 0 (0 is off)", param="no_repeat_ngram_size"
        )
    sampling = Sampling(
        temperature=number("temperature", 1.0, 0.0, 2.0),
        top_p=number("top_p", 1.0, 1e-6, 1.0),
        max_new_tokens=max_tokens,
        seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else 0,
        repetition_penalty=float(penalty),
        no_repeat_ngram_size=ngram,
    )
    stream = bool(body.get("stream", False))
    opts = body.get("stream_options")
    include_usage = bool(isinstance(opts, dict) and opts.get("include_usage"))
    return {"system": system, "messages": msgs}, sampling, stream, include_usage


class _Handler(BaseHTTPRequestHandler):
    server: ChatServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.info("%s %s", self.address_string(), format % args)

    # -- helpers
    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, err: ApiError) -> None:
        self._json(err.status, err.body())

    def _read_body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise ApiError(400, "request body too large")
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw.decode("utf-8") or "null")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ApiError(400, f"body is not valid JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise ApiError(400, "body must be a JSON object")
        return body

    # -- routes
    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        path = self.path.split("?")[0].rstrip("/")
        if path == "/v1/models":
            self._json(200, {"object": "list", "data": [self._model_card()]})
        elif path == f"/v1/models/{self.server.model_id}":
            self._json(200, self._model_card())
        elif path in ("", "/health"):
            self._json(200, {"ok": True, "model": self.server.model_id})
        else:
            self._error(ApiError(404, f"no route GET {self.path}", code="not_found"))

    def do_POST(self) -> None:  # noqa: N802
        path = self.path.split("?")[0].rstrip("/")
        try:
            if path != "/v1/chat/completions":
                raise ApiError(404, f"no route POST {self.path}", code="not_found")
            body = self._read_body()
            item, sampling, stream, include_usage = parse_chat_request(body)
            if stream:
                self._stream(item, sampling, include_usage)
            else:
                self._complete(item, sampling)
        except ApiError as err:
            self._error(err)
        except EngineError as exc:
            status = 400 if exc.code in ("invalid_params", "bad_request") else 500
            self._error(ApiError(status, exc.message, kind="engine_error", code=exc.code))
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # noqa: BLE001 - answer 500 instead of dropping the connection
            log.exception("chat completion failed")
            self._error(ApiError(500, f"{type(exc).__name__}: {exc}", kind="server_error", code="internal"))

    def _model_card(self) -> dict[str, Any]:
        return {
            "id": self.server.model_id,
            "object": "model",
            "created": self.server.created,
            "owned_by": "character-studio",
        }

    def _complete(self, item: dict[str, Any], sampling: Sampling) -> None:
        with self.server.generate_lock:
            outputs, _stats = generate_items(
                self.server.loaded, [item], sampling, prefixes=self.server.state.prefixes, batch_size=1
            )
        out = outputs[0]
        self._json(
            200,
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": self.server.model_id,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": out.text},
                        "finish_reason": out.finish_reason,
                    }
                ],
                "usage": {
                    "prompt_tokens": out.prompt_tokens,
                    "completion_tokens": out.completion_tokens,
                    "total_tokens": out.prompt_tokens + out.completion_tokens,
                },
            },
        )

    def _stream(self, item: dict[str, Any], sampling: Sampling, include_usage: bool) -> None:
        cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        cancel = threading.Event()

        def chunk(
            delta: dict[str, Any], finish: str | None = None, usage: dict[str, int] | None = None
        ) -> None:
            payload: dict[str, Any] = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": self.server.model_id,
                "choices": []
                if usage is not None
                else [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            if usage is not None:
                payload["usage"] = usage
            self._sse(json.dumps(payload, ensure_ascii=False))

        def on_token(_index: int, text: str) -> None:
            try:
                chunk({"content": text})
            except (BrokenPipeError, ConnectionResetError):
                cancel.set()  # the client left: stop generating at the next step

        with self.server.generate_lock:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            chunk({"role": "assistant", "content": ""})
            try:
                outputs, _ = generate_items(
                    self.server.loaded,
                    [item],
                    sampling,
                    prefixes=self.server.state.prefixes,
                    batch_size=1,
                    on_token=on_token,
                    cancel=cancel,
                )
            except Cancelled:
                return
            except Exception as exc:  # noqa: BLE001 - headers are sent: report in-band
                self._sse(
                    json.dumps(ApiError(500, f"{type(exc).__name__}: {exc}", kind="server_error").body())
                )
                return
        out = outputs[0]
        chunk({}, out.finish_reason)
        if include_usage:
            chunk(
                {},
                usage={
                    "prompt_tokens": out.prompt_tokens,
                    "completion_tokens": out.completion_tokens,
                    "total_tokens": out.prompt_tokens + out.completion_tokens,
                },
            )
        self._sse("[DONE]")

    def _sse(self, data: str) -> None:
        self.wfile.write(f"data: {data}\n\n".encode())
        self.wfile.flush()


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


def make_server(
    state: EngineState,
    loaded: LoadedModel,
    host: str = "127.0.0.1",
    port: int = 0,
    model_id: str | None = None,
) -> ChatServer:
    return ChatServer((host, port), state, loaded, model_id or loaded.info.get("name") or "model")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m character_engine serve", description=__doc__)
    parser.add_argument("--model-source", choices=["default", "local", "gguf", "hub"], default="default")
    parser.add_argument("--path", help="folder (local), file (gguf) or repo id (hub)")
    parser.add_argument("--adapter", help="a PEFT adapter folder to apply")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--model-id", help="the id /v1/models reports (default: the model's name)")
    parser.add_argument("--revision")
    parser.add_argument("--endpoint")
    parser.add_argument("--cache-dir")
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    state = EngineState()
    try:
        loaded = state.models.load(build_spec(args), args.adapter)
    except EngineError as exc:
        print(json.dumps({"event": "error", "error": exc.to_payload()}), flush=True)
        return 1
    server = make_server(state, loaded, args.host, args.port, args.model_id)
    host, port = server.server_address[:2]
    # One machine-readable line on stdout so a parent process learns the port (useful with --port 0).
    print(
        json.dumps(
            {"event": "listening", "url": f"http://{host}:{port}/v1", "port": port, "model": server.model_id}
        ),
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
