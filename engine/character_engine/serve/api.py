"""What an OpenAI-style request asks for: the body of /v1/chat/completions or /v1/completions
checked and turned into a GenRequest, then tokenized against the model's context length
(`prepare`). Every refusal is an ApiError, which answers in OpenAI's error shape."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidParams
from ..models.chat_template import encode, prompt_ids
from ..params import check_messages

# max_tokens when the request gives none (vLLM would use the whole remaining context; on a
# CPU that is minutes, so a bounded default), before the cap at the context.
DEFAULT_MAX_TOKENS = 256
# Answers per request (n × prompts): each is a row of one batch.
MAX_CHOICES = 16
MAX_STOPS = 16
MAX_STOP_CHARS = 256
# vLLM's default max_logprobs; OpenAI allows 20 top_logprobs for chat, 5 for completions.
MAX_TOP_LOGPROBS = 20


class ApiError(Exception):
    """An HTTP error with OpenAI's body: {"error": {message, type, param, code}}."""

    def __init__(
        self,
        status: int,
        message: str,
        kind: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.param, self.code = status, message, kind, param, code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


@dataclass
class GenRequest:
    """A checked request. `inputs` holds one chat ({system, messages}) for "chat", or the
    prompts (text or token ids) for "completion"; `prepare` fills `prompt_ids` and
    `max_new_tokens`."""

    kind: str  # "chat" | "completion"
    model: str | None
    inputs: list[Any]
    n: int = 1
    max_tokens: int | None = None
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    ignore_eos: bool = False
    logprobs: bool = False
    top_logprobs: int = 0
    # vLLM's extension: logprobs name tokens "token_id:N", so a client can map them exactly.
    tokens_as_ids: bool = False
    stream: bool = False
    include_usage: bool = False
    prompt_ids: list[list[int]] = field(default_factory=list)
    max_new_tokens: int = 0


def _number(body: dict[str, Any], name: str, default: float, lo: float, hi: float) -> float:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise ApiError(400, f"'{name}' must be a number in [{lo}, {hi}]", param=name)
    return float(value)


def _int(body: dict[str, Any], name: str, default: int | None, lo: int, hi: float = math.inf) -> int | None:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        upper = "" if hi == math.inf else f" and <= {int(hi)}"
        raise ApiError(400, f"'{name}' must be an integer >= {lo}{upper}", param=name)
    return value


def _unsupported(body: dict[str, Any]) -> None:
    """Refuse, with a clear 400, what this server would otherwise silently ignore."""
    for name in ("presence_penalty", "frequency_penalty"):
        if body.get(name) not in (None, 0, 0.0):
            raise ApiError(
                400, f"'{name}' is not supported (use 'repetition_penalty' >= 1 instead)", param=name
            )
    for name in ("logit_bias", "tools", "functions", "suffix"):
        if body.get(name):
            raise ApiError(400, f"'{name}' is not supported by this server", param=name)
    if body.get("echo"):
        raise ApiError(400, "'echo' is not supported by this server", param="echo")
    if body.get("best_of") not in (None, 1) and body.get("best_of") != body.get("n"):
        raise ApiError(400, "'best_of' other than n is not supported", param="best_of")


def _stop(body: dict[str, Any]) -> list[str]:
    raw = body.get("stop")
    if raw is None:
        return []
    stops = [raw] if isinstance(raw, str) else raw
    if (
        not isinstance(stops, list)
        or len(stops) > MAX_STOPS
        or not all(isinstance(s, str) and 0 < len(s) <= MAX_STOP_CHARS for s in stops)
    ):
        raise ApiError(
            400,
            f"'stop' must be a string or a list of at most {MAX_STOPS} non-empty strings "
            f"of at most {MAX_STOP_CHARS} characters",
            param="stop",
        )
    return list(dict.fromkeys(stops))


def _common(req: GenRequest, body: dict[str, Any]) -> GenRequest:
    """The fields both endpoints share."""
    _unsupported(body)
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise ApiError(400, "'model' must be a string", param="model")
    req.model = model
    req.n = _int(body, "n", 1, 1, MAX_CHOICES) or 1
    if req.n * len(req.inputs) > MAX_CHOICES:
        raise ApiError(400, f"n × prompts must be at most {MAX_CHOICES}", param="n")
    max_name = "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"
    req.max_tokens = _int(body, max_name, None, 1)
    req.temperature = _number(body, "temperature", 1.0, 0.0, 2.0)
    req.top_p = _number(body, "top_p", 1.0, 1e-6, 1.0)
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ApiError(400, "'seed' must be an integer >= 0", param="seed")
    req.seed = seed if seed is None else int(seed) % (1 << 63)
    req.stop = _stop(body)
    # Extensions to the OpenAI body, as vLLM accepts them.
    penalty = body.get("repetition_penalty")
    if penalty is None:
        penalty = 1.0
    if isinstance(penalty, bool) or not isinstance(penalty, (int, float)) or not 1 <= penalty < math.inf:
        raise ApiError(
            400, "'repetition_penalty' must be a number >= 1 (1 is off)", param="repetition_penalty"
        )
    req.repetition_penalty = float(penalty)
    ngram = body.get("no_repeat_ngram_size")
    if ngram is None:
        ngram = 0
    if isinstance(ngram, bool) or not isinstance(ngram, int) or ngram < 0:
        raise ApiError(
            400, "'no_repeat_ngram_size' must be an integer >= 0 (0 is off)", param="no_repeat_ngram_size"
        )
    req.no_repeat_ngram_size = ngram
    ignore_eos = body.get("ignore_eos", False)
    if not isinstance(ignore_eos, bool):
        raise ApiError(400, "'ignore_eos' must be a boolean", param="ignore_eos")
    req.ignore_eos = ignore_eos
    as_ids = body.get("return_tokens_as_token_ids", False)
    if not isinstance(as_ids, bool):
        raise ApiError(
            400, "'return_tokens_as_token_ids' must be a boolean", param="return_tokens_as_token_ids"
        )
    req.tokens_as_ids = as_ids
    stream = body.get("stream", False)
    if stream is not None and not isinstance(stream, bool):
        raise ApiError(400, "'stream' must be a boolean", param="stream")
    req.stream = bool(stream)
    opts = body.get("stream_options")
    req.include_usage = bool(isinstance(opts, dict) and opts.get("include_usage"))
    return req


def _text_content(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
        parts = [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        return "".join(parts)
    raise ApiError(400, f"'{where}' must be a string or a list of text parts", param=where)


def parse_chat(body: dict[str, Any]) -> GenRequest:
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
    req = _common(GenRequest("chat", None, [{"system": system, "messages": msgs}]), body)
    logprobs = body.get("logprobs", False)
    if logprobs is not None and not isinstance(logprobs, bool):
        raise ApiError(400, "'logprobs' must be a boolean", param="logprobs")
    req.logprobs = bool(logprobs)
    top = _int(body, "top_logprobs", 0, 0, MAX_TOP_LOGPROBS) or 0
    if top and not req.logprobs:
        raise ApiError(400, "'top_logprobs' needs 'logprobs': true", param="top_logprobs")
    req.top_logprobs = top
    return req


def parse_completion(body: dict[str, Any]) -> GenRequest:
    raw = body.get("prompt")
    bad = ApiError(400, "'prompt' must be a string, a list of strings or a list of token ids", param="prompt")
    if isinstance(raw, str):
        prompts: list[Any] = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(p, str) for p in raw):
        prompts = list(raw)
    elif isinstance(raw, list) and raw and all(isinstance(t, int) and not isinstance(t, bool) for t in raw):
        prompts = [list(raw)]
    elif (
        isinstance(raw, list)
        and raw
        and all(isinstance(p, list) and p and all(isinstance(t, int) for t in p) for p in raw)
    ):
        prompts = [list(p) for p in raw]
    else:
        raise bad
    req = _common(GenRequest("completion", None, prompts), body)
    top = _int(body, "logprobs", None, 0, MAX_TOP_LOGPROBS)
    req.logprobs = top is not None
    req.top_logprobs = top or 0
    return req


def context_length(loaded: Any, limit: int | None = None) -> int:
    """The model's context in tokens (its config's max_position_embeddings), at most `limit`."""
    config = getattr(loaded.model, "config", None)
    text = config.get_text_config(decoder=True) if hasattr(config, "get_text_config") else config
    n = getattr(text, "max_position_embeddings", None)
    if not isinstance(n, int) or n <= 0:
        n = getattr(loaded.tokenizer, "model_max_length", None)
    if not isinstance(n, int) or not 0 < n < 10_000_000:
        n = 2048  # unknown: a conservative context
    return min(n, limit) if limit else n


def max_token_chars(tokenizer: Any) -> int:
    """The longest token's text (in byte-level symbols or characters): a prompt of c
    characters has at least c / this many tokens."""
    return max((len(t) for t in tokenizer.get_vocab()), default=1) or 1


def _too_long(context: int, tokens: int, param: str, at_least: bool = False) -> ApiError:
    has = f"at least {tokens}" if at_least else str(tokens)
    return ApiError(
        400,
        f"This model's maximum context length is {context} tokens; the prompt has {has} "
        "tokens. Shorten it: the prompt and the completion must fit in the context.",
        param=param,
        code="context_length_exceeded",
    )


def prepare(
    req: GenRequest, tokenizer: Any, context: int, vocab: int, lock: threading.Lock, token_chars: int = 1
) -> None:
    """Tokenize the prompts, refuse any that leave no room in the context, and cap
    max_tokens at what is left (the longest prompt decides). A prompt of more than
    context × token_chars characters (`max_token_chars`) is refused before tokenizing:
    a megabyte of text takes seconds to tokenize and cannot fit anyway."""
    param = "messages" if req.kind == "chat" else "prompt"
    for inp in req.inputs:
        if req.kind == "chat":
            chars = len(inp["system"] or "") + sum(len(m["content"]) for m in inp["messages"])
        else:
            chars = len(inp) if isinstance(inp, str) else 0
        if chars > context * token_chars:
            raise _too_long(context, -(-chars // token_chars), param, at_least=True)
    ids: list[list[int]] = []
    with lock:  # one thread at a time in the tokenizer
        for inp in req.inputs:
            if req.kind == "chat":
                ids.append(prompt_ids(tokenizer, inp["system"], inp["messages"]))
            elif isinstance(inp, str):
                ids.append(encode(tokenizer, inp))
            else:
                ids.append(inp)
    for p in ids:
        if not p:
            raise ApiError(400, "the prompt is empty", param=param)
        if req.kind == "completion" and any(not 0 <= t < vocab for t in p):
            raise ApiError(400, f"prompt token ids must be in [0, {vocab})", param=param)
        if len(p) >= context:
            raise _too_long(context, len(p), param)
    req.prompt_ids = ids
    room = context - max(len(p) for p in ids)
    req.max_new_tokens = min(req.max_tokens or DEFAULT_MAX_TOKENS, room)
