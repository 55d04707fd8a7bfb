"""The four objectives on Tinker: what one optimizer step sends, and how an evaluation
reads out. Each takes the step's micro-batches (the local loop's order) and returns the
summed stats, the units the loss is normalised by, and the tokens processed; `summarize`
turns stats into the metric row the local objective writes (same keys)."""

from __future__ import annotations

import random
from typing import Any

from ..models.chat_template import prompt_ids, stop_token_ids
from ..training.config import TrainConfig
from ..training.dpo import DpoObjective
from ..training.kd import KdExample, KdObjective
from ..training.on_policy import OnPolicyObjective, sample_seed
from ..training.sft import SftObjective
from . import datums as D

Step = tuple[dict[str, float], float, int]  # (summed stats, units, tokens)


class TinkerSft:
    local = SftObjective

    def __init__(self, types: Any, cfg: TrainConfig, tokenizer: Any, service: Any, settings: Any) -> None:
        self.types = types

    def _data(self, examples: list[Any], scale: float) -> tuple[list[Any], list[list[float]]]:
        data = [D.sft_datum(self.types, e.input_ids, e.labels, scale) for e in examples]
        return data, [D.shifted(e.input_ids, e.labels)[2] for e in examples]

    def step(self, tc: Any, groups: list[list[Any]], first: int) -> Step:
        examples = [e for g in groups for e in g]
        units = float(sum(D.units_of(e.labels) for e in examples)) or 1.0
        data, masks = self._data(examples, 1.0 / units)
        out = tc.forward_backward(data, "cross_entropy").result()
        loss = sum(D.masked_nll(o, m) for o, m in zip(out.loss_fn_outputs, masks, strict=True))
        return {"loss_sum": loss}, units, sum(e.length for e in examples)

    def evaluate(self, tc: Any, val: list[Any]) -> dict[str, Any]:
        units = float(sum(D.units_of(e.labels) for e in val))
        data, masks = self._data(val, 1.0)
        out = tc.forward(data, "cross_entropy").result()
        loss = sum(D.masked_nll(o, m) for o, m in zip(out.loss_fn_outputs, masks, strict=True))
        return self.summarize({"loss_sum": loss}, units)

    def summarize(self, stats: dict[str, float], units: float) -> dict[str, Any]:
        return {"loss": stats.get("loss_sum", 0.0) / units if units else float("nan")}


class TinkerKd(TinkerSft):
    local = KdObjective

    def step(self, tc: Any, groups: list[list[Any]], first: int) -> Step:
        examples = [e for g in groups for e in g]
        units = float(sum(D.units_of(e.labels) for e in examples)) or 1.0
        stats: dict[str, float] = {}
        data = [D.kd_datum(self.types, e) for e in examples]
        tc.forward_backward_custom(data, D.kd_loss_fn(1.0 / units, stats)).result()
        return stats, units, sum(e.length for e in examples)

    def evaluate(self, tc: Any, val: list[Any]) -> dict[str, Any]:
        return kd_eval(self.types, tc, val)

    def summarize(self, stats: dict[str, float], units: float) -> dict[str, Any]:
        return kd_summary(stats, units)


def kd_summary(stats: dict[str, float], units: float) -> dict[str, Any]:
    """kd.py's metric row: the coarsened KL and the NLL of the teacher's tokens, per token."""
    if not units:
        return {"loss": float("nan"), "nll": float("nan")}
    return {"loss": stats.get("loss_sum", 0.0) / units, "nll": stats.get("nll_sum", 0.0) / units}


def kd_eval(types: Any, tc: Any, val: list[KdExample]) -> dict[str, Any]:
    import torch

    data = [D.kd_datum(types, e) for e in val]
    out = tc.forward([D.forward_datum(types, d) for d in data], "cross_entropy").result()
    stats = {"loss_sum": 0.0, "nll_sum": 0.0}
    for d, o in zip(data, out.loss_fn_outputs, strict=True):
        lp = o["logprobs"].to_torch().float()
        lp = lp.reshape(o["logprobs"].shape) if o["logprobs"].shape else lp
        with torch.no_grad():
            kd, nll, mask = D.kd_terms(d, lp)
        stats["loss_sum"] += float((kd * mask).sum())
        stats["nll_sum"] += float((nll * mask).sum())
    return kd_summary(stats, float(sum(D.units_of(e.labels) for e in val)))


class TinkerDpo:
    local = DpoObjective

    def __init__(self, types: Any, cfg: TrainConfig, tokenizer: Any, service: Any, settings: Any) -> None:
        self.types = types
        self.beta, self.nll_coef = cfg.beta, cfg.nll_coef
        # The reference is the base with no adapter, as the local DPO disables its adapter.
        self.reference = service.create_sampling_client(base_model=settings.base_model).result()

    def _pairs(self, examples: list[Any]) -> tuple[list[Any], list[float]]:
        data = [d for e in examples for d in D.dpo_datums(self.types, e)]
        return data, D.reference_sums(self.types, self.reference, data)

    def step(self, tc: Any, groups: list[list[Any]], first: int) -> Step:
        examples = [e for g in groups for e in g]
        data, ref = self._pairs(examples)
        stats: dict[str, float] = {}
        fn = D.dpo_loss_fn(self.beta, self.nll_coef, ref, 1.0 / len(examples), stats)
        tc.forward_backward_custom(data, fn).result()
        tokens = sum(e.chosen.length + e.rejected.length for e in examples)
        return stats, float(len(examples)), tokens

    def evaluate(self, tc: Any, val: list[Any]) -> dict[str, Any]:
        import torch

        data, ref = self._pairs(val)
        out = tc.forward([D.forward_datum(self.types, d) for d in data], "cross_entropy").result()
        stats: dict[str, float] = {}
        lps = [o["logprobs"].to_torch().float() for o in out.loss_fn_outputs]
        with torch.no_grad():
            D.dpo_loss_fn(self.beta, self.nll_coef, ref, 1.0, stats)(data, lps)
        return self.summarize(stats, float(len(val)))

    def summarize(self, stats: dict[str, float], units: float) -> dict[str, Any]:
        """dpo.py's metric row."""
        if not units:
            return {"loss": float("nan"), "reward_accuracy": 0.0, "reward_margin": 0.0}
        return {
            "loss": stats.get("loss_sum", 0.0) / units,
            "reward_accuracy": stats.get("correct", 0.0) / units,
            "reward_margin": stats.get("margin_sum", 0.0) / units,
        }


class TinkerOnPolicy:
    local = OnPolicyObjective

    def __init__(self, types: Any, cfg: TrainConfig, tokenizer: Any, service: Any, settings: Any) -> None:
        assert cfg.teacher is not None  # OnPolicyObjective.check_config
        self.types, self.cfg, self.tokenizer, self.service = types, cfg, tokenizer, service
        self.system = cfg.teacher.system
        # The teacher: another Tinker model, or the student's base (the local default: the
        # student's own base with the adapter switched off). Its tokenizer must be the student's.
        name = settings.teacher_model or settings.base_model
        self.teacher = service.create_sampling_client(base_model=name).result()
        self.stops = sorted(stop_token_ids(None, tokenizer))

    def _samples(
        self, tc: Any, examples: list[Any], seed: int
    ) -> list[tuple[Any, list[int], list[float], list[float], bool]]:
        """Per example: (example, sampled tokens, their student log-probs, the teacher's, stopped)."""
        student = tc.save_weights_and_get_sampling_client().result()
        room = self.cfg.max_length - max(e.length for e in examples)
        rng = random.Random(seed)
        sampled = []
        for e in examples:
            params = self.types.SamplingParams(
                max_tokens=max(1, min(self.cfg.sampling.max_new_tokens, room)),
                temperature=self.cfg.sampling.temperature,
                top_p=self.cfg.sampling.top_p,
                seed=rng.getrandbits(31),
                stop=self.stops,
            )
            sampled.append(student.sample(self.types.ModelInput.from_ints(e.prompt_ids), 1, params))
        scored = []
        for e, f in zip(examples, sampled, strict=True):
            seq = f.result().sequences[0]
            teacher_prompt = prompt_ids(self.tokenizer, self.system, e.messages)
            full = self.types.ModelInput.from_ints(teacher_prompt + list(seq.tokens))
            scored.append(
                (e, list(seq.tokens), list(seq.logprobs or []), self.teacher.compute_logprobs(full))
            )
        out = []
        for e, tokens, lp, f in scored:
            teacher_lp = [0.0 if x is None else float(x) for x in f.result()][-len(tokens) :]
            out.append((e, tokens, lp, teacher_lp, bool(tokens) and tokens[-1] in self.stops))
        return out

    def step(self, tc: Any, groups: list[list[Any]], first: int) -> Step:
        stats: dict[str, float] = {"loss_sum": 0.0, "stopped": 0.0, "answers": 0.0}
        samples = []
        for k, group in enumerate(groups):
            samples += self._samples(tc, group, sample_seed(self.cfg.seed, first + k, group))
        units = float(sum(len(t) for _, t, _, _, _ in samples)) or 1.0
        data = []
        for e, tokens, lp, teacher_lp, stopped in samples:
            datum, diff = D.on_policy_datum(self.types, e.prompt_ids, tokens, lp, teacher_lp, 1.0 / units)
            data.append(datum)
            stats["loss_sum"] += diff
            stats["stopped"] += float(stopped)
            stats["answers"] += 1.0
        tc.forward_backward(data, "importance_sampling").result()
        kd_rows = [e.kd for g in groups for e in g if e.kd is not None]
        if self.cfg.kd_weight > 0 and kd_rows:
            kd_units = float(sum(D.units_of(e.labels) for e in kd_rows)) or 1.0
            kd_stats: dict[str, float] = {}
            fn = D.kd_loss_fn(self.cfg.kd_weight / kd_units, kd_stats)
            tc.forward_backward_custom([D.kd_datum(self.types, e) for e in kd_rows], fn).result()
            stats["kd_loss"] = kd_stats.get("loss_sum", 0.0) / kd_units
        tokens = sum(len(e.prompt_ids) + len(t) for e, t, _, _, _ in samples)
        return stats, units, tokens

    def evaluate(self, tc: Any, val: list[Any]) -> dict[str, Any]:
        if val and all(isinstance(e, KdExample) for e in val):
            return dict(kd_eval(self.types, tc, val), loss_kind="kd")
        samples = self._samples(tc, val, sample_seed(self.cfg.seed, None, val))
        units = float(sum(len(t) for _, t, _, _, _ in samples))
        diff = sum(float(sum(a - b for a, b in zip(lp, tl, strict=True))) for _, _, lp, tl, _ in samples)
        return {"loss": diff / units if units else float("nan"), "loss_kind": "reverse_kl"}

    def summarize(self, stats: dict[str, float], units: float) -> dict[str, Any]:
        answers = stats.get("answers", 0.0)
        out: dict[str, Any] = {
            "loss": stats.get("loss_sum", 0.0) / units if units else float("nan"),
            "loss_kind": "reverse_kl",
            "sampled_tokens": units,
            "stop_rate": stats.get("stopped", 0.0) / answers if answers else 0.0,
        }
        if "kd_loss" in stats:
            out["kd_loss"] = stats["kd_loss"]
        return out


OBJECTIVES: dict[str, type] = {
    "sft": TinkerSft,
    "kd": TinkerKd,
    "dpo": TinkerDpo,
    "on_policy": TinkerOnPolicy,
}
