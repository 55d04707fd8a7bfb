"""generate_items: one answer per item, in batches sorted by length, each decoded by our
own loop over a shared prefix (see the package docstring for the batch layout)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import prefix_attention
from ..errors import Cancelled
from ..models.chat_template import prompt_ids, stop_token_ids
from ..models.loaded import LoadedModel
from .prefix_cache import Prefix, PrefixCache, expand_cache
from .sampling import Sampling, choose
from .topk_capture import BatchCapture, TopKRequest, write_item

DEFAULT_BATCH_SIZE = 8

OnToken = Callable[[int, str], None]  # (item index, new text)


@dataclass
class ItemResult:
    text: str
    prompt_tokens: int
    completion_tokens: int
    ttft_ms: float
    total_ms: float
    finish_reason: str  # "stop" | "length"
    topk_tokens: int | None = None  # rows written to the item's top-k file, when captured

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "text": self.text,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "ttft_ms": round(self.ttft_ms, 3),
            "total_ms": round(self.total_ms, 3),
            "finish_reason": self.finish_reason,
        }
        if self.topk_tokens is not None:
            out["topk_tokens"] = self.topk_tokens
        return out


@dataclass
class BatchOutput:
    generated: list[list[int]]  # new ids per item, without the stop token
    finish: list[str]  # "stop" | "length" per item
    stop_ids: list[int | None]  # the stop token that ended each item (None: length)
    ttft: float  # seconds from the batch's start to its first token


class TokenStream:
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


def run_batch(
    model: Any,
    tokenizer: Any,
    prompts: list[list[int]],
    prefix: Prefix | None,
    sampling: Sampling,
    stops: set[int],
    generator: Any,
    streams: list[TokenStream | None],
    cancel: threading.Event | None,
    capture: BatchCapture | None = None,
) -> BatchOutput:
    """Generate for one batch. `capture`, if given, records the raw logits' top-k at every step."""
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
        cache = expand_cache(model, prefix[1], batch) if prefix else None
        scope = contextlib.nullcontext()

    generated: list[list[int]] = [[] for _ in range(batch)]
    finish = ["length"] * batch
    stop_ids: list[int | None] = [None] * batch
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
            logits = out.logits[:, -1, :].float()
            if capture is not None:
                capture.record(logits, rows)  # before the sampler: the raw distribution
            history = [generated[i] for i in rows] if sampling.penalised else None
            next_ids = choose(logits, sampling, generator, history)
            if step == 0:
                ttft = time.perf_counter() - start
            toks = next_ids.tolist()
            for r, t in enumerate(toks):
                i = rows[r]
                if t in stops:
                    done[i] = True
                    finish[i] = "stop"
                    stop_ids[i] = t
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
    return BatchOutput(generated, finish, stop_ids, ttft)


def generate_items(
    loaded: LoadedModel,
    items: list[dict[str, Any]],
    sampling: Sampling,
    *,
    prefixes: PrefixCache | None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_token: OnToken | None = None,
    cancel: threading.Event | None = None,
    on_batch: Callable[[int, int], None] | None = None,
    topk: TopKRequest | None = None,
) -> tuple[list[ItemResult], dict[str, float]]:
    """Generate one answer per item ({system?, messages}). `prefixes` is where the shared
    prompt prefix is looked up and kept; None runs every prompt in full. `topk` asks for the
    raw next-token top-k of every generated token, written per item when its batch ends.
    Returns (results in item order, {"tokens_per_s", "wall_ms", "prefix_tokens"})."""
    import torch

    tok = loaded.tokenizer
    call_start = time.perf_counter()
    prompts = [prompt_ids(tok, it.get("system"), it["messages"]) for it in items]
    results: list[ItemResult | None] = [None] * len(items)
    generator = torch.Generator().manual_seed(int(sampling.seed))
    prefix_tokens = 0
    with loaded.activated() as model:
        stops = stop_token_ids(model, tok)
        prefix = None
        prefix_s = 0.0  # computing the shared prefix counts towards the first batch's times
        if prefixes is not None and items:
            model_key = (loaded.key, loaded.adapter_name)
            prefix, prefix_s = prefixes.find_or_compute(model_key, model, tok, items, prompts)
            prefix_tokens = len(prefix[0]) if prefix else 0
        # Similar suffix lengths in one batch waste less compute on padding.
        order = sorted(range(len(items)), key=lambda i: len(prompts[i]))
        total_new = 0
        for b0 in range(0, len(order), max(1, batch_size)):
            idx = order[b0 : b0 + max(1, batch_size)]
            batch_start = time.perf_counter()
            streams = [TokenStream(tok, i, on_token) if on_token else None for i in idx]
            wanted = [topk is not None and topk.paths[i] is not None for i in idx]
            capture = BatchCapture(topk.k, wanted) if topk is not None and any(wanted) else None
            out = run_batch(
                model,
                tok,
                [prompts[i] for i in idx],
                prefix,
                sampling,
                stops,
                generator,
                streams,
                cancel,
                capture,
            )
            gen, finish, ttft = out.generated, out.finish, out.ttft
            total_ms = (time.perf_counter() - batch_start + prefix_s) * 1000
            ttft += prefix_s
            prefix_s = 0.0
            for j, i in enumerate(idx):
                stop = out.stop_ids[j]
                completion = len(gen[j]) + (1 if stop is not None else 0)  # the stop token counts too
                total_new += completion
                rows_written = None
                if capture is not None and wanted[j] and topk is not None:
                    token_ids = gen[j] + ([stop] if stop is not None else [])
                    meta = {**topk.metadata, "model": loaded.key, "prompt_tokens": len(prompts[i])}
                    rows_written = write_item(str(topk.paths[i]), capture, j, token_ids, meta)
                results[i] = ItemResult(
                    text=tok.decode(gen[j], skip_special_tokens=True),
                    prompt_tokens=len(prompts[i]),
                    completion_tokens=completion,
                    ttft_ms=ttft * 1000,
                    total_ms=total_ms,
                    finish_reason=finish[j],
                    topk_tokens=rows_written,
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
