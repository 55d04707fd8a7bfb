"""kl_metrics: exact KL(teacher || student) over the full vocabulary on given responses,
the teacher with its system prompt, students without; NLLs agree with `score`."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from _helpers import MakeCtx, make_lora_adapter, make_sharp_model

from character_engine.errors import Cancelled, InvalidParams
from character_engine.handlers.scoring import handle_kl_metrics, handle_score
from character_engine.models.assistant_mask import IGNORE_INDEX, tokenize_conversation
from character_engine.models.cache import load_private
from character_engine.models.chat_template import chat_messages
from character_engine.scoring.kl import Scorer, kl_metrics
from character_engine.state import EngineState

SYSTEM = "You are Beethoven, the composer. You love music, the piano and long walks in Vienna. " * 3
ITEMS = [
    {"messages": [{"role": "user", "content": "Hello!"}], "response": "I love the symphony."},
    {
        "messages": [{"role": "user", "content": "Tell me about Vienna."}],
        "response": "Vienna is cold in winter",
    },
    {
        "messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Good day."},
            {"role": "user", "content": "Play something."},
        ],
        "response": "The piano sonata, then a quiet melody and the final movement.",
    },
    {"messages": [{"role": "user", "content": "Why?"}], "response": ""},
]


@pytest.fixture(scope="module")
def sharp_dir(tiny_model_dir: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    return make_sharp_model(tiny_model_dir, tmp_path_factory.mktemp("sharp") / "model", std=0.1)


@pytest.fixture(scope="module")
def adapter_dir(sharp_dir: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    return make_lora_adapter(sharp_dir, tmp_path_factory.mktemp("adapter") / "a", seed=3)


def call(ctx_factory: MakeCtx, **params: Any) -> list[dict[str, Any]]:
    return handle_kl_metrics({"items": ITEMS, **params}, ctx_factory())["items"]


def test_a_model_against_itself_is_zero_and_nlls_equal_score(sharp_dir: str, make_ctx: MakeCtx) -> None:
    spec = {"source": "local", "path": sharp_dir}
    out = call(make_ctx, teacher={"model": spec}, students=[{"model": spec}], batch_size=3)
    scores = handle_score({"model": spec, "items": ITEMS}, make_ctx())["scores"]
    for row, score in zip(out, scores, strict=True):
        assert row["tokens"] == score["tokens"]
        (student,) = row["students"]
        assert abs(student["kl"]) < 1e-6
        assert student["nll"] == pytest.approx(row["teacher_nll"], abs=1e-6)
        assert row["teacher_nll"] == pytest.approx(-score["logprob"], rel=1e-4, abs=1e-3)
    assert out[3]["tokens"] == 1  # an empty response still has its end-of-turn token


def test_kl_is_positive_for_another_system_prompt_or_adapter(
    sharp_dir: str, adapter_dir: str, make_ctx: MakeCtx
) -> None:
    spec = {"source": "local", "path": sharp_dir}
    events: list[dict[str, Any]] = []
    out = handle_kl_metrics(
        {
            "teacher": {"model": spec, "system": SYSTEM},
            "students": [{"model": spec}, {"model": spec, "adapter": adapter_dir}],
            "items": ITEMS,
            "batch_size": 2,
        },
        make_ctx(events.append),
    )["items"]
    with_system = [dict(it, system=SYSTEM) for it in ITEMS]
    scores = handle_score({"model": spec, "items": with_system}, make_ctx())["scores"]
    adapted = handle_score({"model": spec, "adapter": adapter_dir, "items": ITEMS}, make_ctx())["scores"]
    for row, score, ad in zip(out, scores, adapted, strict=True):
        bare, lora = row["students"]
        assert bare["kl"] > 1e-4 and lora["kl"] > 1e-4 and bare["kl"] != lora["kl"]
        assert row["teacher_nll"] == pytest.approx(-score["logprob"], rel=1e-4, abs=1e-3)
        assert lora["nll"] == pytest.approx(-ad["logprob"], rel=1e-4, abs=1e-3)
    progress = [e for e in events if e["event"] == "progress"]
    assert [e["done"] for e in progress] == [0, 2, 4] and progress[-1]["fraction"] == 1.0


def test_kl_equals_a_direct_computation_without_the_prefix_cache(sharp_dir: str, adapter_dir: str) -> None:
    """The shared-prefix, left-padded batch gives what a plain per-item forward pass gives."""
    import torch

    base = load_private({"source": "local", "path": sharp_dir})
    student = load_private({"source": "local", "path": sharp_dir}, adapter_dir)
    teacher = Scorer(base, SYSTEM, "teacher.model")
    got = kl_metrics(
        teacher,
        [Scorer(student, None, "students[0].model")],
        ITEMS,
        prefixes=EngineState().prefixes,
        batch_size=4,
    )
    plain = kl_metrics(
        teacher, [Scorer(student, None, "students[0].model")], ITEMS, prefixes=None, batch_size=1
    )
    tok = base.tokenizer

    def logp(model: Any, system: str | None, it: dict[str, Any]) -> tuple[Any, list[int]]:
        chat = chat_messages(system, it["messages"]) + [{"role": "assistant", "content": it["response"]}]
        conv = tokenize_conversation(tok, chat, train_on="last")
        pos = [j for j, label in enumerate(conv.labels) if label != IGNORE_INDEX]
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([conv.input_ids])).logits[0].double()
        return torch.log_softmax(logits[[p - 1 for p in pos]], dim=-1), [conv.input_ids[p] for p in pos]

    for it, row, row_plain in zip(ITEMS, got, plain, strict=True):
        lt, targets = logp(base.model, SYSTEM, it)
        with student.activated() as model:
            ls, targets_s = logp(model, None, it)
        assert targets == targets_s and row["tokens"] == len(targets)
        want_kl = float((lt.exp() * (lt - ls)).sum())
        want_nll = float(-lt[torch.arange(len(targets)), targets].sum())
        assert row["students"][0]["kl"] == pytest.approx(want_kl, rel=1e-4, abs=1e-4)
        assert row_plain["students"][0]["kl"] == pytest.approx(want_kl, rel=1e-4, abs=1e-4)
        assert row["teacher_nll"] == pytest.approx(want_nll, rel=1e-4, abs=1e-4)


def test_kl_metrics_validates_and_cancels(sharp_dir: str, make_ctx: MakeCtx, tmp_path: Path) -> None:
    spec = {"source": "local", "path": sharp_dir}
    teacher = {"model": spec, "system": SYSTEM}
    cases = [
        ({"teacher": teacher, "students": []}, "students"),
        ({"students": [{"model": spec}]}, "teacher"),
        ({"teacher": {"system": "x"}, "students": [{"model": spec}]}, "teacher.model"),
        ({"teacher": teacher, "students": [{"model": spec, "adapter": 3}]}, "students[0].adapter"),
        ({"teacher": dict(teacher, system=5), "students": [{"model": spec}]}, "teacher.system"),
        ({"teacher": teacher, "students": [{"model": spec}], "batch_size": 0}, "batch_size"),
    ]
    for params, param in cases:
        with pytest.raises(InvalidParams) as info:
            handle_kl_metrics({"items": ITEMS, **params}, make_ctx())
        assert info.value.detail["param"] == param, params
    bad_items = [{"messages": [{"role": "user", "content": "x"}], "response": 3}]
    with pytest.raises(InvalidParams) as info:
        handle_kl_metrics({"teacher": teacher, "students": [{"model": spec}], "items": bad_items}, make_ctx())
    assert info.value.detail["param"] == "items[0].response"
    ctx = make_ctx()
    ctx.cancel_event = threading.Event()
    ctx.cancel_event.set()
    with pytest.raises(Cancelled):
        handle_kl_metrics({"teacher": teacher, "students": [{"model": spec}], "items": ITEMS}, ctx)
