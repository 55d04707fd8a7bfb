"""The Tinker backend against the installed SDK itself (tinker 0.38.0) and a stand-in as strict
as the service: every SDK call the backend makes binds to the SDK's own signature and is not
deprecated; loss inputs are exactly what the service takes; a second save under one name is
refused; sessions are closed; a cancel right after a periodic save is a cancel, not a 409;
short top-k rows cost one answer, not the batch; tempered sampler log-probs are refused for kd."""

# ruff: noqa: F811 - `standin` is test_tinker's fixture, imported so pytest finds it here
from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import pytest
from test_kd import SYSTEM, kd_params
from test_sft import Recorder, base_params
from test_tinker import KEY, NAME, standin, tinker_run  # noqa: F401

from character_engine.errors import InvalidParams

tinker = pytest.importorskip("tinker")

BACKEND = Path(__file__).resolve().parents[1] / "character_engine" / "tinker_backend"
CLIENTS = ("ServiceClient", "TrainingClient", "SamplingClient", "RestClient")
# Calls on these are the SDK's futures and data types, not its clients.
NOT_CLIENT = {"result", "from_ints", "to_ints", "to_torch", "from_torch"}


def _sdk_methods() -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for cls_name in CLIENTS:
        cls = getattr(tinker, cls_name)
        for name, fn in inspect.getmembers(cls, inspect.isfunction):
            if not name.startswith("_"):
                out.setdefault(name, []).append(fn)
        out.setdefault(cls_name, []).append(cls.__init__)
    return out


def _calls() -> list[tuple[str, int, str, int, list[str]]]:
    """(file, line, method, positional count, keyword names) of every attribute call."""
    found = []
    for path in sorted(BACKEND.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if any(isinstance(a, ast.Starred) for a in node.args):
                    continue
                kws = [k.arg for k in node.keywords if k.arg is not None]
                found.append((path.name, node.lineno, node.func.attr, len(node.args), kws))
    return found


def test_every_sdk_call_binds_to_the_installed_sdk_signature() -> None:
    methods = _sdk_methods()
    checked = set()
    problems = []
    for file, line, name, npos, kws in _calls():
        if name not in methods or name in NOT_CLIENT:
            continue
        checked.add(name)
        fits = []
        for fn in methods[name]:
            try:
                inspect.signature(fn).bind(None, *([None] * npos), **{k: None for k in kws})
            except TypeError:
                continue
            fits.append(fn)
        if not fits:
            problems.append(f"{file}:{line} {name}({npos} positional, {kws}) binds to no SDK signature")
        elif all(getattr(fn, "__deprecated__", None) for fn in fits):
            problems.append(f"{file}:{line} {name} is deprecated in tinker {tinker.__version__}")
    assert not problems, "\n".join(problems)
    # The walk saw the calls the backend is built on (a renamed module would skip them silently).
    assert {
        "ServiceClient",
        "RestClient",
        "create_lora_training_client",
        "forward",
        "forward_backward_custom",
        "optim_step",
        "save_state",
        "sample",
        "compute_logprobs",
        "close",
        "get_external_weights_urls",
    } <= checked


def test_the_walk_catches_a_deprecated_or_unknown_call() -> None:
    methods = _sdk_methods()
    assert getattr(methods["create_rest_client"][0], "__deprecated__", None)
    with pytest.raises(TypeError):
        inspect.signature(methods["forward"][0]).bind(None, None, None, loss_fn_inputs=None)


def _datum(fields: dict[str, Any]) -> Any:
    import numpy as np
    from tinker import types

    return types.Datum(
        model_input=types.ModelInput.from_ints([1, 2, 3]),
        loss_fn_inputs={k: np.asarray(v) for k, v in fields.items()},
    )


def test_the_standin_refuses_what_the_service_refuses(standin: dict) -> None:
    from character_dev.tinker_standin import ServiceClient

    service = ServiceClient(api_key=KEY)
    tc = service.create_lora_training_client(NAME, rank=4).result()
    ok = {"target_tokens": [2, 3, 4], "weights": [1.0, 1.0, 1.0]}
    assert len(tc.forward([_datum(ok)], "cross_entropy").result().loss_fn_outputs) == 1
    with pytest.raises(tinker.BadRequestError, match="unknown: \\['mask'\\]"):
        tc.forward([_datum({**ok, "mask": [1.0, 1.0, 1.0]})], "cross_entropy").result()
    with pytest.raises(tinker.BadRequestError, match="missing: \\['weights'\\]"):
        tc.forward([_datum({"target_tokens": [2, 3, 4]})], "cross_entropy").result()
    with pytest.raises(TypeError, match="Datum"):
        tc.forward([{"model_input": [1, 2, 3]}], "cross_entropy").result()
    with pytest.raises(TypeError):  # an argument the SDK's forward does not take
        tc.forward([_datum(ok)], loss="cross_entropy")
    tc.save_state("step-1").result()
    with pytest.raises(tinker.ConflictError):
        tc.save_state("step-1").result()
    with pytest.raises(DeprecationWarning):
        service.create_rest_client()
    service.close("success").result()
    with pytest.raises(RuntimeError, match="closed"):
        service.create_sampling_client(base_model=NAME)


def test_kd_evaluation_sends_only_what_forward_takes(
    standin: dict, tiny_model_dir: str, tmp_path: Path
) -> None:
    # kd with a validation set evaluates at every eval_every and before the final save.
    params = kd_params(tiny_model_dir, tmp_path, max_steps=2, batch_size=4, eval_every=1)
    result, rec = tinker_run(params, "kd", standin)
    assert [e["step"] for e in rec.metrics("eval")] == [1, 2]
    assert result["lora_alpha"]["tinker"] == 32.0 and result["lora_alpha"]["sent"] is False
    assert any(e["event"] == "log" and "LoRA alpha" in e["message"] for e in rec.events)


def test_cancel_right_after_a_periodic_save_is_a_cancel(
    standin: dict, tiny_model_dir: str, tmp_path: Path
) -> None:
    from character_dev.tinker_standin import store
    from character_engine.handlers.tinker import handle_tinker_train

    rec = Recorder(cancel_after_step=2)
    params = base_params(tiny_model_dir, tmp_path, max_steps=4, save_every=2)
    result = handle_tinker_train({**params, "objective": "sft", "tinker": standin}, rec.ctx)
    saves = [e for e in rec.events if e["event"] == "checkpoint"]
    assert result["cancelled"] is True and result["steps"] == 2
    assert [s["step"] for s in saves] == [2] and result["final_checkpoint"] == saves[0]["path"]
    assert store.open_sessions() == []


def test_every_session_is_closed(standin: dict, tiny_model_dir: str, tmp_path: Path) -> None:
    from character_dev.tinker_standin import store
    from character_engine.handlers.tinker import handle_tinker_checkpoints, handle_tinker_pull

    tinker_run(base_params(tiny_model_dir, tmp_path, max_steps=1, save_every=1), "sft", standin)
    listed = handle_tinker_checkpoints({"tinker": standin}, Recorder().ctx)["checkpoints"]
    path = next(c["tinker_path"] for c in listed if c["type"] == "training")
    handle_tinker_pull(
        {"tinker": standin, "tinker_path": path, "output_dir": str(tmp_path / "p")}, Recorder().ctx
    )
    with pytest.raises(Exception):  # noqa: B017 - any failure: the session must still be closed
        tinker_run(
            base_params(tiny_model_dir, tmp_path, max_steps=1, resume_from="tinker://x:train:0/weights/n"),
            "sft",
            standin,
        )
    assert store.open_sessions() == []
    closed = sorted(p.suffix for p in (Path(store.root()) / "sessions").iterdir())
    assert ".errored" in closed and ".success" in closed


def _generate(tmp_path: Path, temperature: float, n: int = 3) -> tuple[dict[str, Any], Recorder]:
    from character_engine.handlers.tinker import handle_tinker_generate

    items = [
        {
            "system": SYSTEM,
            "messages": [{"role": "user", "content": f"Question {i}: what is music?"}],
            "topk_path": str(tmp_path / f"t{i}.st"),
        }
        for i in range(n)
    ]
    rec = Recorder()
    out = handle_tinker_generate(
        {
            "tinker": {"teacher_model": NAME, "api_key": KEY},
            "items": items,
            "sampling": {"temperature": temperature, "top_p": 1.0, "max_new_tokens": 8, "seed": 1},
            "capture_topk": {"k": 4},
        },
        rec.ctx,
    )
    return out, rec


def test_a_short_topk_row_costs_one_answer_not_the_batch(
    standin: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from character_dev.tinker_standin import model

    real = model.sample_one
    calls = {"n": 0}

    def short_second(*args: Any) -> Any:
        tokens, logprobs, tops, reason = real(*args)
        calls["n"] += 1
        if calls["n"] == 2:
            tops = [tops[0][:2], *tops[1:]]  # the service gave fewer than k at one position
        return tokens, logprobs, tops, reason

    monkeypatch.setattr(model, "sample_one", short_second)
    out, rec = _generate(tmp_path, 1.0)
    got = out["outputs"]
    assert "topk_tokens" in got[0] and "topk_tokens" in got[2]
    assert "topk_tokens" not in got[1] and "fewer than 4" in got[1]["topk_missing"]
    assert not (tmp_path / "t1.st").exists()
    assert any(e["event"] == "log" and "1 of 3" in e["message"] for e in rec.events)


def test_tempered_sampler_logprobs_are_refused_for_kd(
    standin: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, _ = _generate(tmp_path, 0.7)  # the stand-in reports raw log-probs: accepted
    assert all(o["topk_tokens"] > 0 for o in out["outputs"])
    monkeypatch.setenv("TINKER_STANDIN_TEMPERED_LOGPROBS", "1")
    with pytest.raises(InvalidParams, match="tempered"):
        _generate(tmp_path / "t", 0.7)
    _generate(tmp_path / "one", 1.0)  # at temperature 1 both readings agree: nothing to refuse
