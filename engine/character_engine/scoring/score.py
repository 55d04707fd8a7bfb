"""score: the teacher-forced log-likelihood of a response after a templated prompt."""

from __future__ import annotations

import math
from typing import Any

from ..models.chat_template import prompt_ids, stop_token_ids
from ..models.loaded import LoadedModel

SCORE_BATCH_SIZE = 8


def response_ids(loaded: LoadedModel, model: Any, response: str) -> list[int]:
    """The response's tokens plus the end-of-turn token the model must produce to stop."""
    tok = loaded.tokenizer
    ids = list(tok(response, add_special_tokens=False)["input_ids"])
    end = tok.convert_tokens_to_ids("<|im_end|>") if "<|im_end|>" in tok.get_vocab() else tok.eos_token_id
    if end is None:
        stops = stop_token_ids(model, tok)
        end = min(stops) if stops else None
    return ids + ([int(end)] if end is not None else [])


def score_items(
    loaded: LoadedModel, items: list[dict[str, Any]], batch_size: int = SCORE_BATCH_SIZE, ctx: Any = None
) -> list[dict[str, float]]:
    """Sum log-prob of each response (teacher-forced after system + messages + generation prompt)."""
    import torch

    tok = loaded.tokenizer
    results: list[dict[str, float]] = []
    with loaded.activated() as model, torch.inference_mode():
        device = next(model.parameters()).device
        pairs = []
        for it in items:
            p = prompt_ids(tok, it.get("system"), it["messages"])
            r = response_ids(loaded, model, it["response"])
            pairs.append((p, r))
        for b0 in range(0, len(pairs), batch_size):
            if ctx is not None:
                ctx.check_cancel()
            chunk = pairs[b0 : b0 + batch_size]
            width = max(len(p) + len(r) for p, r in chunk)
            pad = tok.pad_token_id if tok.pad_token_id is not None else 0
            ids = torch.full((len(chunk), width), pad, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for i, (p, r) in enumerate(chunk):  # right padding: positions start at 0 for everyone
                seq = p + r
                ids[i, : len(seq)] = torch.tensor(seq)
                mask[i, : len(seq)] = 1
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
            logp = torch.log_softmax(logits, dim=-1)
            for i, (p, r) in enumerate(chunk):
                if not r:
                    results.append({"logprob": 0.0, "tokens": 0, "perplexity": 1.0})
                    continue
                # the token at position t is predicted by the logits at t - 1
                pos = torch.arange(len(p) - 1, len(p) + len(r) - 1, device=logp.device)
                target = torch.tensor(r, device=logp.device)
                lp = float(logp[i, pos, target].sum())
                results.append({"logprob": lp, "tokens": len(r), "perplexity": math.exp(-lp / len(r))})
            if ctx is not None:
                ctx.progress("score", min(b0 + batch_size, len(pairs)), len(pairs))
    return results
