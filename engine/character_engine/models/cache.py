"""ModelCache: loaded bases kept between requests, with adapters loaded onto them by name.

Up to MAX_CACHED_BASES bases stay loaded (LRU). PEFT adapters load onto the cached base,
so one base serves the bare model and several adapters; `LoadedModel.activated()`
switches to the right one for a request. The cache is part of the engine state
(state.py): the protocol server and the OpenAI-compatible server each create one.

Training modifies its model, so it takes a private copy instead (`load_private`).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from .adapters import FRESH_ADAPTER_NAME, adapter_name, add_adapter, check_adapter
from .loaded import LoadedModel
from .loaders import load_base
from .specs import parse_spec, spec_key

log = logging.getLogger(__name__)

MAX_CACHED_BASES = 2
MAX_ADAPTERS_PER_BASE = 4


@dataclass
class _Entry:
    model: Any  # PreTrainedModel, or PeftModel once an adapter was loaded
    tokenizer: Any
    info: dict[str, Any]
    adapters: OrderedDict[str, str] = field(default_factory=OrderedDict)  # name -> path
    lock: threading.RLock = field(default_factory=threading.RLock)


class ModelCache:
    """Loaded bases by spec key (LRU), each with its adapters (LRU, by content-stamped name)."""

    def __init__(
        self, max_bases: int = MAX_CACHED_BASES, max_adapters_per_base: int = MAX_ADAPTERS_PER_BASE
    ) -> None:
        self.max_bases = max_bases
        self.max_adapters_per_base = max_adapters_per_base
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.RLock()

    def load(self, spec: dict[str, Any], adapter: str | None = None, *, ctx: Any = None) -> LoadedModel:
        """The base named by `spec` (loaded now or found in the cache), with `adapter` active if given."""
        spec = parse_spec(spec)
        base_key = spec_key(spec)
        adapter_path = check_adapter(adapter) if adapter else None

        with self._lock:
            entry = self._entries.get(base_key)
            if entry is not None:
                self._entries.move_to_end(base_key)
            else:
                model, tokenizer, info = load_base(spec, ctx)
                entry = _Entry(model=model, tokenizer=tokenizer, info=dict(info, key=base_key))
                self._entries[base_key] = entry
                while len(self._entries) > self.max_bases:
                    old_key, _old = self._entries.popitem(last=False)
                    log.info("evicted model %s from the cache", old_key)
                collect_garbage()

        if adapter_path is None:
            return LoadedModel(entry.model, entry.tokenizer, dict(entry.info), base_key, None, entry.lock)

        name = adapter_name(adapter_path)
        with entry.lock:
            if name not in entry.adapters:
                entry.model = add_adapter(entry.model, adapter_path, name)
                entry.adapters[name] = adapter_path
                while len(entry.adapters) > self.max_adapters_per_base:
                    old, _ = entry.adapters.popitem(last=False)
                    entry.model.delete_adapter(old)
            else:
                entry.adapters.move_to_end(name)
            key = f"{base_key}+{adapter_path}"
            info = dict(entry.info, key=key)
            info["adapter"] = adapter_path
            return LoadedModel(entry.model, entry.tokenizer, info, key, name, entry.lock)

    def unload(self, key: str) -> bool:
        """Drop a cached base (key without '+adapter'), or just one adapter (key with it)."""
        with self._lock:
            if key in self._entries:
                del self._entries[key]
                collect_garbage()
                return True
            base_key, sep, adapter_path = key.partition("+")
            entry = self._entries.get(base_key)
            if not sep or entry is None:
                return False
            with entry.lock:
                for name, path in list(entry.adapters.items()):
                    if path == adapter_path:
                        entry.model.delete_adapter(name)
                        del entry.adapters[name]
                        return True
            return False

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._entries.keys())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            collect_garbage()


def load_private(spec: dict[str, Any], adapter: str | None = None, *, ctx: Any = None) -> LoadedModel:
    """A private copy of the base named by `spec`, shared with nobody (training modifies its
    model); an adapter, if given, is loaded into a PeftModel of its own."""
    spec = parse_spec(spec)
    base_key = spec_key(spec)
    adapter_path = check_adapter(adapter) if adapter else None
    model, tokenizer, info = load_base(spec, ctx)
    info = dict(info, key=base_key)
    if adapter_path:
        model = add_adapter(model, adapter_path, FRESH_ADAPTER_NAME)
        info["key"] = f"{base_key}+{adapter_path}"
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        info=info,
        key=info["key"],
        adapter_name=FRESH_ADAPTER_NAME if adapter_path else None,
    )


def collect_garbage() -> None:
    """Return freed model memory now (and the GPU's cached blocks), not at some later collection."""
    import gc

    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass
