"""An OpenAI-compatible HTTP server for one model (+ optional adapter).

    python -m character_engine serve --model-source local --path DIR [--adapter DIR] --port 8000

GET /v1/models, POST /v1/chat/completions and POST /v1/completions, whole (JSON) or
streamed (SSE chunks, then `data: [DONE]`), with stop strings, n, logprobs, seeds (a random
one when none is given) and two vLLM extensions (repetition_penalty, no_repeat_ngram_size,
plus ignore_eos). Requests wait in a fair queue (429 when it is full) and decode on one
thread, batched where they sample alike and taking turns a token at a time; a client that
disconnects cancels its request. Prompts longer than the context are refused (400) and
max_tokens is capped at what the context leaves. Binding beyond loopback requires an API key;
on loopback the Host header must be a loopback name (against DNS rebinding).

  api.py        request bodies -> GenRequest, the context-length check (ApiError: OpenAI's shape)
  scheduler.py  the queue and the decoding thread (batches, turns, stop strings, cancellation)
  responses.py  chat.completion / text_completion objects, chunks, usage, logprobs
  handler.py    HTTP: Host, Origin, API key, Content-Length, slow clients, routes, streaming
  app.py        ChatServer, make_server, the command line

The server has an engine state of its own (state.py): its model comes from that state's
model cache and the system prompt's prefix is kept in its prefix cache between requests.
"""

from __future__ import annotations

from .api import ApiError
from .app import ChatServer, main, make_server

__all__ = ["ApiError", "ChatServer", "main", "make_server"]
