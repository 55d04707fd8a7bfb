"""bf16 against float32 for the teacher, on the same answers.

The teacher's captured top-k distributions are what kd trains on, so bf16 compute is only
worth having if those distributions stay close to float32's. Teacher-forced on answers
the float32 teacher generated (system prompt + question + answer), both copies of the
model give a next-token distribution at every answer token; the row reports

  - KL(p_fp32 || p_bf16) per answer token, over the full vocabulary (nats), mean and max;
  - how much of the float32 top-k the bf16 top-k keeps (k as captured);
  - the greedy agreement: the share of answer positions whose argmax is the same;
  - tokens/s of prefix-cached batched generation with each copy, side by side (bf16 runs
    natively only where the CPU has AVX512_BF16 or AMX; elsewhere torch emulates it).

The engine keeps float32 on the CPU; these rows say whether bf16 would be within tolerance
and faster on the machine that ran them.
"""

from __future__ import annotations

import copy
import time
from typing import Any

# Mean KL per token (nats) under which bf16 counts as "the same teacher" for kd: a tenth of
# the smallest student-to-teacher KL the demo reaches (~0.3 nats/token), so the bf16 error is
# small next to what training closes.
KL_TOLERANCE = 0.03


def _answer_logprobs(model: Any, prompt: list[int], answer: list[int]) -> Any:
    """log-softmax [len(answer), vocab] (float32) of the logits predicting each answer token."""
    import torch

    ids = torch.tensor([prompt + answer[:-1]])
    with torch.inference_mode():
        logits = model(input_ids=ids, logits_to_keep=len(answer)).logits[0]
    return torch.log_softmax(logits.float(), dim=-1)


def bf16_agreement(
    loaded: Any, items: list[dict[str, Any]], answers: list[list[int]], k: int
) -> dict[str, Any]:
    """KL and top-k overlap of a bf16 copy of `loaded`'s model against float32 on `answers`
    (token ids the float32 model generated for `items`)."""
    import torch

    from character_engine.models.chat_template import prompt_ids

    tok = loaded.tokenizer
    fp32 = loaded.model
    bf16 = copy.deepcopy(fp32).to(torch.bfloat16)
    kls: list[float] = []
    overlap, same_argmax, positions = 0.0, 0, 0
    for it, ans in zip(items, answers, strict=True):
        if not ans:
            continue
        prompt = prompt_ids(tok, it.get("system"), it["messages"])
        a, b = _answer_logprobs(fp32, prompt, ans), _answer_logprobs(bf16, prompt, ans)
        kl = (a.exp() * (a - b)).sum(dim=-1, dtype=torch.float64).clamp_min(0)
        kls += kl.tolist()
        ta, tb = torch.topk(a, k, dim=-1).indices, torch.topk(b, k, dim=-1).indices
        for r in range(ta.shape[0]):
            overlap += len(set(ta[r].tolist()) & set(tb[r].tolist())) / k
        same_argmax += int((ta[:, 0] == tb[:, 0]).sum())
        positions += ta.shape[0]
    mean_kl = sum(kls) / len(kls) if kls else None
    return {
        "answers": len([a for a in answers if a]),
        "tokens": positions,
        "kl_mean": mean_kl,
        "kl_max": max(kls) if kls else None,
        "kl_tolerance": KL_TOLERANCE,
        "within_tolerance": mean_kl is not None and mean_kl <= KL_TOLERANCE,
        "topk_overlap": overlap / positions if positions else None,
        "k": k,
        "argmax_agreement": same_argmax / positions if positions else None,
        "bf16_model": bf16,
    }


def bf16_speed(
    loaded: Any, bf16_model: Any, items: list[dict[str, Any]], sampling: Any, batch: int, repeats: int
) -> dict[str, Any]:
    """Prefix-cached batched generation with the float32 and the bf16 copy, alternated
    F B B F ..., each computing its prefix afresh; tokens/s of each and their ratio."""
    from character_engine.generation.decode_loop import generate_items
    from character_engine.generation.prefix_cache import PrefixCache
    from character_engine.models.loaded import LoadedModel

    half = LoadedModel(bf16_model, loaded.tokenizer, loaded.info, f"{loaded.key}#bf16")
    models = {"float32": loaded, "bfloat16": half}
    order = (["float32", "bfloat16", "bfloat16", "float32"] * repeats)[: 2 * repeats]
    totals = {name: {"completion_tokens": 0, "wall_s": 0.0} for name in models}
    for name in order:
        t0 = time.perf_counter()
        res, _ = generate_items(models[name], items, sampling, prefixes=PrefixCache(), batch_size=batch)
        totals[name]["wall_s"] += time.perf_counter() - t0
        totals[name]["completion_tokens"] += sum(r.completion_tokens for r in res)
    tps = {n: t["completion_tokens"] / t["wall_s"] for n, t in totals.items()}
    return {
        "items": len(items),
        "batch_size": batch,
        "max_new_tokens": sampling.max_new_tokens,
        "order": order,
        "float32_tokens_per_s": tps["float32"],
        "bfloat16_tokens_per_s": tps["bfloat16"],
        "ratio": tps["bfloat16"] / tps["float32"],
    }
