"""DPO with a kd anchor (the character recipe's DPO stage): the kd term on the chosen answer's
captured top-k is 0 for a student equal to the teacher, is trained down, and is required of
every row once kd_weight > 0."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_dpo import dpo_params, run_dpo
from test_kd import SYSTEM, write_topk_rows
from test_sft import write_rows

from character_engine.errors import InvalidParams


def kd_pairs(model_dir: str, tmp: Path, system: str | None, n: int = 8) -> list[dict[str, Any]]:
    """DPO rows whose chosen answer is the kd row's answer, with its teacher_topk file."""
    rows = write_topk_rows(model_dir, tmp, system, n=n)
    return [
        {
            "prompt": r["messages"][:1],
            "chosen": r["messages"][1]["content"],
            "rejected": f"You dislike a simple song {i} at night.",
            "teacher_topk": r["teacher_topk"],
        }
        for i, r in enumerate(rows)
    ]


def kd_dpo_params(model_dir: str, tmp: Path, system: str | None, **over: Any) -> dict[str, Any]:
    pairs = write_rows(tmp / "kd_pairs.jsonl", kd_pairs(model_dir, tmp, system))
    return dpo_params(model_dir, tmp, train_path=pairs, val_path=pairs, batch_size=8, **over)


def test_kd_term_is_zero_when_the_student_is_the_teacher(tiny_model_dir: str, tmp_path: Path) -> None:
    # No system prompt: the teacher's top-k are the student's own; at step 1 lora_B = 0.
    _r, rec = run_dpo(kd_dpo_params(tiny_model_dir, tmp_path, None, kd_weight=1.0, max_steps=1))
    first = rec.metrics()[0]
    assert abs(first["kd_loss"]) < 1e-4, first
    assert first["loss"] == pytest.approx(0.6931, abs=1e-3)  # -log sigmoid(0): the DPO term alone


def test_kd_weight_keeps_the_student_near_the_teacher(tiny_model_dir: str, tmp_path: Path) -> None:
    anchored, rec_a = run_dpo(kd_dpo_params(tiny_model_dir, tmp_path / "a", SYSTEM, kd_weight=5.0))
    train = rec_a.metrics()
    assert train[0]["kd_loss"] > 0
    # The same data without the term: kd_loss is measured, not trained on, and DPO drifts further.
    _plain, rec_p = run_dpo(kd_dpo_params(tiny_model_dir, tmp_path / "p", SYSTEM, kd_weight=0.0))
    assert rec_p.metrics()[0]["kd_loss"] == pytest.approx(train[0]["kd_loss"], rel=1e-4)
    anchored_kd = rec_a.metrics("eval")[-1]["kd_loss"]
    plain_kd = rec_p.metrics("eval")[-1]["kd_loss"]
    assert anchored_kd < plain_kd, (anchored_kd, plain_kd)
    assert anchored["steps"] == 12


def test_kd_weight_needs_every_rows_top_k(tiny_model_dir: str, tmp_path: Path) -> None:
    pairs = kd_pairs(tiny_model_dir, tmp_path, SYSTEM)
    del pairs[3]["teacher_topk"]
    path = write_rows(tmp_path / "some.jsonl", pairs)
    with pytest.raises(InvalidParams, match="1 of 8 rows of train_path"):
        run_dpo(dpo_params(tiny_model_dir, tmp_path, train_path=path, val_path=None, kd_weight=0.5))
