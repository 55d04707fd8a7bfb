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


EndCheck = Callable[[int, list[int]], str | None]
"""(item, its generated ids so far) -> a finish reason to end that item now, or None."""
StepObserver = Callable[[Any, list[int], list[int]], None]
"""(this step's raw logits [rows, vocab], rows[r] = the item of row r, the ids chosen per row)."""


class BatchDecode:
    """One batch decoded a token at a time: `step()` runs one forward pass for every item
    still unfinished and returns True once the batch is done; `output()` then gives the
    result. Between steps nothing is held (the shared prefix is made active for the step
    only), so a caller may interleave several batches on one thread (the HTTP server does).

    `end_check`, if given, is asked after each generated (non-stop) token whether that item
    ends now (stop strings, per-item token limits, a client that left); `observe` sees each
    step's raw logits and the chosen ids (log-probabilities for the HTTP server).
    `single_copy` picks how a shared prefix is attended to (None: what pays on this device,
    prefix_attention.single_copy_pays); both give the same tokens up to float rounding."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        prompts: list[list[int]],
        prefix: Prefix | None,
        sampling: Sampling,
        stops: set[int],
        generator: Any,
        streams: list[TokenStream | None] | None = None,
        cancel: threading.Event | None = None,
        capture: BatchCapture | None = None,
        end_check: EndCheck | None = None,
        observe: StepObserver | None = None,
        single_copy: bool | None = None,
    ) -> None:
        import torch

        self.model, self.tokenizer, self.sampling, self.stops = model, tokenizer, sampling, stops
        self.generator, self.cancel, self.capture = generator, cancel, capture
        self.end_check, self.observe = end_check, observe
        self.device = next(model.parameters()).device
        self.start = time.perf_counter()
        batch = len(prompts)
        self.streams: list[TokenStream | None] = streams if streams is not None else [None] * batch
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
        self.input_ids, self.positions = input_ids.to(self.device), positions.to(self.device)
        self.mask = mask.to(self.device)
        self.prefix_kv: Any = None
        if single_copy is None:
            single_copy = prefix_attention.single_copy_pays(self.device)
        if prefix is not None and single_copy and prefix_attention.install(model):
            # One copy of the prefix for the whole batch (see prefix_attention.py).
            self.cache: Any = prefix_attention.suffix_cache(model, plen)
            self.prefix_kv = [(k[0], v[0]) for k, v in prefix[1]]
        else:
            self.cache = expand_cache(model, prefix[1], batch) if prefix else None
        self.generated: list[list[int]] = [[] for _ in range(batch)]
        self.finish = ["length"] * batch
        self.stop_ids: list[int | None] = [None] * batch
        self.done = [False] * batch
        self.rows = list(range(batch))  # batch row -> item; finished items leave the batch
        self.ttft = 0.0
        self.steps = 0
        self.finished = False

    def step(self) -> bool:
        """Decode one token for each unfinished item; True once the whole batch is done."""
        import torch

        if self.finished:
            return True
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("generation was cancelled")
        scope = (
            prefix_attention.active_prefix(self.prefix_kv)
            if self.prefix_kv is not None
            else contextlib.nullcontext()
        )
        with torch.inference_mode(), scope:
            out = self.model(
                input_ids=self.input_ids,
                attention_mask=self.mask,
                position_ids=self.positions,
                past_key_values=self.cache,
                use_cache=True,
                logits_to_keep=1,
            )
            self.cache = out.past_key_values
            logits = out.logits[:, -1, :].float()
            if self.capture is not None:
                self.capture.record(logits, self.rows)  # before the sampler: the raw distribution
            history = [self.generated[i] for i in self.rows] if self.sampling.penalised else None
            next_ids = choose(logits, self.sampling, self.generator, history)
            if self.steps == 0:
                self.ttft = time.perf_counter() - self.start
            toks = next_ids.tolist()
            if self.observe is not None:
                self.observe(logits, self.rows, toks)
            for r, t in enumerate(toks):
                i = self.rows[r]
                if t in self.stops:
                    self.done[i] = True
                    self.finish[i] = "stop"
                    self.stop_ids[i] = t
                    continue
                self.generated[i].append(t)
                stream = self.streams[i]
                if stream is not None:
                    stream.update(self.generated[i])
                reason = self.end_check(i, self.generated[i]) if self.end_check is not None else None
                if reason is not None:
                    self.done[i] = True
                    self.finish[i] = reason
            self.steps += 1
            if all(self.done) or self.steps >= self.sampling.max_new_tokens:
                self._close()
                return True
            device = self.device
            self.input_ids = next_ids.unsqueeze(-1)
            self.positions = self.positions[:, -1:] + 1
            ones = torch.ones((len(self.rows), 1), dtype=self.mask.dtype, device=device)
            self.mask = torch.cat([self.mask, ones], dim=1)
            keep = [r for r, i in enumerate(self.rows) if not self.done[i]]
            if len(keep) < len(self.rows):
                # Finished items leave the batch: later steps compute only for the rest.
                index = torch.tensor(keep, dtype=torch.long, device=device)
                self.cache.batch_select_indices(index)
                self.input_ids, self.positions = self.input_ids[index], self.positions[index]
                self.mask = self.mask[index]
                self.rows = [self.rows[r] for r in keep]
        return False

    def _close(self) -> None:
        self.finished = True
        self.cache = None  # the batch's own keys/values are freed as soon as it ends
        for i, s in enumerate(self.streams):
            if s is not None:
                s.update(self.generated[i], final=True)

    def output(self) -> BatchOutput:
        return BatchOutput(self.generated, self.finish, self.stop_ids, self.ttft)


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
    single_copy: bool | None = None,
) -> BatchOutput:
    """Generate for one batch. `capture`, if given, records the raw logits' top-k at every step."""
    decode = BatchDecode(
        model,
        tokenizer,
        prompts,
        prefix,
        sampling,
        stops,
        generator,
        streams,
        cancel,
        capture,
        single_copy=single_copy,
    )
    while not decode.step():
        pass
    return decode.output()


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
    single_copy: bool | None = None,
) -> tuple[list[ItemResult], dict[str, float]]:
    """Generate one answer per item ({system?, messages}). `prefixes` is where the shared
    prompt prefix is looked up and kept; None runs every prompt in full. `topk` asks for the
    raw next-token top-k of every generated token, written per item when its batch ends.
    `single_copy` overrides how the prefix is attended to (BatchDecode; the bench compares).
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
                single_copy,
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
