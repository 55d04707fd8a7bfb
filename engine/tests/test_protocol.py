"""The JSON-lines protocol, against the engine running as a real subprocess."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from _helpers import EngineProcess, truncated_copy, write_gguf


@pytest.fixture(scope="module")
def engine():
    proc = EngineProcess()
    yield proc
    assert proc.close() == 0


def assert_alive(engine: EngineProcess) -> None:
    reply, _ = engine.call("health")
    assert reply["result"]["pid"] == engine.proc.pid


def test_health_reports_versions_and_device(engine: EngineProcess) -> None:
    reply, _ = engine.call("health")
    res = reply["result"]
    assert res["device"] == "cpu" and res["dtype"] == "float32"
    assert res["threads"] >= 1 and res["free_memory_bytes"] > 0
    # Linux/glibc here: the engine keeps freed tensor memory instead of re-faulting it each step.
    assert res["allocator"]["tuned"] is True and res["allocator"]["reason"].startswith("glibc")
    for pkg in ("torch", "transformers", "peft", "trl", "tokenizers", "safetensors", "accelerate"):
        assert res["versions"][pkg] not in ("", "missing")
    assert res["versions"]["sentence-transformers"] and res["versions"]["scikit-learn"]


def test_malformed_line_is_bad_request_and_engine_keeps_serving(engine: EngineProcess) -> None:
    engine.send_raw(b"{this is not json\n")
    msg = engine.next()
    assert msg["id"] is None and msg["error"]["code"] == "bad_request"
    assert "JSON" in msg["error"]["message"]
    engine.send_raw(b'{"method": "health"}\n')  # no id
    msg = engine.next()
    assert msg["id"] is None and msg["error"]["code"] == "bad_request" and "id" in msg["error"]["message"]
    engine.send_raw(b"[1, 2]\n")
    assert engine.next()["error"]["code"] == "bad_request"
    assert_alive(engine)


def test_unknown_method(engine: EngineProcess) -> None:
    reply, _ = engine.call("fly_to_the_moon")
    assert reply["error"]["code"] == "unknown_method"
    assert reply["error"]["detail"]["method"] == "fly_to_the_moon"
    assert_alive(engine)


def test_invalid_params_name_the_parameter(engine: EngineProcess, tiny_model_dir: str) -> None:
    reply, _ = engine.call("generate", {"model": {"source": "local", "path": tiny_model_dir}})
    assert reply["error"]["code"] == "invalid_params" and reply["error"]["detail"]["param"] == "items"
    reply, _ = engine.call("generate", {"model": {"source": "nowhere"}, "items": []})
    assert reply["error"]["code"] == "invalid_params" and reply["error"]["detail"]["param"] == "model.source"
    reply, _ = engine.call(
        "generate",
        {
            "model": {"source": "local", "path": tiny_model_dir},
            "items": [{"messages": [{"role": "user", "content": "hi"}]}],
            "sampling": {"temperature": -1, "top_p": 1, "max_new_tokens": 4, "seed": 0},
        },
    )
    assert reply["error"]["detail"]["param"] == "sampling.temperature"
    reply, _ = engine.call("embed", {"texts": "not a list"})
    assert reply["error"]["code"] == "invalid_params" and reply["error"]["detail"]["param"] == "texts"
    assert_alive(engine)


def test_missing_model_path(engine: EngineProcess, tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-model")
    reply, _ = engine.call("load_model", {"model": {"source": "local", "path": missing}})
    assert reply["error"]["code"] == "model_not_found"
    assert missing in reply["error"]["message"] and reply["error"]["detail"]["path"] == missing
    reply, _ = engine.call("load_model", {"model": {"source": "gguf", "path": missing + ".gguf"}})
    assert reply["error"]["code"] == "model_not_found"
    assert_alive(engine)


def test_corrupt_safetensors(engine: EngineProcess, tiny_model_dir: str, tmp_path: Path) -> None:
    broken = truncated_copy(tiny_model_dir, tmp_path / "broken")
    reply, _ = engine.call("load_model", {"model": {"source": "local", "path": broken}})
    assert reply["error"]["code"] == "corrupt_file"
    assert reply["error"]["detail"]["file"].endswith("model.safetensors")
    assert_alive(engine)


def test_gguf_of_unsupported_architecture(engine: EngineProcess, tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "odd.gguf", "mamba-nonexistent")
    reply, _ = engine.call("load_model", {"model": {"source": "gguf", "path": path}})
    assert reply["error"]["code"] == "unsupported_architecture"
    assert reply["error"]["detail"]["architecture"] == "mamba-nonexistent"
    assert "mamba-nonexistent" in reply["error"]["message"]
    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(b"GGUF but not really")
    reply, _ = engine.call("load_model", {"model": {"source": "gguf", "path": str(garbage)}})
    assert reply["error"]["code"] == "corrupt_file"
    assert_alive(engine)


def test_load_generate_count_unload(engine: EngineProcess, tiny_model_dir: str) -> None:
    spec = {"source": "local", "path": tiny_model_dir}
    reply, _ = engine.call("load_model", {"model": spec})
    info = reply["result"]
    assert info["source"] == "local" and info["architecture"] == "LlamaForCausalLM"
    assert info["has_chat_template"] is True and info["parameters"] > 1000 and info["dtype"] == "float32"
    items = [
        {"system": "You are a composer.", "messages": [{"role": "user", "content": q}]}
        for q in ("Hi", "Who?", "Why?")
    ]
    reply, events = engine.call(
        "generate",
        {
            "model": spec,
            "items": items,
            "sampling": {"temperature": 0, "top_p": 1, "max_new_tokens": 5, "seed": 0},
            "batch_size": 2,
        },
    )
    res = reply["result"]
    assert len(res["outputs"]) == 3 and res["wall_ms"] > 0
    for out in res["outputs"]:
        assert 1 <= out["completion_tokens"] <= 5 and out["prompt_tokens"] > 5
        assert 0 < out["ttft_ms"] <= out["total_ms"]
        assert out["finish_reason"] in ("stop", "length")
    progress = [e for e in events if e["event"] == "progress"]
    assert progress[-1]["done"] == 3 and progress[-1]["fraction"] == 1.0
    assert [e["done"] for e in progress] == sorted(e["done"] for e in progress)

    reply, _ = engine.call(
        "count_tokens", {"model": spec, "texts": ["music", "I love music in Vienna."], "chats": items[:1]}
    )
    counts = reply["result"]["counts"]
    assert len(counts) == 3 and counts[0] < counts[1] and counts[2] == res["outputs"][0]["prompt_tokens"]

    reply, _ = engine.call("unload_model", {"key": info["key"]})
    assert reply["result"] == {"unloaded": True}
    reply, _ = engine.call("unload_model", {"key": info["key"]})
    assert reply["result"] == {"unloaded": False}


def test_streaming_tokens_add_up_to_the_text(engine: EngineProcess, tiny_model_dir: str) -> None:
    reply, events = engine.call(
        "generate",
        {
            "model": {"source": "local", "path": tiny_model_dir},
            "items": [{"messages": [{"role": "user", "content": "Tell me about Vienna."}]}],
            "sampling": {"temperature": 1.0, "top_p": 0.95, "max_new_tokens": 12, "seed": 3},
            "stream": True,
        },
    )
    tokens = [e for e in events if e["event"] == "token"]
    assert tokens and all(e["index"] == 0 for e in tokens)
    assert "".join(e["text"] for e in tokens) == reply["result"]["outputs"][0]["text"]


def test_cancel_a_queued_request(engine: EngineProcess, tiny_model_dir: str) -> None:
    spec = {"source": "local", "path": tiny_model_dir}
    long = {
        "model": spec,
        "items": [{"messages": [{"role": "user", "content": f"Question {i}"}]} for i in range(32)],
        "sampling": {"temperature": 0, "top_p": 1, "max_new_tokens": 200, "seed": 0},
        "batch_size": 1,
    }
    first = engine.send("generate", long)
    second = engine.send("generate", long)
    time.sleep(0.3)
    c2 = engine.send("cancel", {"target": second})
    c1 = engine.send("cancel", {"target": first})
    replies: dict[str, dict] = {}
    while len(replies) < 4:
        msg = engine.next(timeout=120)
        if "event" not in msg and msg["id"] in (first, second, c1, c2):
            replies[msg["id"]] = msg
    assert replies[c1]["result"]["cancelled"] is True and replies[c2]["result"]["cancelled"] is True
    assert replies[first]["error"]["code"] == "cancelled"
    assert replies[second]["error"]["code"] == "cancelled"
    reply, _ = engine.call("cancel", {"target": "never-sent"})
    assert reply["result"]["cancelled"] is False
    assert_alive(engine)


def test_duplicate_pending_id_is_refused(engine: EngineProcess, tiny_model_dir: str) -> None:
    params = {
        "model": {"source": "local", "path": tiny_model_dir},
        "items": [{"messages": [{"role": "user", "content": "x"}]}] * 4,
        "sampling": {"temperature": 0, "top_p": 1, "max_new_tokens": 64, "seed": 0},
        "batch_size": 1,
    }
    engine.send("generate", params, req_id="dup")
    engine.send("generate", params, req_id="dup")
    first = engine.next(timeout=60)
    while "event" in first:
        first = engine.next(timeout=60)
    assert first["id"] == "dup" and first["error"]["code"] == "bad_request"
    reply, _ = engine.wait_for("dup")
    assert "result" in reply


def test_unavailable_lazy_method_is_an_error_not_a_crash(
    engine: EngineProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    from character_engine import server

    # resolve_handler turns an import failure into an internal error with the target named
    monkeypatch.setitem(server.METHODS, "ghost", "character_engine.no_such_module:fn")
    with pytest.raises(server.EngineError) as info:
        server.resolve_handler("ghost")
    assert info.value.detail["target"] == "character_engine.no_such_module:fn"


def test_error_mapping() -> None:
    import torch

    from character_engine.server import error_payload

    assert error_payload(MemoryError())["code"] == "out_of_memory"
    assert error_payload(torch.OutOfMemoryError("CUDA out of memory"))["code"] == "out_of_memory"
    assert (
        error_payload(RuntimeError("DefaultCPUAllocator: can't allocate: out of memory"))["code"]
        == "out_of_memory"
    )
    other = error_payload(ValueError("bad value"))
    assert other["code"] == "internal" and other["detail"]["exception"] == "ValueError"
    assert "bad value" in other["message"]


def test_shutdown_and_eof_exit_cleanly() -> None:
    proc = EngineProcess()
    reply, _ = proc.call("shutdown")
    assert reply["result"] == {"ok": True}
    assert proc.proc.wait(timeout=30) == 0
    proc2 = EngineProcess()
    assert proc2.close() == 0  # EOF on stdin
    assert proc2.raw_stdout == []


NOISY_ENGINE = """
import logging, sys
from character_engine import server

def noisy(params, ctx):
    print("a library printing to stdout")
    sys.stdout.write("more noise\\n")
    logging.getLogger("some.library").warning("careful: %s", params.get("what"))
    return {"ok": True}

def boom(params, ctx):
    raise KeyError("nothing here")

server.METHODS["noisy"] = "__main__:noisy"
server.METHODS["boom"] = "__main__:boom"
sys.exit(server.run_protocol_server())
"""


def test_prints_never_reach_the_protocol_channel_and_warnings_become_log_events() -> None:
    proc = EngineProcess(["-c", NOISY_ENGINE])
    reply, events = proc.call("noisy", {"what": "the cliff"})
    assert reply["result"] == {"ok": True}
    assert any(
        e["event"] == "log" and e["level"] == "warning" and "the cliff" in e["message"] for e in events
    )
    reply, _ = proc.call("boom")
    assert reply["error"]["code"] == "internal" and reply["error"]["detail"]["exception"] == "KeyError"
    reply, _ = proc.call("health")
    assert "result" in reply
    assert proc.close() == 0
    assert all(line.startswith(b"{") for line in proc.raw_stdout)  # every stdout line was protocol JSON
    assert b"a library printing to stdout" in b"".join(proc.stderr)


def test_non_finite_numbers_are_sent_as_null() -> None:
    import io
    import json

    from character_engine.server import Server
    from character_engine.state import EngineState

    out = io.StringIO()
    Server(out, io.BytesIO(), EngineState()).reply(
        "x", {"loss": float("nan"), "xs": [1.0, float("inf")], "text": "NaN stays"}
    )
    assert json.loads(out.getvalue()) == {
        "id": "x",
        "result": {"loss": None, "xs": [1.0, None], "text": "NaN stays"},
    }


def test_allocator_tuning_can_be_switched_off() -> None:
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ, CHARACTER_ENGINE_MALLOC="default")
    proc = subprocess.run(
        [sys.executable, "-m", "character_engine"],
        input=json.dumps({"id": "1", "method": "health", "params": {}}) + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    reply = json.loads(proc.stdout.splitlines()[0])
    assert reply["result"]["allocator"] == {"tuned": False, "reason": "CHARACTER_ENGINE_MALLOC=default"}
