"""Knowledge distillation on the teacher's top-k: the student (no system prompt) learns the
teacher's (the same base WITH the constitution) next-token distributions over the teacher's
own answers, not just the one token the teacher happened to sample at each position.

Rows are train_sft rows plus the answer's top-k file (TrainKdParams):

    {"messages": [{"role": "user", ...}, {"role": "assistant", ...}], "teacher_topk": "topk/17.safetensors"}

`teacher_topk` is relative to the JSONL file's folder, or absolute; the file is
topk_file.write_topk's: the teacher's generated token_ids (the stop token last) and, at
each of them, the top-k ids and log-probabilities of the teacher at temperature 1. The
assistant message is optional; when present, the tokens must decode to it.

An example is the prompt exactly as SFT renders it (models/assistant_mask.py: the turns before the
answer with the generation prompt, no system prompt) followed by the stored token_ids, not
a re-tokenization of the text; the token_ids positions are the labelled ones, except those
the file marks unknown (`known`: an endpoint could not name the teacher's distribution there).

Loss per labelled position: forward KL(p_T || p_S), the teacher's distribution being the
target, with both distributions coarsened to the teacher's top-k tokens plus one "rest"
bucket, r = 1 - sum_{i in top-k} p(i):

    sum_{i in top-k} p_T(i) (log p_T(i) - log p_S(i))  +  r_T (log r_T - log r_S)

It is a KL between two distributions over k + 1 outcomes: >= 0, and 0 when the student
gives every top-k token the teacher's probability. Averaged over the labelled tokens of an
optimizer step, like SFT. Metrics: `loss` (this) and `nll` (cross-entropy of the teacher's
tokens, SFT's loss on the same rows), so the two objectives can be compared.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from ..errors import CorruptFile, InvalidParams
from ..models.assistant_mask import IGNORE_INDEX, TemplateError, tokenize_conversation
from ..topk_file import read_topk
from .data import SftExample, collate, parse_messages, read_jsonl
from .logprobs import label_logits
from .token_objective import LabelledTokenObjective

# The smallest "rest" mass told apart from 0: the top-k log-probs are float32 and sum to
# within ~1e-7 of 1 when the top-k holds all the mass, so log r below this is rounding noise.
REST_MIN = 1e-6
_LOG_TOP_MAX = math.log1p(-REST_MIN)


@dataclass
class KdExample(SftExample):
    topk_ids: Any  # LongTensor [labelled tokens, k]
    topk_logprobs: Any  # FloatTensor [labelled tokens, k], descending
    source: str  # the top-k file
    line: int  # the JSONL row (1-based)
    param: str  # train_path / val_path


def prompt_and_answer(
    row: dict[str, Any], path: str, line: int, param: str
) -> tuple[list[dict[str, str]], str | None]:
    """(the turns before the answer, the answer or None) of a distillation row."""
    msgs = parse_messages(row.get("messages"), f"{path}:{line} 'messages'", param, line)
    if any(m["role"] == "system" for m in msgs):
        raise InvalidParams(
            f"{path}:{line} has a system message; the student trains without one "
            "(the teacher's system prompt is the top-k file's, or teacher.system)",
            param=param,
            line=line,
        )
    answer = None
    if msgs[-1]["role"] == "assistant":
        answer, msgs = msgs[-1]["content"], msgs[:-1]
    if not msgs or msgs[-1]["role"] != "user":
        raise InvalidParams(
            f"{path}:{line} 'messages' must end with a user turn (then, optionally, the answer)",
            param=param,
            line=line,
        )
    return msgs, answer


def kd_example(
    row: dict[str, Any], line: int, path: str, tokenizer: Any, max_length: int, param: str
) -> KdExample:
    """One row with its top-k file; InvalidParams naming the row (and file) when they do not fit."""
    raw = row.get("teacher_topk")
    if not isinstance(raw, str) or not raw:
        raise InvalidParams(
            f"{path}:{line} has no 'teacher_topk' (the path of the teacher's top-k file)",
            param=param,
            line=line,
        )
    file = raw if os.path.isabs(raw) else os.path.join(os.path.dirname(os.path.abspath(path)), raw)
    prompt, answer = prompt_and_answer(row, path, line, param)

    def bad(why: str) -> InvalidParams:
        return InvalidParams(f"{path}:{line}: {why}", param=param, line=line, file=file)

    try:
        topk = read_topk(file)
    except CorruptFile as exc:
        raise bad(exc.message) from exc
    ids = [int(t) for t in topk.token_ids.tolist()]
    if not ids:
        raise bad(f"{file} holds no tokens")
    if min(ids) < 0 or max(ids) >= len(tokenizer):
        raise bad(f"{file} holds token ids outside this tokenizer's vocabulary (another model's file?)")
    text = tokenizer.decode(ids, skip_special_tokens=True)
    if answer is not None and text.strip() != answer.strip():
        raise bad(f"the tokens in {file} decode to {text[:60]!r}, not the row's answer {answer[:60]!r}")
    reply = {"role": "assistant", "content": answer if answer is not None else text}
    try:
        conv = tokenize_conversation(tokenizer, [*prompt, reply], train_on="last")
    except TemplateError as exc:
        raise bad(str(exc)) from exc
    prompt_ids = conv.input_ids[: conv.prompt_tokens]
    if len(prompt_ids) >= max_length:
        raise InvalidParams(
            f"max_length {max_length} is shorter than the prompt of example {line} in {path} "
            f"({len(prompt_ids)} tokens); raise max_length",
            param="max_length",
            example=line,
            prompt_tokens=len(prompt_ids),
        )
    keep = min(len(ids), max_length - len(prompt_ids))
    # Positions whose distribution the teacher's endpoint could not name (topk_file's `known`)
    # stay in the input but are not labelled: kd leaves them out, and their rows go with them.
    known = [True] * keep if topk.known is None else [bool(x) for x in topk.known[:keep].tolist()]
    if not any(known):
        raise bad(f"{file} knows the teacher's distribution at none of its first {keep} tokens")
    rows = topk.topk_ids[:keep] if all(known) else topk.topk_ids[:keep][topk.known[:keep]]
    lps = topk.topk_logprobs[:keep] if all(known) else topk.topk_logprobs[:keep][topk.known[:keep]]
    return KdExample(
        input_ids=prompt_ids + ids[:keep],
        labels=[IGNORE_INDEX] * len(prompt_ids)
        + [t if k else IGNORE_INDEX for t, k in zip(ids[:keep], known, strict=True)],
        topk_ids=rows,
        topk_logprobs=lps,
        source=file,
        line=line,
        param=param,
    )


def load_kd(path: str, tokenizer: Any, max_length: int, param: str) -> list[KdExample]:
    return [
        kd_example(row, line, path, tokenizer, max_length, param)
        for line, row in enumerate(read_jsonl(path, param), start=1)
    ]


def output_vocab(model: Any) -> int:
    """Columns of the model's logits."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    head = base.get_output_embeddings()
    return int(head.weight.shape[0]) if head is not None else int(base.config.vocab_size)


def check_vocab(examples: list[KdExample], vocab: int) -> None:
    for e in examples:
        if int(e.topk_ids.max()) >= vocab or max(e.input_ids) >= vocab:
            raise InvalidParams(
                f"{e.source} (row {e.line}) holds token ids beyond this model's {vocab} logits "
                "(a file written by another model?)",
                param=e.param,
                line=e.line,
                file=e.source,
            )


def kd_batch(examples: list[KdExample], pad_id: int) -> dict[str, Any]:
    """SFT's padded tensors plus the top-k targets of every labelled position, row by row
    (the order label_logits returns them in). Files with different k are cut to the
    smallest: a top-k list is sorted, so its first k' entries are the top-k'."""
    import torch

    batch = collate(examples, pad_id)
    k = min(int(e.topk_ids.shape[1]) for e in examples)
    batch["topk_ids"] = torch.cat([e.topk_ids[:, :k] for e in examples])
    batch["topk_logprobs"] = torch.cat([e.topk_logprobs[:, :k] for e in examples])
    return batch


def log1mexp(x: Any) -> Any:
    """log(1 - exp(x)) for log-masses x < 0, stable at both ends (log(-expm1) near 0,
    log1p(-exp) below -ln 2); x is clamped so that the result is >= log(REST_MIN)."""
    import torch

    x = x.clamp(max=_LOG_TOP_MAX)
    return torch.where(x > -math.log(2.0), torch.log(-torch.expm1(x)), torch.log1p(-torch.exp(x)))


def kd_token_losses(logits: Any, targets: Any, topk_ids: Any, topk_logprobs: Any) -> tuple[Any, Any]:
    """(kd loss [N], nll [N]) at N positions from the student's logits [N, V] and the
    teacher's top-k there. Only two [N, V] passes (logsumexp, gathers): no full log_softmax."""
    import torch

    lse = torch.logsumexp(logits, dim=-1, keepdim=True)
    student = logits.gather(-1, topk_ids) - lse  # log p_S of the teacher's top-k
    teacher = topk_logprobs
    top = (teacher.exp() * (teacher - student)).sum(-1)
    log_rest_teacher = log1mexp(torch.logsumexp(teacher, dim=-1))
    log_rest_student = log1mexp(torch.logsumexp(student, dim=-1))
    rest = log_rest_teacher.exp() * (log_rest_teacher - log_rest_student)
    nll = lse.squeeze(-1) - logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return top + rest, nll


def kd_sums(model: Any, batch: dict[str, Any]) -> tuple[Any, float]:
    """(kd loss summed over the batch's labelled tokens, their summed nll)."""
    logits, targets, _rows = label_logits(model, batch)
    kd, nll = kd_token_losses(logits, targets, batch["topk_ids"], batch["topk_logprobs"])
    return kd.sum(), float(nll.detach().sum())


class KdObjective(LabelledTokenObjective):
    """Mean coarsened forward KL(teacher || student) over the labelled tokens of a step."""

    loading_message = "reading the teacher's top-k files"

    @classmethod
    def load_examples(cls, path: str, tokenizer: Any, max_length: int, param: str) -> list[KdExample]:
        return load_kd(path, tokenizer, max_length, param)

    def prepare(self, model: Any, train: list[KdExample], val: list[KdExample] | None) -> None:
        check_vocab(train + (val or []), output_vocab(model))

    def collate(self, examples: list[KdExample], index: int | None = None) -> dict[str, Any]:
        return kd_batch(examples, self.pad_id)

    def loss(self, model: Any, batch: dict[str, Any], denom: float) -> tuple[Any, dict[str, float]]:
        total, nll = kd_sums(model, batch)
        return total / denom, {"loss_sum": float(total.detach()), "nll_sum": nll}

    def summarize(self, stats: dict[str, float], units: float) -> dict[str, Any]:
        if not units:
            return {"loss": float("nan"), "nll": float("nan")}
        return {"loss": stats.get("loss_sum", 0.0) / units, "nll": stats.get("nll_sum", 0.0) / units}
