"""generate and count_tokens."""

from __future__ import annotations

from typing import Any

from ..context import RequestContext
from ..errors import InvalidParams
from ..generation.decode_loop import DEFAULT_BATCH_SIZE, generate_items
from ..generation.sampling import Sampling
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
    s = Sampling(
        temperature=float(get(raw, "temperature", (int, float), 0.0)),
        top_p=float(get(raw, "top_p", (int, float), 1.0)),
        max_new_tokens=int(get(raw, "max_new_tokens", int, 128)),
        seed=int(get(raw, "seed", int, 0)),
    )
    if s.temperature < 0:
        raise InvalidParams("'sampling.temperature' must be >= 0", param="sampling.temperature")
    if not 0 < s.top_p <= 1:
        raise InvalidParams("'sampling.top_p' must be in (0, 1]", param="sampling.top_p")
    if s.max_new_tokens < 1:
        raise InvalidParams("'sampling.max_new_tokens' must be >= 1", param="sampling.max_new_tokens")
    return s


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
    loaded = ctx.state.models.load(spec, adapter, ctx=ctx)
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
