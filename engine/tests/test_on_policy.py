"""train_on_policy on the tiny random model: the teacher is the same base with a system prompt.
Training lowers the reverse KL on fixed student samples, resume is exact, evaluation says
which loss it measured, and the kd term and a separate teacher model work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_kd import SYSTEM, write_topk_rows
from test_sft import Recorder, sft_rows, write_rows

from character_engine.errors import InvalidParams


def op_params(model_dir: str, tmp: Path, **over: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "model": {"source": "local", "path": model_dir},
        "train_path": write_rows(tmp / "questions.jsonl", sft_rows(8)),
        "output_dir": str(tmp / "op"),
        "lora": {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": []},
        "learning_rate": 1e-2,
        "warmup_steps": 0,
        "schedule": "constant",
        "batch_size": 4,
        "grad_accum": 1,
        "max_steps": 10,
        "max_length": 128,
        "eval_every": 0,
        "save_every": 0,
        "seed": 0,
        "teacher": {"system": SYSTEM},
        "sampling": {"temperature": 1.0, "top_p": 1.0, "max_new_tokens": 12},
    }
    params.update(over)
    return params


def run_op(params: dict[str, Any], rec: Recorder | None = None) -> tuple[dict[str, Any], Recorder]:
    from character_engine.handlers.training import handle_train_on_policy

    rec = rec or Recorder()
    return handle_train_on_policy(params, rec.ctx), rec


def _fixed_sample_kl(model_dir: str, params: dict[str, Any], adapter: str | None) -> float:
    """Mean reverse KL of the student (the base, or base + adapter) against the teacher on
    one fixed set of answers: those the untrained student samples with seed 123."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from character_engine.generation.student_sampler import sample_answers
    from character_engine.training.config import parse_config
    from character_engine.training.lora import attach_lora
    from character_engine.training.on_policy import OnPolicyObjective

    cfg = parse_config(params)
    tok = AutoTokenizer.from_pretrained(model_dir)
    examples = OnPolicyObjective.load_examples(cfg.train_path, tok, cfg.max_length, "train_path")
    untrained = attach_lora(AutoModelForCausalLM.from_pretrained(model_dir), cfg).eval()
    objective = OnPolicyObjective.from_config(cfg, tok, sample_answers)
    objective.prepare(untrained, examples, None)
    samples = sample_answers(untrained, tok, [e.prompt_ids for e in examples], cfg.sampling, 123)
    batch = objective.sampled_batch(examples, samples)
    model = untrained
    if adapter:
        model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(model_dir), adapter).eval()
        objective.prepare(model, examples, None)
    with torch.no_grad():
        loss, _ = objective.loss(model, batch, objective.units(batch))
    return float(loss)


def test_on_policy_lowers_the_reverse_kl_on_fixed_samples(tiny_model_dir: str, tmp_path: Path) -> None:
    params = op_params(tiny_model_dir, tmp_path)
    result, rec = run_op(params)
    train = rec.metrics()
    assert len(train) == 10 and result["steps"] == 10
    assert all(m["loss_kind"] == "reverse_kl" and m["loss"] >= 0 for m in train)
    assert all(0 < m["sampled_tokens"] <= 4 * 12 and 0 <= m["stop_rate"] <= 1 for m in train)
    before = _fixed_sample_kl(tiny_model_dir, params, None)
    after = _fixed_sample_kl(tiny_model_dir, params, result["final_checkpoint"])
    assert before > 0 and after < 0.7 * before, (before, after)
    checkpoint = [e for e in rec.events if e["event"] == "checkpoint"][-1]
    assert checkpoint["kind"] == "on_policy"


def test_on_policy_resume_reproduces_the_uninterrupted_run(tiny_model_dir: str, tmp_path: Path) -> None:
    common = dict(
        max_steps=4,
        batch_size=2,
        grad_accum=2,
        lora={"r": 4, "alpha": 8, "dropout": 0.1, "target_modules": []},
    )
    full, rec_full = run_op(op_params(tiny_model_dir, tmp_path, save_every=2, **common))
    ckpt = tmp_path / "op" / "checkpoints" / "step-000002"
    resumed, rec_resumed = run_op(
        op_params(
            tiny_model_dir, tmp_path, output_dir=str(tmp_path / "again"), resume_from=str(ckpt), **common
        )
    )
    a = {m["step"]: m for m in rec_full.metrics()}
    b = {m["step"]: m for m in rec_resumed.metrics()}
    assert sorted(b) == [3, 4]
    for step in (3, 4):
        # The same samples (seeded by the micro-batch) and the same weights: the same loss.
        assert b[step]["sampled_tokens"] == a[step]["sampled_tokens"]
        assert b[step]["loss"] == pytest.approx(a[step]["loss"], abs=1e-6)
    assert resumed["train_loss"] == pytest.approx(full["train_loss"], abs=1e-6)


def test_evaluation_says_which_loss_it_measured(tiny_model_dir: str, tmp_path: Path) -> None:
    rows = write_topk_rows(tiny_model_dir, tmp_path, SYSTEM, n=4)
    with_topk = write_rows(tmp_path / "val_topk.jsonl", rows)
    questions = write_rows(tmp_path / "val_questions.jsonl", sft_rows(3))
    # Train rows with top-k files and kd_weight: the train metric carries the kd term too.
    _r, rec = run_op(
        op_params(
            tiny_model_dir, tmp_path, train_path=with_topk, val_path=with_topk, kd_weight=0.5, max_steps=2
        )
    )
    assert all(m["kd_loss"] > 0 for m in rec.metrics())
    ev = rec.metrics("eval")[-1]
    assert ev["loss_kind"] == "kd" and ev["nll"] > 0
    _r, rec = run_op(op_params(tiny_model_dir, tmp_path, val_path=questions, max_steps=1))
    ev = rec.metrics("eval")[-1]
    assert ev["loss_kind"] == "reverse_kl" and ev["loss"] > 0 and ev["sampled_tokens"] > 0


def test_a_separate_teacher_model_scores_like_the_disabled_adapter(
    tiny_model_dir: str, tmp_path: Path
) -> None:
    _r, default = run_op(op_params(tiny_model_dir, tmp_path, max_steps=1))
    teacher = {"system": SYSTEM, "model": {"source": "local", "path": tiny_model_dir}}
    _r, separate = run_op(
        op_params(tiny_model_dir, tmp_path, output_dir=str(tmp_path / "sep"), max_steps=1, teacher=teacher)
    )
    assert separate.metrics()[0]["loss"] == pytest.approx(default.metrics()[0]["loss"], rel=1e-5)


@pytest.mark.parametrize(
    ("override", "param"),
    [
        ({"teacher": None}, "teacher"),
        ({"teacher": {"system": ""}}, "teacher.system"),
        ({"teacher": {"system": "x", "model": {"source": "nope"}}}, "teacher.model.source"),
        ({"sampling": {"temperature": 0}}, "sampling.temperature"),
        ({"sampling": {"top_p": 1.5}}, "sampling.top_p"),
        ({"sampling": {"max_new_tokens": 0}}, "sampling.max_new_tokens"),
        ({"kd_weight": -1}, "kd_weight"),
        ({"kd_weight": 0.5}, "kd_weight"),  # no train row carries teacher_topk
    ],
)
def test_invalid_on_policy_params_name_the_param(
    tiny_model_dir: str, tmp_path: Path, override: dict[str, Any], param: str
) -> None:
    with pytest.raises(InvalidParams) as err:
        run_op(op_params(tiny_model_dir, tmp_path, **override))
    assert err.value.detail["param"] == param


def test_cancel_stops_before_sampling_and_saves_a_resumable_checkpoint(
    tiny_model_dir: str, tmp_path: Path
) -> None:
    result, rec = run_op(op_params(tiny_model_dir, tmp_path, max_steps=20), Recorder(cancel_after_step=2))
    assert result["cancelled"] is True and result["steps"] == 2
    last = [e for e in rec.events if e["event"] == "checkpoint"][-1]
    assert (last["kind"], last["step"], last["path"]) == ("on_policy", 2, result["final_checkpoint"])
    more, rec2 = run_op(
        op_params(tiny_model_dir, tmp_path, max_steps=3, resume_from=result["final_checkpoint"])
    )
    assert more["steps"] == 3 and [m["step"] for m in rec2.metrics()] == [3]
