"""On-policy distillation: the student learns the teacher's distribution on the student's OWN
answers (GKD with on-policy data and beta = 1, Agarwal et al. 2024; TRL's GKDTrainer with
lmbda = 1, beta = 1). Rows are train_sft rows (TrainOnPolicyParams); only the turns before
the answer are used, unless `kd_weight` > 0 (below).

One optimizer step:
1. takes `batch_size` questions per micro-batch in the loop's seeded, length-bucketed order
   (one pass over the questions is an epoch);
2. the STUDENT (base + the current LoRA, no system prompt, eval mode) samples an answer to
   each through the engine's decode loop (the handler supplies it as a SampleFn), with
   `sampling` (temperature, top_p, max_new_tokens) and a seed derived from (seed,
   micro-batch index): a resumed run samples exactly what the uninterrupted one did;
3. the TEACHER (`teacher.system` in front; by default the same base with the adapter
   disabled) scores those exact tokens; the keys/values of its system prompt are computed
   once per run (logprobs.StoredPrefix) and every batch attends to that one copy;
4. the loss at every sampled position t (the stop token's included) is the reverse KL over
   the full vocabulary,

       KL(p_S || p_T) = sum_v p_S(v | x_<t) (log p_S(v | x_<t) - log p_T(v | sys, x_<t)),

   averaged over the step's sampled tokens. The samples are constants and the teacher has
   no gradient: only the student's distribution is trained. The KL is of the models at
   temperature 1, whatever temperature the samples were drawn at.

Relation to tinker's on-policy distillation (tinker-cookbook recipes/distillation): a remote
backend returns only the sampled tokens' log-probs, so tinker gives each sampled token x_t
the advantage -(log p_S(x_t) - log p_T(x_t)) (discount 0) and trains with an importance-
weighted policy gradient. Since E_{x~p_S}[grad log p_S(x) (log p_S(x) - log p_T(x))] is the
gradient of the KL above, that is a one-sample estimate of the gradient used here. Locally
both models' full logits are at hand, so the expectation over the vocabulary is taken
exactly: the same objective without the per-token sampling variance, for the price of a
[tokens, vocab] softmax.

`kd_weight` > 0 adds kd_weight x the kd loss (kd.py) of the micro-batch's questions whose
rows carry teacher_topk (the teacher's own answers to the same questions). The kd term is
the mean over those rows' tokens, weighted by the micro-batch's share of the step's
sampled tokens (exact with grad_accum 1).

Metrics: train `loss` = mean reverse KL per sampled token (`loss_kind` "reverse_kl"),
`sampled_tokens`, `stop_rate` (answers that ended with a stop token), `kd_loss` when
kd_weight > 0. Evaluation: the kd loss of the val rows when every one carries teacher_topk
(`loss_kind` "kd", with `nll`), else the reverse KL on student samples of the val questions
(seeded by the row, so each evaluation samples with the same seeds).
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from ..errors import InvalidParams
from ..models.assistant_mask import IGNORE_INDEX
from ..models.cache import load_private
from ..models.chat_template import prompt_ids, stop_token_ids
from .config import TeacherSettings, TrainConfig
from .data import SftExample, collate, pad_id_of, read_jsonl
from .kd import (
    KdExample,
    check_vocab,
    kd_batch,
    kd_example,
    kd_sums,
    output_vocab,
    prompt_and_answer,
)
from .logprobs import StoredPrefix, label_logits, store_prefix
from .objective import SampleFn
from .token_objective import label_count


@dataclass
class QuestionExample:
    messages: list[dict[str, str]]  # the turns before the answer (no system prompt)
    prompt_ids: list[int]  # as the student sees them: chat template + generation prompt
    line: int  # the JSONL row (1-based)
    kd: KdExample | None = None  # the teacher's answer with its top-k, when the row has one

    @property
    def length(self) -> int:
        return len(self.prompt_ids)


def load_questions(path: str, tokenizer: Any, max_length: int, param: str) -> list[QuestionExample]:
    out = []
    for line, row in enumerate(read_jsonl(path, param), start=1):
        messages, _answer = prompt_and_answer(row, path, line, param)
        ids = prompt_ids(tokenizer, None, messages)
        if len(ids) >= max_length:
            raise InvalidParams(
                f"max_length {max_length} leaves no room to answer question {line} in {path} "
                f"({len(ids)} prompt tokens); raise max_length",
                param="max_length",
                example=line,
                prompt_tokens=len(ids),
            )
        kd = kd_example(row, line, path, tokenizer, max_length, param) if "teacher_topk" in row else None
        out.append(QuestionExample(messages, ids, line, kd))
    return out


def sample_seed(run_seed: int, index: int | None, examples: list[QuestionExample]) -> int:
    """The sampling seed of a training micro-batch (by its index in the run) or of an
    evaluation batch (by its first row); str seeds hash the same in every process."""
    key = f"{run_seed}:{index}" if index is not None else f"{run_seed}:eval:{examples[0].line}"
    return random.Random(key).getrandbits(63)


def common_prefix(a: list[int], b: list[int]) -> list[int]:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def reverse_kl(student_logits: Any, teacher_logits: Any) -> Any:
    """KL(p_S || p_T) per row over the full vocabulary, from [N, V] logits."""
    import torch.nn.functional as F

    student = F.log_softmax(student_logits, dim=-1)
    teacher = F.log_softmax(teacher_logits, dim=-1)
    return (student.exp() * (student - teacher)).sum(-1)


def _part(batch: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {k[len(prefix) :]: v for k, v in batch.items() if k.startswith(prefix)}


class OnPolicyObjective:
    """Mean reverse KL(student || teacher) over the student's sampled tokens of a step."""

    loading_message = "tokenizing the questions"

    def __init__(
        self, cfg: TrainConfig, tokenizer: Any, sample: SampleFn, teacher_model: Any | None = None
    ) -> None:
        assert cfg.teacher is not None  # check_config
        self.teacher: TeacherSettings = cfg.teacher
        self.tokenizer = tokenizer
        self.sample = sample
        self.sampling = cfg.sampling
        self.max_length = cfg.max_length
        self.seed = cfg.seed
        self.kd_weight = cfg.kd_weight
        self.pad_id = pad_id_of(tokenizer)
        self.teacher_model = teacher_model  # None: the student's base, adapter disabled
        self.model: Any = None
        self.prefix: StoredPrefix | None = None
        self.stops: set[int] = set()

    @classmethod
    def check_config(cls, cfg: TrainConfig) -> None:
        if cfg.teacher is None:
            raise InvalidParams("missing parameter 'teacher' ({system, model?})", param="teacher")
        if cfg.kd_weight < 0:
            raise InvalidParams("'kd_weight' must be >= 0", param="kd_weight")

    @classmethod
    def load_examples(cls, path: str, tokenizer: Any, max_length: int, param: str) -> list[Any]:
        questions = load_questions(path, tokenizer, max_length, param)
        if param == "val_path" and all(q.kd is not None for q in questions):
            return [q.kd for q in questions]  # evaluated with the kd loss
        return questions

    @classmethod
    def from_config(
        cls, cfg: TrainConfig, tokenizer: Any, sample: SampleFn | None = None
    ) -> OnPolicyObjective:
        if sample is None:
            raise ValueError("on-policy training needs a SampleFn (the handler passes one)")
        teacher_model = None
        if cfg.teacher is not None and cfg.teacher.model is not None:
            loaded = load_private(cfg.teacher.model)
            if loaded.tokenizer.get_vocab() != tokenizer.get_vocab():
                raise InvalidParams(
                    "teacher.model has another tokenizer vocabulary than the student; the "
                    "teacher must score the student's own tokens",
                    param="teacher.model",
                )
            teacher_model = loaded.model.eval().requires_grad_(False)
        return cls(cfg, tokenizer, sample, teacher_model)

    @contextlib.contextmanager
    def _teacher(self) -> Iterator[Any]:
        if self.teacher_model is not None:
            yield self.teacher_model
        else:
            with self.model.disable_adapter():
                yield self.model

    def prepare(self, model: Any, train: list[Any], val: list[Any] | None) -> None:
        import torch

        self.model = model
        self.stops = stop_token_ids(model, self.tokenizer)
        vocab = output_vocab(model)
        kd_rows = [e.kd for e in train if e.kd is not None]
        kd_rows += [e for e in val or [] if isinstance(e, KdExample)]
        check_vocab(kd_rows, vocab)
        if self.kd_weight > 0 and not any(e.kd is not None for e in train):
            raise InvalidParams("kd_weight > 0 needs train rows that carry teacher_topk", param="kd_weight")
        if self.teacher_model is not None and output_vocab(self.teacher_model) != vocab:
            raise InvalidParams(
                "teacher.model's logits differ in size from the student's", param="teacher.model"
            )
        # The part of every teacher prompt fixed by the system prompt (two probes differ after it).
        system = self.teacher.system
        ids = common_prefix(
            prompt_ids(self.tokenizer, system, [{"role": "user", "content": "a"}]),
            prompt_ids(self.tokenizer, system, [{"role": "user", "content": "Zq"}]),
        )
        with torch.no_grad(), self._teacher() as teacher:
            self.prefix = store_prefix(teacher, ids)

    def collate(self, examples: list[Any], index: int | None = None) -> dict[str, Any]:
        if isinstance(examples[0], KdExample):
            return dict(kd_batch(examples, self.pad_id), mode="kd")
        samples = self._sample(examples, sample_seed(self.seed, index, examples))
        batch = self.sampled_batch(examples, samples)
        kd_rows = [e.kd for e in examples if e.kd is not None]
        if index is not None and self.kd_weight > 0 and kd_rows:
            batch.update({f"kd_{k}": v for k, v in kd_batch(kd_rows, self.pad_id).items()})
        return batch

    def _sample(self, examples: list[QuestionExample], seed: int) -> list[list[int]]:
        room = self.max_length - max(e.length for e in examples)
        settings = replace(self.sampling, max_new_tokens=max(1, min(self.sampling.max_new_tokens, room)))
        was_training = self.model.training
        self.model.eval()  # no LoRA dropout while sampling
        try:
            return self.sample(self.model, self.tokenizer, [e.prompt_ids for e in examples], settings, seed)
        finally:
            if was_training:
                self.model.train()

    def sampled_batch(self, examples: list[QuestionExample], samples: list[list[int]]) -> dict[str, Any]:
        """The student's and the teacher's view of fixed samples (one per example): the
        sampled tokens are labelled in both, behind each one's prompt."""
        assert self.prefix is not None  # prepare
        head = self.prefix.ids
        student, teacher = [], []
        for e, s in zip(examples, samples, strict=True):
            t_prompt = prompt_ids(self.tokenizer, self.teacher.system, e.messages)
            if t_prompt[: len(head)] != head:
                raise RuntimeError("a teacher prompt does not start with its system prompt's tokens")
            t_prompt = t_prompt[len(head) :]
            student.append(SftExample(e.prompt_ids + s, [IGNORE_INDEX] * e.length + s))
            teacher.append(SftExample(t_prompt + s, [IGNORE_INDEX] * len(t_prompt) + s))
        batch = collate(student, self.pad_id)
        batch.update({f"teacher_{k}": v for k, v in collate(teacher, self.pad_id).items()})
        batch["mode"] = "sampled"
        batch["stopped"] = sum(1 for s in samples if s and s[-1] in self.stops)
        batch["answers"] = len(samples)
        return batch

    def units(self, batch: dict[str, Any]) -> float:
        return label_count(batch)

    def tokens(self, batch: dict[str, Any]) -> int:
        return int(batch["attention_mask"].sum())

    def loss(self, model: Any, batch: dict[str, Any], denom: float) -> tuple[Any, dict[str, float]]:
        import torch

        if batch["mode"] == "kd":
            total, nll = kd_sums(model, batch)
            return total / denom, {"kd_sum": float(total.detach()), "nll_sum": nll}
        student_logits, _, _ = label_logits(model, batch)
        with torch.no_grad(), self._teacher() as teacher:
            teacher_logits, _, _ = label_logits(teacher, _part(batch, "teacher_"), prefix=self.prefix)
        total = reverse_kl(student_logits, teacher_logits).sum()
        loss = total / denom
        stats = {"rkl_sum": float(total.detach()), "stopped": batch["stopped"], "answers": batch["answers"]}
        kd_part = _part(batch, "kd_")
        if kd_part:
            kd_total, _nll = kd_sums(model, kd_part)
            kd_mean, share = kd_total / label_count(kd_part), label_count(batch)
            loss = loss + self.kd_weight * kd_mean * (share / denom)
            stats["kd_weighted"] = float(kd_mean.detach()) * share
        return loss, stats

    def summarize(self, stats: dict[str, float], units: float) -> dict[str, Any]:
        if "rkl_sum" not in stats:  # an evaluation of val rows with top-k files
            if not units:
                return {"loss": float("nan"), "nll": float("nan"), "loss_kind": "kd"}
            return {"loss": stats["kd_sum"] / units, "nll": stats["nll_sum"] / units, "loss_kind": "kd"}
        out: dict[str, Any] = {
            "loss": stats["rkl_sum"] / units if units else float("nan"),
            "loss_kind": "reverse_kl",
            "sampled_tokens": units,
            "stop_rate": stats["stopped"] / stats["answers"] if stats.get("answers") else 0.0,
        }
        if "kd_weighted" in stats:
            out["kd_loss"] = stats["kd_weighted"] / units if units else float("nan")
        return out
