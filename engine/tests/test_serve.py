"""The OpenAI-compatible server, exercised with the official openai client on the tiny model."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest

from character_engine.serve import make_server
from character_engine.state import EngineState


@pytest.fixture(scope="module")
def server(tiny_model_dir: str):
    state = EngineState()  # the server's own, as serve.main creates it
    loaded = state.models.load({"source": "local", "path": tiny_model_dir})
    srv = make_server(state, loaded, port=0, model_id="tiny-test")
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def client(server):
    from openai import OpenAI

    return OpenAI(base_url=f"http://127.0.0.1:{server.server_address[1]}/v1", api_key="unused", max_retries=0)


MESSAGES = [
    {"role": "system", "content": "You are Beethoven."},
    {"role": "user", "content": "What is your favourite piece of music?"},
]


def test_models_list(client) -> None:
    ids = [m.id for m in client.models.list()]
    assert ids == ["tiny-test"]


def test_chat_completion(client, server) -> None:
    res = client.chat.completions.create(model="tiny-test", messages=MESSAGES, max_tokens=8, temperature=0)
    choice = res.choices[0]
    assert choice.message.role == "assistant" and isinstance(choice.message.content, str)
    assert choice.finish_reason in ("stop", "length")
    assert res.usage.completion_tokens <= 8 and res.usage.prompt_tokens > 10
    assert res.usage.total_tokens == res.usage.prompt_tokens + res.usage.completion_tokens
    again = client.chat.completions.create(model="tiny-test", messages=MESSAGES, max_tokens=8, temperature=0)
    assert again.choices[0].message.content == choice.message.content  # greedy is deterministic


def test_streamed_chat_completion(client) -> None:
    full = client.chat.completions.create(model="tiny-test", messages=MESSAGES, max_tokens=10, temperature=0)
    stream = client.chat.completions.create(
        model="tiny-test",
        messages=MESSAGES,
        max_tokens=10,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    text, finish, usage = "", None, None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for c in chunk.choices:
            text += c.delta.content or ""
            finish = c.finish_reason or finish
    assert text == full.choices[0].message.content
    assert finish == full.choices[0].finish_reason
    assert usage is not None and usage.completion_tokens == full.usage.completion_tokens


def test_errors_are_openai_shaped(client, server) -> None:
    import openai

    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="tiny-test", messages=[], max_tokens=4)
    assert info.value.status_code == 400
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="tiny-test", messages=MESSAGES, temperature=5)
    url = f"http://127.0.0.1:{server.server_address[1]}/v1/nothing"
    with pytest.raises(urllib.error.HTTPError) as http:
        urllib.request.urlopen(urllib.request.Request(url, data=b"{}", method="POST"))
    assert http.value.code == 404
    body = json.loads(http.value.read())
    assert body["error"]["code"] == "not_found" and body["error"]["message"]
    bad = urllib.request.Request(
        f"http://127.0.0.1:{server.server_address[1]}/v1/chat/completions", data=b"{not json", method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as http:
        urllib.request.urlopen(bad)
    assert http.value.code == 400 and "JSON" in json.loads(http.value.read())["error"]["message"]


def test_cli_serve_announces_its_port(tiny_model_dir: str) -> None:
    import os
    import subprocess
    import sys

    from _helpers import ENGINE_DIR

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "character_engine",
            "serve",
            "--model-source",
            "local",
            "--path",
            tiny_model_dir,
            "--port",
            "0",
        ],
        cwd=ENGINE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, HF_HUB_OFFLINE="1"),
    )
    try:
        assert proc.stdout is not None
        line = json.loads(proc.stdout.readline())
        assert line["event"] == "listening" and line["port"] > 0
        with urllib.request.urlopen(f"{line['url']}/models", timeout=30) as resp:
            assert json.loads(resp.read())["data"][0]["id"] == "model"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_repetition_extensions_are_accepted_and_validated(client, server) -> None:
    import openai

    extra = {"repetition_penalty": 1.3, "no_repeat_ngram_size": 2}
    res = client.chat.completions.create(
        model="tiny-test", messages=MESSAGES, max_tokens=6, temperature=0, extra_body=extra
    )
    assert res.usage.completion_tokens <= 6
    for bad in ({"repetition_penalty": 0.9}, {"repetition_penalty": "x"}, {"no_repeat_ngram_size": -2}):
        with pytest.raises(openai.BadRequestError) as info:
            client.chat.completions.create(model="tiny-test", messages=MESSAGES, max_tokens=4, extra_body=bad)
        assert info.value.status_code == 400
        assert info.value.body["param"] == next(iter(bad)), bad
