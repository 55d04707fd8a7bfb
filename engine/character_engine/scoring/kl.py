"""kl_metrics: how far students are from a teacher on given responses, exactly.

The teacher is a model (+ adapter) WITH a system prompt (the character's constitution); a
student is a model (+ adapter) WITHOUT one, rendered exactly as chat renders it with no
system. Both read the same response tokens, tokenized as SFT training does (the reply's
content and the end-of-turn token; models/assistant_mask.py). At every response position

    KL(p_T || p_S) = sum over the whole vocabulary of p_T(v) (log p_T(v) - log p_S(v))

from float32 log-softmaxes, summed over the vocabulary in float32 on the model's device, then
over positions in float64 on the CPU (Apple's MPS has no float64). Per item the result holds
the sums over its tokens (KL in nats, and the NLL of the response under teacher and each
student); the client averages per token and bootstraps over items.

The prompt part every item shares (the teacher's system prompt, the student's chat opening)
runs once per model and call, from the prefix cache, and the batch reads it through the
single-copy attention of prefix_attention.py; the LM head runs only on response positions.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Protocol

from .. import prefix_attention
from ..errors import InvalidParams
from ..models.assistant_mask import IGNORE_INDEX, TemplateError, tokenize_conversation
from ..models.chat_template import chat_messages
from ..models.loaded import LoadedModel

KL_BATCH_SIZE = 8


class Prefixes(Protocol):
    """What kl_metrics needs of the engine's PrefixCache (generation/prefix_cache.py)."""

    def find_or_compute(
        self,
        model_key: tuple,
        model: Any,
        tokenizer: Any,
        items: list[dict[str, Any]],
        prompts: list[list[int]],
    ) -> tuple[Any, float]: ...


@dataclass
class Scorer:
    """One model in the comparison: the teacher (with its system prompt) or a student."""

    loaded: LoadedModel
    system: str | None
    param: str  # where it came from in the request, for errors (e.g. "students[1].model")


def split_conversation(
    tokenizer: Any, system: str | None, messages: list[dict[str, str]], response: str, param: str
) -> tuple[list[int], list[int]]:
    """(prompt ids, response ids incl. the end-of-turn token) as SFT training tokenizes them."""
    chat = chat_messages(system, messages) + [{"role": "assistant", "content": response}]
    try:
        conv = tokenize_conversation(tokenizer, chat, train_on="last")
    except TemplateError as exc:
        raise InvalidParams(f"cannot locate the response in the chat template: {exc}", param=param) from exc
    start = conv.prompt_tokens
    end = start
    while end < len(conv.labels) and conv.labels[end] != IGNORE_INDEX:
        end += 1
    return conv.input_ids[:start], conv.input_ids[start:end]


def response_logprobs(
    scorer: Scorer, model: Any, seqs: list[tuple[list[int], list[int]]], prefix: Any
) -> list[Any]:
    """Per sequence, log-softmax [len(response), vocab] (float32) of the logits that predict
    each response token. Left padding between the shared prefix and each row's own tokens,
    explicit positions (the layout of generation/decode_loop.py's first step)."""
    import torch

    tok = scorer.loaded.tokenizer
    device = next(model.parameters()).device
    plen = len(prefix[0]) if prefix is not None else 0
    shared = prefix is not None and prefix_attention.install(model)
    if not shared:
        plen = 0
    # The last response token predicts nothing we need: feed prompt + response[:-1].
    rows = [(p + r[:-1])[plen:] for p, r in seqs]
    keep = max(len(r) for _, r in seqs)
    width = max(len(x) for x in rows)
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else 0
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    own_mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, x in enumerate(rows):
        ids[i, width - len(x) :] = torch.tensor(x, dtype=torch.long)
        own_mask[i, width - len(x) :] = 1
    positions = (plen + own_mask.cumsum(-1) - 1).clamp(min=plen)
    mask = torch.cat([torch.ones((len(rows), plen), dtype=torch.long), own_mask], dim=1)
    kwargs: dict[str, Any] = {"use_cache": False}
    scope: Any = contextlib.nullcontext()
    if shared:
        kwargs = {"past_key_values": prefix_attention.suffix_cache(model, plen), "use_cache": True}
        scope = prefix_attention.active_prefix([(k[0], v[0]) for k, v in prefix[1]])
    with scope:
        logits = model(
            input_ids=ids.to(device),
            attention_mask=mask.to(device),
            position_ids=positions.to(device),
            logits_to_keep=keep,
            **kwargs,
        ).logits
    out = []
    for i, (_, r) in enumerate(seqs):
        out.append(torch.log_softmax(logits[i, keep - len(r) :].float(), dim=-1))
    return out


def _kl_sum(teacher: Any, teacher_p: Any, student: Any) -> float:
    """Sum over positions of KL(p_T || p_S) over the full vocabulary, in nats."""
    import torch

    diff = torch.where(teacher_p > 0, teacher_p * (teacher - student), torch.zeros_like(teacher))
    # Float rounding can leave a per-position value a hair below zero; KL itself never is.
    # float32 on the device (MPS has no float64); positions add up in float64 on the CPU.
    return float(diff.sum(dim=-1).clamp_min(0).cpu().double().sum())


def _nll_sum(logp: Any, targets: list[int]) -> float:
    import torch

    index = torch.tensor(targets, dtype=torch.long, device=logp.device)
    return float(-logp.gather(1, index[:, None]).cpu().double().sum())


def kl_metrics(
    teacher: Scorer,
    students: list[Scorer],
    items: list[dict[str, Any]],
    *,
    prefixes: Prefixes | None,
    batch_size: int = KL_BATCH_SIZE,
    ctx: Any = None,
) -> list[dict[str, Any]]:
    """Per item {tokens, teacher_nll, students: [{kl, nll}]}: sums over the response tokens
    (`items`: {messages, response}). `prefixes` shares each model's common prompt prefix;
    None runs every prompt in full."""
    import torch

    scorers = [teacher, *students]
    # Each scorer's (prompt ids, response ids) per item; the response ids must agree.
    seqs: list[list[tuple[list[int], list[int]]]] = []
    for s in scorers:
        tok = s.loaded.tokenizer
        seqs.append(
            [
                split_conversation(tok, s.system, it["messages"], it["response"], f"items[{n}].response")
                for n, it in enumerate(items)
            ]
        )
    for s, rows in zip(students, seqs[1:], strict=True):
        if any(r != t for (_, r), (_, t) in zip(rows, seqs[0], strict=True)):
            raise InvalidParams(
                "this student tokenizes the responses differently from the teacher; KL needs one vocabulary",
                param=s.param,
            )
    prefix_of: list[Any] = [None] * len(scorers)
    order = sorted(range(len(items)), key=lambda n: len(seqs[0][n][0]) + len(seqs[0][n][1]))
    results: list[dict[str, Any]] = [
        {"tokens": len(seqs[0][n][1]), "teacher_nll": 0.0, "students": []} for n in range(len(items))
    ]
    size = max(1, batch_size)
    with torch.inference_mode():
        for b0 in range(0, len(order), size):
            batch = order[b0 : b0 + size]
            teacher_logp: list[Any] = []
            teacher_p: list[Any] = []
            for m, s in enumerate(scorers):
                if ctx is not None:
                    ctx.check_cancel()
                with s.loaded.activated() as model:
                    if b0 == 0 and prefixes is not None and items:
                        key = (s.loaded.key, s.loaded.adapter_name)
                        shared = [{"system": s.system}] * len(items)
                        prefix_of[m], _ = prefixes.find_or_compute(
                            key, model, s.loaded.tokenizer, shared, [p for p, _ in seqs[m]]
                        )
                    logps = response_logprobs(s, model, [seqs[m][n] for n in batch], prefix_of[m])
                for j, n in enumerate(batch):
                    targets = seqs[0][n][1]
                    nll = _nll_sum(logps[j], targets)
                    if m == 0:
                        teacher_logp.append(logps[j])
                        teacher_p.append(logps[j].exp())
                        results[n]["teacher_nll"] = nll
                        continue
                    if logps[j].shape != teacher_logp[j].shape:
                        raise InvalidParams(
                            f"the student's vocabulary ({logps[j].shape[-1]}) differs from the "
                            f"teacher's ({teacher_logp[j].shape[-1]})",
                            param=s.param,
                        )
                    kl = _kl_sum(teacher_logp[j], teacher_p[j], logps[j])
                    results[n]["students"].append({"kl": kl, "nll": nll})
                del logps
            if ctx is not None:
                ctx.progress("kl_metrics", min(b0 + size, len(items)), len(items))
    return results
