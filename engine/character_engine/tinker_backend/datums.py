"""The local objectives' examples as Tinker Datums, and the losses Tinker runs on them.

Examples come from the same loaders the local engine trains with (training/data.py,
kd.py, on_policy.py), so a Tinker run trains on exactly the tokens a local run would.
A sequence of T tokens is the Datum the cookbook builds: model_input = tokens[:-1],
target_tokens = tokens[1:]; position t predicts tokens[t + 1], and it is labelled when
labels[t + 1] is (the local loop's labels[:, 1:]).

Every loss is normalised by the optimizer step's units (labelled tokens, pairs, sampled
tokens) as training/loop.py normalises it, so the gradient Tinker accumulates over a step
equals the local one and the reported loss means the same thing:
  sft        cross_entropy with weights = mask / units: sum(-logp * w) = mean token NLL
  kd         a custom loss (forward_backward_custom) on target_tokens [T-1, 1 + k] = (the
             teacher's token, its top-k): training/kd.py's coarsened forward KL, the same formula
  dpo        a custom loss on chosen/rejected sequences against the reference (the base,
             scored once through a SamplingClient's compute_logprobs), training/dpo.py's loss
  on-policy  importance_sampling with advantages = -(log p_student - log p_teacher) / units at
             every sampled token (the cookbook's incorporate_kl_penalty): a sampled estimate of the
             reverse KL's gradient, where the local engine computes the exact one over the vocabulary
"""

from __future__ import annotations

from typing import Any

from ..models.assistant_mask import IGNORE_INDEX


def shifted(ids: list[int], labels: list[int]) -> tuple[list[int], list[int], list[float]]:
    """(model_input, target_tokens, mask) of one labelled sequence."""
    mask = [0.0 if lab == IGNORE_INDEX else 1.0 for lab in labels[1:]]
    return ids[:-1], ids[1:], mask


def sft_datum(types: Any, ids: list[int], labels: list[int], scale: float) -> Any:
    import numpy as np

    inp, tgt, mask = shifted(ids, labels)
    return types.Datum(
        model_input=types.ModelInput.from_ints(inp),
        loss_fn_inputs={
            "target_tokens": np.asarray(tgt, dtype=np.int64),
            "weights": np.asarray(mask, dtype=np.float32) * np.float32(scale),
        },
    )


def units_of(labels: list[int]) -> int:
    return sum(1 for lab in labels[1:] if lab != IGNORE_INDEX)


def masked_nll(out: Any, mask: list[float]) -> float:
    """-sum(logp * mask) from one datum's forward output (its target tokens' log-probs)."""
    import torch

    lp = out["logprobs"].to_torch().float()
    if lp.dim() == 2:
        lp = lp[:, 0]
    return float(-(lp * torch.tensor(mask)).sum())


def forward_datum(types: Any, datum: Any) -> Any:
    """What forward(..., "cross_entropy") may send of a datum: target_tokens and weights.
    forward() sends every loss_fn_inputs field to the service, which refuses the fields its
    loss does not take (only forward_backward_custom trims client-side fields such as the
    teacher's log-probs and the mask, as the cookbook does before a forward). The weights are
    zero where none were given, as the SDK fills them for a custom loss: the evaluation reads
    only the returned log-probs."""
    inputs = datum.loss_fn_inputs
    targets = inputs["target_tokens"]
    weights = inputs.get("weights")
    if weights is None:
        weights = types.TensorData(data=[0.0] * len(targets.data), dtype="float32", shape=targets.shape)
    return types.Datum(
        model_input=datum.model_input, loss_fn_inputs={"target_tokens": targets, "weights": weights}
    )


# ----------------------------------------------------------------------------- kd


def kd_datum(types: Any, example: Any) -> Any:
    """target_tokens [T-1, 1 + k]: column 0 the token itself, then the teacher's top-k at
    labelled positions (the token repeated elsewhere); the teacher's log-probs and the
    mask ride along as client-side inputs of the custom loss."""
    import numpy as np

    inp, tgt, mask = shifted(example.input_ids, example.labels)
    k = int(example.topk_ids.shape[1])
    targets = np.repeat(np.asarray(tgt, dtype=np.int64)[:, None], 1 + k, axis=1)
    teacher = np.zeros((len(tgt), k), dtype=np.float32)
    rows = [t for t, m in enumerate(mask) if m]
    targets[rows, 1:] = example.topk_ids.numpy()[: len(rows)]
    teacher[rows] = example.topk_logprobs.numpy()[: len(rows)]
    return types.Datum(
        model_input=types.ModelInput.from_ints(inp),
        loss_fn_inputs={
            "target_tokens": targets,
            "teacher_logprobs": teacher,
            "mask": np.asarray(mask, dtype=np.float32),
        },
    )


def kd_terms(datum: Any, logprobs: Any) -> tuple[Any, Any, Any]:
    """(kd loss per position, nll per position, mask) of one datum from the student's
    log-probs of its targets: training/kd.py's coarsened forward KL, term for term."""
    import torch

    from ..training.kd import log1mexp

    student = logprobs[:, 1:]
    teacher = datum.loss_fn_inputs["teacher_logprobs"].to_torch().float()
    mask = datum.loss_fn_inputs["mask"].to_torch().float()
    top = (teacher.exp() * (teacher - student)).sum(-1)
    rest_t = log1mexp(torch.logsumexp(teacher, dim=-1))
    rest_s = log1mexp(torch.logsumexp(student, dim=-1))
    kd = top + rest_t.exp() * (rest_t - rest_s)
    return kd, -logprobs[:, 0], mask


def kd_loss_fn(scale: float, stats: dict[str, float]) -> Any:
    """The custom loss for forward_backward_custom: sum of kd over labelled positions x scale."""

    def fn(data: list[Any], logprobs_list: list[Any]) -> tuple[Any, dict[str, float]]:
        total = None
        for datum, lp in zip(data, logprobs_list, strict=True):
            kd, nll, mask = kd_terms(datum, lp)
            part = (kd * mask).sum()
            total = part if total is None else total + part
            stats["loss_sum"] = stats.get("loss_sum", 0.0) + float(part.detach())
            stats["nll_sum"] = stats.get("nll_sum", 0.0) + float((nll.detach() * mask).sum())
        assert total is not None
        return total * scale, {}

    return fn


# ----------------------------------------------------------------------------- dpo


def dpo_datums(types: Any, example: Any) -> list[Any]:
    """[chosen, rejected] of one pair, each with its mask as a client-side input."""
    import numpy as np

    out = []
    for seq in (example.chosen, example.rejected):
        inp, tgt, mask = shifted(seq.input_ids, seq.labels)
        out.append(
            types.Datum(
                model_input=types.ModelInput.from_ints(inp),
                loss_fn_inputs={
                    "target_tokens": np.asarray(tgt, dtype=np.int64),
                    "mask": np.asarray(mask, dtype=np.float32),
                },
            )
        )
    return out


def reference_sums(types: Any, reference: Any, data: list[Any]) -> list[float]:
    """The reference model's summed log-probs of each datum's labelled targets (all
    requests submitted before any result is read, so they run side by side)."""
    import torch

    futures = []
    for d in data:
        full = d.model_input.to_ints() + [int(d.loss_fn_inputs["target_tokens"].to_torch()[-1])]
        futures.append(reference.compute_logprobs(types.ModelInput.from_ints(full)))
    sums = []
    for d, f in zip(data, futures, strict=True):
        lp = torch.tensor([float("nan") if x is None else x for x in f.result()][1:])
        mask = d.loss_fn_inputs["mask"].to_torch().float()
        sums.append(float((torch.nan_to_num(lp) * mask).sum()))
    return sums


def dpo_loss_fn(
    beta: float, nll_coef: float, reference: list[float], scale: float, stats: dict[str, float]
) -> Any:
    """training/dpo.py's loss on data [c0, r0, c1, r1, ...]."""

    def fn(data: list[Any], logprobs_list: list[Any]) -> tuple[Any, dict[str, float]]:
        import torch
        import torch.nn.functional as F

        policy, counts = [], []
        for d, lp in zip(data, logprobs_list, strict=True):
            mask = d.loss_fn_inputs["mask"].to_torch().float()
            policy.append((lp * mask).sum())
            counts.append(float(mask.sum()))
        pol = torch.stack(policy)
        ref = torch.tensor(reference)
        margin = beta * ((pol[0::2] - ref[0::2]) - (pol[1::2] - ref[1::2]))
        per_pair = -F.logsigmoid(margin)
        if nll_coef:
            chosen_counts = torch.tensor(counts[0::2]).clamp(min=1)
            per_pair = per_pair + nll_coef * (-pol[0::2] / chosen_counts)
        total = per_pair.sum()
        stats["loss_sum"] = stats.get("loss_sum", 0.0) + float(total.detach())
        stats["correct"] = stats.get("correct", 0.0) + float((margin.detach() > 0).sum())
        stats["margin_sum"] = stats.get("margin_sum", 0.0) + float(margin.detach().sum())
        return total * scale, {}

    return fn


# ----------------------------------------------------------------------------- on-policy


def on_policy_datum(
    types: Any,
    prompt: list[int],
    sampled: list[int],
    sampled_lp: list[float],
    teacher_lp: list[float],
    scale: float,
) -> tuple[Any, float]:
    """(the importance_sampling Datum, the summed log p_S - log p_T of the sampled tokens)."""
    import numpy as np

    tokens = prompt + sampled
    p = len(prompt) - 1  # target positions before the first sampled token
    diff = np.asarray(sampled_lp, dtype=np.float32) - np.asarray(teacher_lp, dtype=np.float32)
    advantages = np.zeros(len(tokens) - 1, dtype=np.float32)
    advantages[p:] = -diff * np.float32(scale)
    logprobs = np.zeros(len(tokens) - 1, dtype=np.float32)
    logprobs[p:] = np.asarray(sampled_lp, dtype=np.float32)
    datum = types.Datum(
        model_input=types.ModelInput.from_ints(tokens[:-1]),
        loss_fn_inputs={
            "target_tokens": np.asarray(tokens[1:], dtype=np.int64),
            "logprobs": logprobs,
            "advantages": advantages,
        },
    )
    return datum, float(diff.sum())
