"""Logits and log-probabilities at label positions, computed the fast way on a CPU: the LM
head only on labelled positions, and a prefix every row shares run once. Objectives
(sft.py, dpo.py, kd.py, on_policy.py) build their losses from these.

A prefix can also be stored across batches (`StoredPrefix`): the on-policy teacher's system
prompt is run once per training run and every teacher batch attends to that one copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..models.assistant_mask import IGNORE_INDEX


def _fast_head_ok(base: Any) -> bool:
    cfg = base.config
    return (
        hasattr(base, "lm_head")
        and hasattr(base, getattr(base, "base_model_prefix", "model"))
        and not getattr(cfg, "final_logit_softcapping", None)
        and not getattr(cfg, "logit_scale", None)
    )


# A shared prefix shorter than this is not worth a separate forward pass.
MIN_SHARED_PREFIX = 8


def shared_prefix_len(batch: dict[str, Any]) -> int:
    """Tokens at the start of every row that are identical and unlabelled (the chat template's
    opening, a default system prompt, a DPO pair's prompt), so their hidden states serve only
    as keys/values for later tokens. 0 when under MIN_SHARED_PREFIX or for a single row."""
    import torch

    ids, labels, mask = batch["input_ids"], batch["labels"], batch["attention_mask"]
    if ids.shape[0] < 2:
        return 0
    same = int((ids == ids[:1]).all(dim=0).long().cumprod(0).sum())
    # Hidden state j predicts label j+1: every labelled position must lie beyond the prefix.
    labelled = (labels[:, 1:] != IGNORE_INDEX).any(dim=0).nonzero()
    first_label = int(labelled[0]) + 1 if len(labelled) else ids.shape[1]
    n = min(same, first_label - 1, int(mask.sum(dim=1).min()) - 1)
    if n < MIN_SHARED_PREFIX or not bool(torch.all(mask[:, :n] == 1)):
        return 0
    return n


@dataclass
class StoredPrefix:
    """Tokens that every row of later batches continues (the teacher's system prompt), run
    once without gradient. `kv` is None when the model cannot attend to a stored prefix
    (prefix_attention.supports); then the ids are run again in front of every row."""

    ids: list[int]
    kv: Any = None


def _base(model: Any) -> Any:
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def store_prefix(model: Any, ids: list[int]) -> StoredPrefix:
    """Run `ids` once through `model` as it is now (call it inside `disable_adapter()` for a
    base-model teacher) and keep their keys/values."""
    import torch

    from .. import prefix_attention

    base = _base(model)
    if not (_fast_head_ok(base) and prefix_attention.install(base)):
        return StoredPrefix(list(ids), None)
    decoder = getattr(base, base.base_model_prefix)
    device = next(base.parameters()).device
    with torch.no_grad():
        out = decoder(input_ids=torch.tensor([ids], device=device), use_cache=True)
    return StoredPrefix(list(ids), prefix_attention.prefix_kv(out.past_key_values))


def _prepend(batch: dict[str, Any], ids: list[int]) -> dict[str, Any]:
    """The batch with `ids` in front of every row (unlabelled)."""
    import torch

    rows = batch["input_ids"].shape[0]
    head = torch.tensor(ids, dtype=torch.long, device=batch["input_ids"].device).expand(rows, -1)
    return {
        "input_ids": torch.cat([head, batch["input_ids"]], dim=1),
        "labels": torch.cat([torch.full_like(head, IGNORE_INDEX), batch["labels"]], dim=1),
        "attention_mask": torch.cat([torch.ones_like(head), batch["attention_mask"]], dim=1),
    }


def _after_stored_prefix(base: Any, batch: dict[str, Any], prefix: StoredPrefix) -> Any:
    """Hidden states of the batch's tokens, which continue the stored prefix (one copy)."""
    import torch

    from .. import prefix_attention

    decoder = getattr(base, base.base_model_prefix)
    ids, mask = batch["input_ids"], batch["attention_mask"]
    start = len(prefix.ids)
    cache = prefix_attention.suffix_cache(base, start)
    positions = torch.arange(start, start + ids.shape[1], device=ids.device).expand(ids.shape[0], -1)
    full_mask = torch.cat([torch.ones((ids.shape[0], start), dtype=mask.dtype, device=mask.device), mask], 1)
    with prefix_attention.active_prefix(prefix.kv):
        out = decoder(
            input_ids=ids,
            attention_mask=full_mask,
            position_ids=positions,
            past_key_values=cache,
            use_cache=True,
        )
    return out.last_hidden_state


def _hidden_states(base: Any, batch: dict[str, Any], share_prefix: bool) -> tuple[Any, int]:
    """Last hidden states from position `start` on: (hidden[B, T - start, H], start).

    With a shared prefix of P tokens, the prefix runs once (batch 1) and the rows run from P
    on, attending to its keys/values through prefix_attention (one copy, no expansion). The
    gradient into the prefix is the sum over rows, as in the plain batch, so loss and
    gradients are the same up to float rounding (tests/test_sft.py checks both)."""
    import torch

    from .. import prefix_attention

    decoder = getattr(base, base.base_model_prefix)
    ids, mask = batch["input_ids"], batch["attention_mask"]
    start = shared_prefix_len(batch) if share_prefix else 0
    if start and prefix_attention.install(base):
        head = decoder(input_ids=ids[:1, :start], use_cache=True)
        kv = prefix_attention.prefix_kv(head.past_key_values)
        cache = prefix_attention.suffix_cache(base, start)
        positions = torch.arange(start, ids.shape[1], device=ids.device).expand(ids.shape[0], -1)
        with prefix_attention.active_prefix(kv):
            out = decoder(
                input_ids=ids[:, start:],
                attention_mask=mask,
                position_ids=positions,
                past_key_values=cache,
                use_cache=True,
            )
        return out.last_hidden_state, start
    return decoder(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state, 0


def label_logits(
    model: Any, batch: dict[str, Any], share_prefix: bool = True, prefix: StoredPrefix | None = None
) -> tuple[Any, Any, Any]:
    """(logits[N, V] in float32, label tokens[N], row index[N]) over the labelled positions
    of the batch, row by row in order. The LM head runs only on labelled positions: most
    tokens of a chat example are prompt, and the head (vocab x hidden) is a large share of
    compute. A prefix every row shares is computed once (see _hidden_states); `prefix`, if
    given, is a stored one the batch's rows continue."""
    import torch

    base = _base(model)
    if prefix is not None and (prefix.kv is None or not _fast_head_ok(base)):
        batch, prefix = _prepend(batch, prefix.ids), None
    labels = batch["labels"][:, 1:]
    select = labels != IGNORE_INDEX
    targets = labels[select]
    if _fast_head_ok(base):
        if prefix is not None:
            hidden, start = _after_stored_prefix(base, batch, prefix), 0
        else:
            hidden, start = _hidden_states(base, batch, share_prefix)
        # hidden[:, j] is position start + j; labels before the prefix's end are all ignored.
        logits = base.lm_head(hidden[:, :-1][select[:, start:]])
    else:
        out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False)
        logits = out.logits[:, :-1][select]
    # At least float32 (half-precision bases on a GPU); float64 stays (gradient tests).
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32))
    return logits, targets, select.nonzero()[:, 0]


def label_logprobs(model: Any, batch: dict[str, Any], share_prefix: bool = True) -> tuple[Any, Any]:
    """Log-probabilities of the label tokens: (logps[N], row index[N]) over all labelled
    positions of the batch (see label_logits)."""
    import torch.nn.functional as F

    logits, targets, rows = label_logits(model, batch, share_prefix)
    return -F.cross_entropy(logits, targets, reduction="none"), rows


def sequence_logprobs(model: Any, batch: dict[str, Any]) -> tuple[Any, Any]:
    """Summed label log-probability per row and the label token count per row."""
    import torch

    logps, rows = label_logprobs(model, batch)
    n = batch["input_ids"].shape[0]
    sums = torch.zeros(n, dtype=logps.dtype, device=logps.device).index_add(0, rows, logps)
    counts = torch.zeros(n, dtype=logps.dtype, device=logps.device).index_add(0, rows, torch.ones_like(logps))
    return sums, counts
