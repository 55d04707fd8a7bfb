"""The Tinker backend (tinker_train, tinker_generate, tinker_checkpoints, tinker_pull)
against character_dev.tinker_standin, a local stand-in of the SDK's client interface: the
real service cannot be reached from here. With the stand-in's LoRA alpha set to the run's,
a Tinker run must reproduce the local engine's run of the same objective, step for step."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from test_dpo import dpo_params
from test_kd import SYSTEM, kd_params
from test_on_policy import op_params
from test_sft import Recorder, base_params, sft_rows, write_rows

from character_engine.errors import InvalidParams, RemoteFailed

pytest.importorskip("tinker")

KEY = "tk-secret-key-123"
NAME = "tiny/chat"


@pytest.fixture
def standin(tiny_model_dir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    from character_dev.tinker_standin import environment

    for k, v in environment(str(tmp_path / "server"), {NAME: tiny_model_dir}, api_key=KEY).items():
        monkeypatch.setenv(k, v)
    # The runs below use alpha 16; the stand-in then builds the LoRA the local engine builds.
    monkeypatch.setenv("TINKER_STANDIN_LORA_ALPHA", "16")
    return {"base_model": NAME, "api_key": KEY}


def tinker_run(
    params: dict[str, Any], objective: str, tinker: dict[str, Any]
) -> tuple[dict[str, Any], Recorder]:
    from character_engine.handlers.tinker import handle_tinker_train

    rec = Recorder()
    return handle_tinker_train({**params, "objective": objective, "tinker": tinker}, rec.ctx), rec


def local_run(params: dict[str, Any], kind: str) -> tuple[dict[str, Any], Recorder]:
    from character_engine.training.config import parse_config
    from character_engine.training.run import run_objective

    rec = Recorder()
    return run_objective(parse_config(params), rec.ctx, kind), rec


def rows(rec: Recorder, kind: str) -> list[dict[str, Any]]:
    return [e for e in rec.events if e["event"] == "metric" and e["kind"] == kind]


def test_sft_on_tinker_reproduces_the_local_run(standin: dict, tiny_model_dir: str, tmp_path: Path) -> None:
    params = base_params(tiny_model_dir, tmp_path, max_steps=4, eval_every=2, save_every=2)
    remote, rec = tinker_run(params, "sft", standin)
    local, lrec = local_run(dict(params, output_dir=str(tmp_path / "local")), "sft")
    for kind in ("train", "eval"):
        got, want = rows(rec, kind), rows(lrec, kind)
        assert [r["step"] for r in got] == [r["step"] for r in want]
        for a, b in zip(got, want, strict=True):
            assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)
    assert [r["lr"] for r in rows(rec, "train")] == [r["lr"] for r in rows(lrec, "train")]
    # Checkpoints are the service's, each with the local lineage facts.
    cps = [e for e in rec.events if e["event"] == "checkpoint"]
    assert [c["step"] for c in cps] == [2, 4]
    assert all(c["path"].startswith("tinker://") and "/weights/step-" in c["path"] for c in cps)
    assert cps[-1]["data_hash"] == local["data_hash"] == remote["data_hash"]
    assert remote["remote_checkpoint"] == cps[-1]["path"]
    # The final adapter is pulled into the job's folder as a PEFT adapter the engine loads.
    folder = Path(remote["final_checkpoint"])
    assert folder == tmp_path / "out" / "adapter"
    assert {"adapter_config.json", "adapter_model.safetensors", "tinker.json"} <= {
        p.name for p in folder.iterdir()
    }
    assert json.loads((folder / "tinker.json").read_text())["tinker_path"] == cps[-1]["path"]
    assert (tmp_path / "out" / "metrics.jsonl").exists()
    assert remote["train_loss"] == pytest.approx(local["train_loss"], rel=1e-5)
    _loads_and_differs(tiny_model_dir, str(folder))


def _loads_and_differs(model_dir: str, adapter: str) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(model_dir)
    ids = torch.tensor([[1, 5, 9, 12]])
    with torch.no_grad():
        before = base(ids).logits
        after = PeftModel.from_pretrained(base, adapter)(ids).logits
    assert not torch.allclose(before, after)


def test_kd_on_tinker_reproduces_the_local_run(standin: dict, tiny_model_dir: str, tmp_path: Path) -> None:
    params = kd_params(tiny_model_dir, tmp_path, max_steps=3, batch_size=4)
    remote, rec = tinker_run(params, "kd", standin)
    _local, lrec = local_run(dict(params, output_dir=str(tmp_path / "local")), "kd")
    for kind in ("train", "eval"):
        for a, b in zip(rows(rec, kind), rows(lrec, kind), strict=True):
            assert a["loss"] == pytest.approx(b["loss"], rel=1e-4)
            assert a["nll"] == pytest.approx(b["nll"], rel=1e-4)
    assert rows(rec, "train")[-1]["loss"] < rows(rec, "train")[0]["loss"]


def test_teacher_answers_with_topk_then_kd(standin: dict, tiny_model_dir: str, tmp_path: Path) -> None:
    from character_engine.handlers.tinker import handle_tinker_generate
    from character_engine.topk_file import read_topk

    questions = [f"Question {i}: what do you love about music?" for i in range(4)]
    items = [
        {
            "system": SYSTEM,
            "messages": [{"role": "user", "content": q}],
            "topk_path": str(tmp_path / f"t{i}.st"),
        }
        for i, q in enumerate(questions)
    ]
    rec = Recorder()
    out = handle_tinker_generate(
        {
            "tinker": {"teacher_model": NAME, "api_key": KEY},
            "items": items,
            "sampling": {"temperature": 0.8, "top_p": 0.95, "max_new_tokens": 12, "seed": 3},
            "capture_topk": {"k": 8},
        },
        rec.ctx,
    )
    assert len(out["outputs"]) == 4
    train_rows = []
    for i, o in enumerate(out["outputs"]):
        topk = read_topk(items[i]["topk_path"])
        assert topk.k == 8 and len(topk) == o["completion_tokens"] == o["topk_tokens"]
        assert topk.metadata["model"] == f"tinker:{NAME}"
        train_rows.append(
            {
                "messages": [
                    {"role": "user", "content": questions[i]},
                    {"role": "assistant", "content": o["text"]},
                ],
                "teacher_topk": items[i]["topk_path"],
            }
        )
    params = kd_params(tiny_model_dir, tmp_path, rows=train_rows, max_steps=2, batch_size=2)
    result, _ = tinker_run(params, "kd", standin)
    assert result["steps"] == 2 and Path(result["final_checkpoint"]).is_dir()


def test_dpo_and_on_policy_run_on_tinker(standin: dict, tiny_model_dir: str, tmp_path: Path) -> None:
    dpo, rec = tinker_run(dpo_params(tiny_model_dir, tmp_path, max_steps=2), "dpo", standin)
    _l, lrec = local_run(
        dpo_params(tiny_model_dir, tmp_path, max_steps=2, output_dir=str(tmp_path / "l")), "dpo"
    )
    first, want = rows(rec, "train")[0], rows(lrec, "train")[0]
    # At step 1 the adapter is the identity: the policy equals the reference, loss ln 2.
    assert first["loss"] == pytest.approx(want["loss"], rel=1e-5)
    assert {"reward_accuracy", "reward_margin"} <= set(first)
    assert rows(rec, "eval")[-1]["reward_margin"] == pytest.approx(
        rows(lrec, "eval")[-1]["reward_margin"], rel=1e-3
    )
    assert dpo["steps"] == 2

    val = write_rows(tmp_path / "op_val.jsonl", sft_rows(2))
    op, rec = tinker_run(op_params(tiny_model_dir, tmp_path, max_steps=2, val_path=val), "on_policy", standin)
    train = rows(rec, "train")
    assert op["steps"] == 2 and len(train) == 2
    assert all(r["loss_kind"] == "reverse_kl" and r["sampled_tokens"] > 0 for r in train)
    assert 0.0 <= train[0]["stop_rate"] <= 1.0
    # Val rows without teacher top-k: evaluated as reverse KL on the student's samples.
    assert [r["loss_kind"] for r in rows(rec, "eval")] == ["reverse_kl"]


def test_resume_continues_from_the_service_checkpoint(
    standin: dict, tiny_model_dir: str, tmp_path: Path
) -> None:
    params = base_params(tiny_model_dir, tmp_path, max_steps=4, save_every=2)
    full, rec = tinker_run(params, "sft", standin)
    step2 = next(e["path"] for e in rec.events if e["event"] == "checkpoint" and e["step"] == 2)
    resumed, rrec = tinker_run(
        dict(params, resume_from=step2, output_dir=str(tmp_path / "r")), "sft", standin
    )
    assert [r["step"] for r in rows(rrec, "train")] == [3, 4]
    for a, b in zip(rows(rrec, "train"), rows(rec, "train")[2:], strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)
    assert resumed["train_loss"] == pytest.approx(full["train_loss"], rel=1e-5)
    with pytest.raises(InvalidParams) as err:
        tinker_run(
            dict(
                params,
                resume_from=step2,
                max_steps=5,
                train_path=write_rows(
                    tmp_path / "o.jsonl",
                    [{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}]
                    * 4,
                ),
            ),
            "sft",
            standin,
        )
    assert err.value.detail["param"] == "resume_from"


def test_a_refused_key_is_remote_failed_and_never_echoed(
    standin: dict, tiny_model_dir: str, tmp_path: Path
) -> None:
    with pytest.raises(RemoteFailed) as err:
        tinker_run(
            base_params(tiny_model_dir, tmp_path, max_steps=1),
            "sft",
            {"base_model": NAME, "api_key": "wrong-key-987"},
        )
    assert err.value.detail["status"] == 401
    payload = json.dumps(err.value.to_payload())
    assert "wrong-key-987" not in payload and KEY not in payload
    assert "API key" in err.value.message


def test_list_and_pull_checkpoints(standin: dict, tiny_model_dir: str, tmp_path: Path) -> None:
    from character_engine.handlers.tinker import handle_tinker_checkpoints, handle_tinker_pull

    tinker_run(base_params(tiny_model_dir, tmp_path, max_steps=2, save_every=1), "sft", standin)
    listed = handle_tinker_checkpoints({"tinker": standin}, Recorder().ctx)["checkpoints"]
    training = [c for c in listed if c["type"] == "training"]
    assert sorted(c["checkpoint_id"] for c in training) == ["weights/step-000001", "weights/step-000002"]
    assert all(c["metadata"]["kind"] == "sft" for c in training)
    first = next(c for c in training if c["checkpoint_id"].endswith("1"))
    pulled = handle_tinker_pull(
        {"tinker": standin, "tinker_path": first["tinker_path"], "output_dir": str(tmp_path / "pulled")},
        Recorder().ctx,
    )
    assert {"adapter_config.json", "adapter_model.safetensors", "tinker.json"} <= set(pulled["files"])
    _loads_and_differs(tiny_model_dir, pulled["output_dir"])
    # The temporary export is gone again; a second pull into the same folder is refused.
    after = handle_tinker_checkpoints({"tinker": standin}, Recorder().ctx)["checkpoints"]
    assert not any(c["checkpoint_id"].startswith("external_weights/pull-") for c in after)
    with pytest.raises(InvalidParams):
        handle_tinker_pull(
            {"tinker": standin, "tinker_path": first["tinker_path"], "output_dir": pulled["output_dir"]},
            Recorder().ctx,
        )
    with pytest.raises(InvalidParams):
        handle_tinker_pull(
            {
                "tinker": standin,
                "tinker_path": "tinker://x:train:0/sampler_weights/a",
                "output_dir": str(tmp_path / "s"),
            },
            Recorder().ctx,
        )


def test_without_the_sdk_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from character_engine.tinker_backend.sdk import sdk

    monkeypatch.setitem(sys.modules, "tinker", None)
    with pytest.raises(RemoteFailed) as err:
        sdk()
    assert "requirements-tinker.txt" in err.value.message
