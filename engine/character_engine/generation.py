"""Batched chat generation with a shared-prefix KV cache, plus the model methods.

Methods: generate, count_tokens, load_model, unload_model.

The sampling loop is our own (not model.generate) so a prompt prefix shared by all
items -- the character's system prompt, often hundreds of tokens -- is run through
the model once and its KV cache reused for every batch. Layout of one batch with a
cached prefix of length L:

    [ prefix (L, from cache) | left pads (masked) | item suffix ] -> new tokens

Pads sit in the middle, masked out by the 2-D attention mask; position ids are given
explicitly, so every item sees exactly the positions it would have unpadded and
greedy outputs match the uncached path.

The prefix's keys/values are stored once, not once per sequence: prefix_attention.py
scores every row against that single copy. Items that finish leave the batch.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import prefix_attention
from .context import RequestContext
from .errors import Cancelled, InvalidParams
from .models import LoadedModel, load_model, parse_spec, unload_model
from .params import check_messages, get, get_list

DEFAULT_BATCH_SIZE = 8
# A shared prefix shorter than this is not worth a separate forward pass.
MIN_PREFIX_TOKENS = 4
# Prefix caches kept across calls (chat turns and successive teacher batches reuse them).
MAX_PREFIX_CACHES = 2
STOP_TOKEN_STRINGS = ("<|im_end|>", "<|eot_id|>", "<|endoftext|>", "<end_of_turn>", "</s>")


@dataclass
class Sampling:
    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 128
    seed: int = 0


@dataclass
class ItemResult:
    text: str
    prompt_tokens: int
    completion_tokens: int
    ttft_ms: float
    total_ms: float
    finish_reason: str  # "stop" | "length"

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "ttft_ms": round(self.ttft_ms, 3),
            "total_ms": round(self.total_ms, 3),
            "finish_reason": self.finish_reason,
        }


OnToken = Callable[[int, str], None]  # (item index, new text)


# ----------------------------------------------------------------------------- templating


def chat_messages(system: str | None, messages: list[dict[str, str]]) -> list[dict[str, str]]:
    return ([{"role": "system", "content": system}] if system else []) + list(messages)


def render_chat(
    tokenizer: Any, system: str | None, messages: list[dict[str, str]], add_generation_prompt: bool = True
) -> str:
    """The chat as the model sees it. Tokenizers without a template get a plain transcript."""
    chat = chat_messages(system, messages)
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(
            chat, tokenize=False, add_generation_prompt=add_generation_prompt
        )
    lines = [f"{m['role'].capitalize()}: {m['content']}" for m in chat]
    if add_generation_prompt:
        lines.append("Assistant:")
    return "\n".join(lines)


def encode(tokenizer: Any, text: str) -> list[int]:
    # The chat template already writes BOS/role tokens; adding specials would double them.
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def prompt_ids(tokenizer: Any, system: str | None, messages: list[dict[str, str]]) -> list[int]:
    return encode(tokenizer, render_chat(tokenizer, system, messages, add_generation_prompt=True))


def stop_token_ids(model: Any, tokenizer: Any) -> set[int]:
    ids: set[int] = set()
    if tokenizer.eos_token_id is not None:
        ids.add(int(tokenizer.eos_token_id))
    gen_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if isinstance(gen_eos, int):
        ids.add(gen_eos)
    elif isinstance(gen_eos, (list, tuple)):
        ids.update(int(i) for i in gen_eos)
    vocab = tokenizer.get_vocab()
    for s in STOP_TOKEN_STRINGS:
        if s in vocab:
            ids.add(int(vocab[s]))
    return ids


def common_prefix_len(seqs: list[list[int]]) -> int:
    if not seqs:
        return 0
    n = min(len(s) for s in seqs)
    first = seqs[0]
    for i in range(n):
        t = first[i]
        if any(s[i] != t for s in seqs[1:]):
            return i
    return n


def system_prefix(tokenizer: Any, system: str | None) -> list[int]:
    """Token prefix every chat with this system prompt starts with (probe two different user turns)."""
    a = prompt_ids(tokenizer, system, [{"role": "user", "content": "a"}])
    b = prompt_ids(tokenizer, system, [{"role": "user", "content": "Zq"}])
    return a[: common_prefix_len([a, b])]


# ----------------------------------------------------------------------------- prefix KV cache


class _PrefixStore:
    """A few prefix KV caches, keyed by model/adapter and the prefix token ids."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple, list[tuple[Any, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def find(
        self, model_key: tuple, prompts: list[list[int]]
    ) -> tuple[list[int], list[tuple[Any, Any]]] | None:
        """The longest stored prefix that is a strict prefix of every prompt."""
        best = None
        with self._lock:
            for key, kv in self._items.items():
                if key[:2] != model_key:
                    continue
                ids = list(key[2])
                if all(len(p) > len(ids) and p[: len(ids)] == ids for p in prompts):
                    if best is None or len(ids) > len(best[0]):
                        best = (ids, kv, key)
            if best is None:
                return None
            self._items.move_to_end(best[2])
            return best[0], best[1]

    def put(self, model_key: tuple, ids: list[int], kv: list[tuple[Any, Any]]) -> None:
        with self._lock:
            self._items[(*model_key, tuple(ids))] = kv
            while len(self._items) > MAX_PREFIX_CACHES:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


prefix_store = _PrefixStore()


def _compute_prefix_kv(model: Any, ids: list[int], device: Any) -> list[tuple[Any, Any]]:
    import torch

    with torch.inference_mode():
        out = model(input_ids=torch.tensor([ids], device=device), use_cache=True, logits_to_keep=1)
    return [(layer.keys, layer.values) for layer in out.past_key_values.layers]


def _expand_cache(model: Any, kv: list[tuple[Any, Any]], batch: int) -> Any:
    from transformers import DynamicCache

    data = [(k.expand(batch, -1, -1, -1), v.expand(batch, -1, -1, -1)) for k, v in kv]
    return DynamicCache(ddp_cache_data=data, config=model.config)


# ----------------------------------------------------------------------------- sampling loop


def _choose(logits: Any, sampling: Sampling, generator: Any) -> Any:
    import torch

    if sampling.temperature <= 0:
        return torch.argmax(logits, dim=-1)
    probs = torch.softmax(logits.float() / sampling.temperature, dim=-1)
    if 0 < sampling.top_p < 1:
        sorted_p, sorted_i = torch.sort(probs, dim=-1, descending=True)
        cum = torch.cumsum(sorted_p, dim=-1)
        drop = (cum - sorted_p) > sampling.top_p  # keep the smallest set whose mass reaches top_p
        sorted_p = sorted_p.masked_fill(drop, 0.0)
        probs = torch.zeros_like(probs).scatter(-1, sorted_i, sorted_p)
    probs = probs / probs.sum(dim=-1, keepdim=True)
    return torch.multinomial(probs.cpu(), 1, generator=generator).squeeze(-1).to(logits.device)


class _Stream:
    """Incremental decoding of one item: emits only complete characters (multi-byte safe)."""

    def __init__(self, tokenizer: Any, index: int, on_token: OnToken) -> None:
        self.tokenizer, self.index, self.on_token = tokenizer, index, on_token
        self.sent = ""

    def update(self, ids: list[int], final: bool = False) -> None:
        text = self.tokenizer.decode(ids, skip_special_tokens=True)
        if not final and text.endswith("\ufffd"):
            return  # a multi-byte character is still incomplete
        if text.startswith(self.sent) and len(text) > len(self.sent):
            self.on_token(self.index, text[len(self.sent) :])
            self.sent = text


def _run_batch(
    model: Any,
    tokenizer: Any,
    prompts: list[list[int]],
    prefix: tuple[list[int], list[tuple[Any, Any]]] | None,
    sampling: Sampling,
    stops: set[int],
    generator: Any,
    streams: list[_Stream | None],
    cancel: threading.Event | None,
) -> tuple[list[list[int]], list[str], float]:
    """Generate for one batch; returns (new ids without the stop token, finish reasons, ttft seconds)."""
    import torch

    device = next(model.parameters()).device
    start = time.perf_counter()
    batch = len(prompts)
    plen = len(prefix[0]) if prefix else 0
    suffixes = [p[plen:] for p in prompts]
    width = max(len(s) for s in suffixes)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    input_ids = torch.full((batch, width), pad_id, dtype=torch.long)
    suffix_mask = torch.zeros((batch, width), dtype=torch.long)
    for i, s in enumerate(suffixes):
        input_ids[i, width - len(s) :] = torch.tensor(s, dtype=torch.long)
        suffix_mask[i, width - len(s) :] = 1
    positions = (plen + suffix_mask.cumsum(-1) - 1).clamp(min=plen)
    mask = torch.cat([torch.ones((batch, plen), dtype=torch.long), suffix_mask], dim=1)
    input_ids, positions, mask = input_ids.to(device), positions.to(device), mask.to(device)
    shared = prefix is not None and prefix_attention.install(model)
    if shared:
        # One copy of the prefix for the whole batch (see prefix_attention.py).
        cache = prefix_attention.suffix_cache(model, plen)
        scope = prefix_attention.active_prefix([(k[0], v[0]) for k, v in prefix[1]])
    else:
        cache = _expand_cache(model, prefix[1], batch) if prefix else None
        scope = contextlib.nullcontext()

    generated: list[list[int]] = [[] for _ in range(batch)]
    finish = ["length"] * batch
    done = [False] * batch
    rows = list(range(batch))  # batch row -> item; finished items are dropped from the batch
    ttft = 0.0
    with torch.inference_mode(), scope:
        for step in range(sampling.max_new_tokens):
            if cancel is not None and cancel.is_set():
                raise Cancelled("generation was cancelled")
            out = model(
                input_ids=input_ids,
                attention_mask=mask,
                position_ids=positions,
                past_key_values=cache,
                use_cache=True,
                logits_to_keep=1,
            )
            cache = out.past_key_values
            next_ids = _choose(out.logits[:, -1, :].float(), sampling, generator)
            if step == 0:
                ttft = time.perf_counter() - start
            toks = next_ids.tolist()
            for r, t in enumerate(toks):
                i = rows[r]
                if t in stops:
                    done[i] = True
                    finish[i] = "stop"
                else:
                    generated[i].append(t)
                    if streams[i] is not None:
                        streams[i].update(generated[i])
            if all(done):
                break
            input_ids = next_ids.unsqueeze(-1)
            positions = positions[:, -1:] + 1
            mask = torch.cat([mask, torch.ones((len(rows), 1), dtype=mask.dtype, device=device)], dim=1)
            keep = [r for r, i in enumerate(rows) if not done[i]]
            if len(keep) < len(rows):
                # Finished items leave the batch: later steps compute only for the rest.
                index = torch.tensor(keep, dtype=torch.long, device=device)
                cache.batch_select_indices(index)
                input_ids, positions, mask = input_ids[index], positions[index], mask[index]
                rows = [rows[r] for r in keep]
    for i, s in enumerate(streams):
        if s is not None:
            s.update(generated[i], final=True)
    return generated, finish, ttft


def generate_items(
    loaded: LoadedModel,
    items: list[dict[str, Any]],
    sampling: Sampling,
    batch_size: int = DEFAULT_BATCH_SIZE,
    prefix_cache: bool = True,
    on_token: OnToken | None = None,
    cancel: threading.Event | None = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> tuple[list[ItemResult], dict[str, float]]:
    """Generate one answer per item ({system?, messages}). Returns (results in item order,
    {"tokens_per_s", "wall_ms", "prefix_tokens"})."""
    import torch

    tok = loaded.tokenizer
    call_start = time.perf_counter()
    prompts = [prompt_ids(tok, it.get("system"), it["messages"]) for it in items]
    results: list[ItemResult | None] = [None] * len(items)
    generator = torch.Generator().manual_seed(int(sampling.seed))
    prefix_tokens = 0
    with loaded.activated() as model:
        stops = stop_token_ids(model, tok)
        device = next(model.parameters()).device
        prefix = None
        prefix_s = 0.0  # computing the shared prefix counts towards the first batch's times
        if prefix_cache and items:
            model_key = (loaded.key, loaded.adapter_name)
            prefix = prefix_store.find(model_key, prompts)
            if prefix is None:
                systems = {it.get("system") for it in items}
                if len(systems) == 1:
                    # Stop at the end of the system part, not at whatever else these items happen
                    # to share: the next call (next chunk, next chat turn) then finds it stored.
                    sys_ids = system_prefix(tok, items[0].get("system"))
                    n = common_prefix_len([sys_ids, *prompts])
                else:
                    n = common_prefix_len(prompts)
                n = min(n, min(len(p) for p in prompts) - 1)  # every item keeps >= 1 suffix token
                if n >= MIN_PREFIX_TOKENS:
                    ids = prompts[0][:n]
                    t0 = time.perf_counter()
                    prefix = (ids, _compute_prefix_kv(model, ids, device))
                    prefix_s = time.perf_counter() - t0
                    prefix_store.put(model_key, ids, prefix[1])
            prefix_tokens = len(prefix[0]) if prefix else 0
        # Similar suffix lengths in one batch waste less compute on padding.
        order = sorted(range(len(items)), key=lambda i: len(prompts[i]))
        total_new = 0
        for b0 in range(0, len(order), max(1, batch_size)):
            idx = order[b0 : b0 + max(1, batch_size)]
            batch_start = time.perf_counter()
            streams = [_Stream(tok, i, on_token) if on_token else None for i in idx]
            gen, finish, ttft = _run_batch(
                model, tok, [prompts[i] for i in idx], prefix, sampling, stops, generator, streams, cancel
            )
            total_ms = (time.perf_counter() - batch_start + prefix_s) * 1000
            ttft += prefix_s
            prefix_s = 0.0
            for j, i in enumerate(idx):
                completion = len(gen[j]) + (
                    1 if finish[j] == "stop" else 0
                )  # the stop token was generated too
                total_new += completion
                results[i] = ItemResult(
                    text=tok.decode(gen[j], skip_special_tokens=True),
                    prompt_tokens=len(prompts[i]),
                    completion_tokens=completion,
                    ttft_ms=ttft * 1000,
                    total_ms=total_ms,
                    finish_reason=finish[j],
                )
            if on_batch:
                on_batch(min(b0 + len(idx), len(items)), len(items))
    wall = time.perf_counter() - call_start
    stats = {
        "tokens_per_s": (total_new / wall) if wall > 0 else 0.0,
        "wall_ms": wall * 1000,
        "prefix_tokens": prefix_tokens,
    }
    return [r for r in results if r is not None], stats


# ----------------------------------------------------------------------------- protocol handlers


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
    loaded = load_model(spec, adapter, ctx=ctx)
    ctx.progress("generate", 0, len(items))

    def on_token(index: int, text: str) -> None:
        ctx.emit("token", index=index, text=text)

    outputs, stats = generate_items(
        loaded,
        items,
        sampling,
        batch_size=batch_size,
        prefix_cache=prefix_cache,
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
    loaded = load_model(spec, ctx=ctx)
    tok = loaded.tokenizer
    counts = [len(encode(tok, t)) for t in texts or []]
    counts += [len(prompt_ids(tok, c.get("system"), c["messages"])) for c in chats or []]
    return {"counts": counts}


def handle_load_model(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    spec = parse_spec(params.get("model"))
    adapter = get(params, "adapter", str, None)
    ctx.progress("load_model", 0, 1)
    loaded = load_model(spec, adapter, ctx=ctx)
    ctx.progress("load_model", 1, 1)
    return dict(loaded.info)


def handle_unload_model(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    key = get(params, "key", str)
    removed = unload_model(key)
    if removed:
        prefix_store.clear()
    return {"unloaded": removed}
