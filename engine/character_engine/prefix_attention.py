"""Attention over a shared prefix that is stored once, not once per sequence.

Teacher-data generation runs a batch of B questions behind the same ~800-token system
prompt. A standard KV cache holds that prefix B times and, on every decode step,
concatenates it with the new token's keys (a full copy) and repeats it for grouped-query
heads (three more copies for SmolLM2). On a CPU that copying, not the arithmetic, is what
a decode step costs.

Here the prefix keys/values stay a single (kv_heads, L, head_dim) tensor. The cache holds
only each sequence's own tokens, and an attention function registered with transformers
scores the query against both parts:

    scores = [ q . prefix_k  |  q . own_k ]  -> one softmax ->  p_prefix . prefix_v + p_own . own_v

The prefix product folds the batch and query-group axes into the rows of one matmul, so the
single prefix copy serves every sequence without being expanded. The model's own mask is
used for the per-sequence part (padding and causality); every prefix token is visible to
every later token, so that part needs none.

Training uses the same function (training/loop.py): rows that share an unlabelled prefix
(the chat template's opening and a default system prompt) run it once per batch, and the
gradient flows back through the single copy.

The function is installed as the model's attention implementation but does nothing special
unless a prefix is active for the current thread (`active_prefix`); otherwise it is the
stock SDPA attention. Models whose layers are not all full attention (sliding windows)
are not given it; `supports` says which.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

NAME = "character_prefix_sdpa"

PrefixKV = list[tuple[Any, Any]]  # per layer: (keys, values), each (kv_heads, L, head_dim)

_active: contextvars.ContextVar[PrefixKV | None] = contextvars.ContextVar("character_prefix", default=None)
_registered = False


def _register() -> None:
    global _registered
    if _registered:
        return
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

    AttentionInterface.register(NAME, prefix_attention)
    ALL_MASK_ATTENTION_FUNCTIONS.register(NAME, sdpa_mask)
    _registered = True


def _text_config(config: Any) -> Any:
    """The decoder's config (multimodal configs nest it; plain ones are it)."""
    return config.get_text_config(decoder=True) if hasattr(config, "get_text_config") else config


def supports(model: Any) -> bool:
    """True when every layer is plain full attention dispatched through transformers'
    attention interface (sdpa or already ours)."""
    config = getattr(model, "config", None)
    if config is None:
        return False
    text = _text_config(config)
    if getattr(text, "_attn_implementation", None) not in ("sdpa", NAME):
        return False
    layer_types = getattr(text, "layer_types", None)
    if layer_types and any(t != "full_attention" for t in layer_types):
        return False
    if getattr(text, "sliding_window", None) and getattr(text, "use_sliding_window", True):
        return False
    return True


def single_copy_pays(device: Any) -> bool:
    """Whether decoding on `device` should read a shared prefix through `prefix_attention`
    (one copy, explicit float32 scores) rather than the stock SDPA over a cache with the prefix
    expanded to every row. On a CPU the copies are what a decode step costs, so the single copy
    wins (the bench measures both). On a GPU the copies are cheap next to SDPA's fused
    (flash / memory-efficient) kernels, which never build the score matrix at all; the stock
    path is used there. Not measured on a GPU here: no GPU was available to this change."""
    return getattr(device, "type", str(device)) == "cpu"


def install(model: Any) -> bool:
    """Make `model` dispatch attention through `prefix_attention`. Returns False (and
    changes nothing) for models it does not support."""
    if not supports(model):
        return False
    _register()
    _text_config(model.config)._attn_implementation = NAME
    model.config._attn_implementation = NAME
    return True


def prefix_kv(cache: Any) -> PrefixKV:
    """The prefix as one (kv_heads, L, head_dim) tensor pair per layer, from a batch-1 cache."""
    return [(layer.keys[0], layer.values[0]) for layer in cache.layers]


@contextlib.contextmanager
def active_prefix(kv: PrefixKV) -> Iterator[None]:
    token = _active.set(kv)
    try:
        yield
    finally:
        _active.reset(token)


def suffix_cache(model: Any, prefix_len: int) -> Any:
    """A cache for the per-sequence tokens that reports lengths as if the prefix were in it,
    so positions and mask sizes come out as for one unbroken sequence."""
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    class SuffixLayer(DynamicLayer):
        def get_seq_length(self) -> int:
            return prefix_len + super().get_seq_length()

    cache = DynamicCache(config=model.config)
    cache.layers = [SuffixLayer() for _ in cache.layers]
    return cache


def prefix_attention(
    module: Any,
    query: Any,
    key: Any,
    value: Any,
    attention_mask: Any,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs: Any,
) -> tuple[Any, None]:
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    prefix = _active.get()
    if prefix is None:
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
        )
    pk, pv = prefix[module.layer_idx]
    b, hq, q, d = query.shape
    hkv, s = key.shape[1], key.shape[2]
    g = hq // hkv
    plen = pk.shape[1]
    scale = scaling if scaling is not None else d**-0.5

    # Query heads j*g .. j*g+g-1 share kv head j (the layout repeat_kv assumes).
    qg = query.reshape(b, hkv, g * q, d)
    rows = qg.transpose(0, 1).reshape(hkv, b * g * q, d)
    prefix_scores = torch.bmm(rows, pk.transpose(1, 2)).view(hkv, b, g * q, plen).transpose(0, 1)
    own_scores = torch.matmul(qg, key.transpose(2, 3))
    scores = torch.cat([prefix_scores, own_scores], dim=-1).float() * scale

    own = scores[..., plen:]
    if attention_mask is not None:
        mask = attention_mask[..., -s:]  # (b or 1, 1, q, s): the per-sequence keys
        mask = mask.unsqueeze(2).expand(mask.shape[0], 1, g, q, s).reshape(mask.shape[0], 1, g * q, s)
        if mask.dtype == torch.bool:
            own.masked_fill_(~mask, float("-inf"))
        else:
            own.add_(mask.float())
    elif q > 1:
        causal = torch.ones(q, s, dtype=torch.bool, device=query.device).tril(diagonal=s - q)
        own.masked_fill_(~causal.repeat(g, 1), float("-inf"))

    probs = torch.softmax(scores, dim=-1).to(value.dtype)
    if dropout > 0:
        probs = torch.nn.functional.dropout(probs, p=dropout, training=True)
    prefix_probs = probs[..., :plen].transpose(0, 1).reshape(hkv, b * g * q, plen)
    out = torch.bmm(prefix_probs, pv).view(hkv, b, g * q, d).transpose(0, 1)
    out = out + torch.matmul(probs[..., plen:], value)
    out = out.reshape(b, hq, q, d).transpose(1, 2).contiguous()
    return out, None
