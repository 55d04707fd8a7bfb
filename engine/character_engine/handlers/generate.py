"""generate and count_tokens."""

from __future__ import annotations

import math
import os
from typing import Any

from ..context import RequestContext
from ..errors import InvalidParams
from ..generation.decode_loop import DEFAULT_BATCH_SIZE, generate_items
from ..generation.sampling import Sampling
from ..generation.topk_capture import TopKRequest
from ..models.chat_template import encode, prompt_ids
from ..models.specs import parse_spec
from ..params import check_messages, get, get_list


def parse_items(params: dict[str, Any], name: str = "items") -> list[dict[str, Any]]:
    raw = get(params, name, list)
    items = []
    for i, it in enumerate(raw):
        if not isinstance(it, dict):
            raise InvalidParams(f"'{name}[{i}]' must be an object", param=f"{name}[{i}]")
        system = it.get("system")
        if system is not None and not isinstance(system, str):
            raise InvalidParams(f"'{name}[{i}].system' must be a string", param=f"{name}[{i}].system")
        messages = check_messages(it.get("messages"), f"{name}[{i}].messages")
        if not messages and not system:
            raise InvalidParams(f"'{name}[{i}]' has no messages", param=f"{name}[{i}].messages")
        items.append({"system": system or None, "messages": messages})
    return items


def parse_sampling(params: dict[str, Any]) -> Sampling:
    raw = get(params, "sampling", dict, {})

    def value(name: str, kind: type | tuple[type, ...], default: Any) -> Any:
        try:
            return get(raw, name, kind, default)
        except InvalidParams as exc:  # name the field where it sits: sampling.<name>
            raise InvalidParams(
                exc.message.replace(f"'{name}'", f"'sampling.{name}'"), param=f"sampling.{name}"
            ) from exc

    s = Sampling(
        temperature=float(value("temperature", (int, float), 0.0)),
        top_p=float(value("top_p", (int, float), 1.0)),
        max_new_tokens=int(value("max_new_tokens", int, 128)),
        seed=int(value("seed", int, 0)),
        repetition_penalty=float(value("repetition_penalty", (int, float), 1.0)),
        no_repeat_ngram_size=int(value("no_repeat_ngram_size", int, 0)),
    )
    if s.temperature < 0:
        raise InvalidParams("'sampling.temperature' must be >= 0", param="sampling.temperature")
    if not 0 < s.top_p <= 1:
        raise InvalidParams("'sampling.top_p' must be in (0, 1]", param="sampling.top_p")
    if s.max_new_tokens < 1:
        raise InvalidParams("'sampling.max_new_tokens' must be >= 1", param="sampling.max_new_tokens")
    if not (math.isfinite(s.repetition_penalty) and s.repetition_penalty >= 1):
        raise InvalidParams(
            "'sampling.repetition_penalty' must be a number >= 1 (1 is off)",
            param="sampling.repetition_penalty",
        )
    if s.no_repeat_ngram_size < 0:
        raise InvalidParams(
            "'sampling.no_repeat_ngram_size' must be >= 0 (0 is off)", param="sampling.no_repeat_ngram_size"
        )
    return s


def parse_topk(params: dict[str, Any], sampling: Sampling) -> TopKRequest | None:
    """`capture_topk: {k}` plus each item's absolute `topk_path` (items without one are not
    captured); None when nothing is to be captured."""
    raw_items = params.get("items") or []
    paths: list[str | None] = []
    for i, it in enumerate(raw_items):
        path = it.get("topk_path") if isinstance(it, dict) else None
        if path is not None and (not isinstance(path, str) or not os.path.isabs(path)):
            raise InvalidParams(
                f"'items[{i}].topk_path' must be an absolute path", param=f"items[{i}].topk_path"
            )
        paths.append(path)
    capture = get(params, "capture_topk", dict, None)
    if capture is None:
        if any(p is not None for p in paths):
            raise InvalidParams("'items[].topk_path' needs 'capture_topk: {k}'", param="capture_topk")
        return None
    k = get(capture, "k", int, None)
    if k is None or k < 1:
        raise InvalidParams("'capture_topk.k' must be an integer >= 1", param="capture_topk.k")
    if all(p is None for p in paths):
        return None
    meta = {"temperature": sampling.temperature, "top_p": sampling.top_p, "seed": sampling.seed}
    return TopKRequest(k=k, paths=paths, metadata=meta)


def handle_generate(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    spec = parse_spec(params.get("model"))
    adapter = get(params, "adapter", str, None)
    items = parse_items(params)
    sampling = parse_sampling(params)
    batch_size = get(params, "batch_size", int, DEFAULT_BATCH_SIZE)
    if batch_size < 1:
        raise InvalidParams("'batch_size' must be >= 1", param="batch_size")
    prefix_cache = get(params, "prefix_cache", bool, True)
    stream = get(params, "stream", bool, False)
    topk = parse_topk(params, sampling)
    loaded = ctx.state.models.load(spec, adapter, ctx=ctx)
    vocab = int(loaded.info.get("vocab_size") or 0)
    if topk is not None and vocab and topk.k > vocab:
        raise InvalidParams(
            f"'capture_topk.k' must be <= the vocabulary size ({vocab})", param="capture_topk.k"
        )
    ctx.progress("generate", 0, len(items))

    def on_token(index: int, text: str) -> None:
        ctx.emit("token", index=index, text=text)

    outputs, stats = generate_items(
        loaded,
        items,
        sampling,
        prefixes=ctx.state.prefixes if prefix_cache else None,
        batch_size=batch_size,
        on_token=on_token if stream else None,
        cancel=ctx.cancel_event,
        on_batch=lambda done, total: ctx.progress("generate", done, total),
        topk=topk,
    )
    return {
        "outputs": [o.to_dict() for o in outputs],
        "tokens_per_s": round(stats["tokens_per_s"], 3),
        "wall_ms": round(stats["wall_ms"], 3),
        "prefix_tokens": stats["prefix_tokens"],
    }


def handle_count_tokens(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    spec = parse_spec(params.get("model"))
    texts = get_list(params, "texts", str, None)
    chats = parse_items(params, "chats") if params.get("chats") is not None else None
    if texts is None and chats is None:
        raise InvalidParams("give 'texts' or 'chats'", param="texts")
    loaded = ctx.state.models.load(spec, ctx=ctx)
    tok = loaded.tokenizer
    counts = [len(encode(tok, t)) for t in texts or []]
    counts += [len(prompt_ids(tok, c.get("system"), c["messages"])) for c in chats or []]
    return {"counts": counts}
