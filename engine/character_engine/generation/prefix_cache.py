"""The prompt prefix a call's items share, run through the model once and kept for later calls.

A PrefixCache holds a few prefix KV caches keyed by model/adapter and the prefix token
ids; chat turns and successive teacher batches behind the same system prompt find theirs
stored. It is part of the engine state (state.py) and is cleared when a model unloads.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from ..models.chat_template import prompt_ids

# A shared prefix shorter than this is not worth a separate forward pass.
MIN_PREFIX_TOKENS = 4
# Prefix caches kept across calls (chat turns and successive teacher batches reuse them).
MAX_PREFIX_CACHES = 2

PrefixKV = list[tuple[Any, Any]]  # per layer: (keys, values), each (1, kv_heads, L, head_dim)
Prefix = tuple[list[int], PrefixKV]  # (token ids, their keys/values)


class PrefixCache:
    """A few prefix KV caches, keyed by model/adapter and the prefix token ids (LRU)."""

    def __init__(self, max_entries: int = MAX_PREFIX_CACHES) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[tuple, PrefixKV] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def find(self, model_key: tuple, prompts: list[list[int]]) -> Prefix | None:
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

    def put(self, model_key: tuple, ids: list[int], kv: PrefixKV) -> None:
        with self._lock:
            self._items[(*model_key, tuple(ids))] = kv
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def find_or_compute(
        self,
        model_key: tuple,
        model: Any,
        tokenizer: Any,
        items: list[dict[str, Any]],
        prompts: list[list[int]],
    ) -> tuple[Prefix | None, float]:
        """(the prefix to share, seconds spent computing it): a stored one, else a new one
        that is stored, else None when the prompts share too little."""
        prefix = self.find(model_key, prompts)
        if prefix is not None:
            return prefix, 0.0
        systems = {it.get("system") for it in items}
        if len(systems) == 1:
            # Stop at the end of the system part, not at whatever else these items happen
            # to share: the next call (next chunk, next chat turn) then finds it stored.
            sys_ids = system_prefix(tokenizer, items[0].get("system"))
            n = common_prefix_len([sys_ids, *prompts])
        else:
            n = common_prefix_len(prompts)
        n = min(n, min(len(p) for p in prompts) - 1)  # every item keeps >= 1 suffix token
        if n < MIN_PREFIX_TOKENS:
            return None, 0.0
        ids = prompts[0][:n]
        t0 = time.perf_counter()
        prefix = (ids, compute_prefix_kv(model, ids, next(model.parameters()).device))
        seconds = time.perf_counter() - t0
        self.put(model_key, ids, prefix[1])
        return prefix, seconds


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


def compute_prefix_kv(model: Any, ids: list[int], device: Any) -> PrefixKV:
    import torch

    with torch.inference_mode():
        out = model(input_ids=torch.tensor([ids], device=device), use_cache=True, logits_to_keep=1)
    return [(layer.keys, layer.values) for layer in out.past_key_values.layers]


def expand_cache(model: Any, kv: PrefixKV, batch: int) -> Any:
    """A standard cache with the prefix expanded (as views) to every row of the batch."""
    from transformers import DynamicCache

    data = [(k.expand(batch, -1, -1, -1), v.expand(batch, -1, -1, -1)) for k, v in kv]
    return DynamicCache(ddp_cache_data=data, config=model.config)
