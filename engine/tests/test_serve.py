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


# -- behaving as vLLM / Ollama do (issue #10.5)
LONG = {"ignore_eos": True}  # the tiny model may end early; these tests need their full length


def test_stop_is_honoured_whole_and_streamed(client) -> None:
    full = client.chat.completions.create(
        model="tiny-test", messages=MESSAGES, max_tokens=24, temperature=0, extra_body=LONG
    ).choices[0]
    text = full.message.content
    assert len(text) > 12, text
    stop = text[8:11]  # a string the greedy answer contains
    cut = text[: text.index(stop)]
    res = client.chat.completions.create(
        model="tiny-test",
        messages=MESSAGES,
        max_tokens=24,
        temperature=0,
        stop=[stop, "\x00never"],
        extra_body=LONG,
    )
    assert res.choices[0].message.content == cut
    assert res.choices[0].finish_reason == "stop"
    assert res.usage.completion_tokens < 24
    stream = client.chat.completions.create(
        model="tiny-test",
        messages=MESSAGES,
        max_tokens=24,
        temperature=0,
        stop=stop,
        stream=True,
        extra_body=LONG,
    )
    chunks = [c for c in stream if c.choices]
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == cut
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_unseeded_calls_differ_and_a_seed_repeats(client) -> None:
    def sample(**kw: object) -> str:
        res = client.chat.completions.create(
            model="tiny-test", messages=MESSAGES, max_tokens=12, extra_body=LONG, **kw
        )
        return res.choices[0].message.content

    assert sample() != sample()  # a fresh seed per call (today every unseeded call was identical)
    assert sample(seed=7) == sample(seed=7)
    assert sample(seed=7) != sample(seed=8)


def test_unknown_model_is_404(client, server) -> None:
    import openai

    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES, max_tokens=2)
    assert info.value.body["code"] == "model_not_found"
    with pytest.raises(openai.NotFoundError):
        client.completions.create(model="nope", prompt="Hi", max_tokens=2)
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("nope")
    assert client.models.retrieve("tiny-test").id == "tiny-test"


def test_chat_logprobs(client) -> None:
    import openai

    res = client.chat.completions.create(
        model="tiny-test",
        messages=MESSAGES,
        max_tokens=5,
        temperature=0,
        logprobs=True,
        top_logprobs=3,
        extra_body=LONG,
    )
    content = res.choices[0].logprobs.content
    assert len(content) == res.usage.completion_tokens == 5
    for entry in content:
        tops = [t.logprob for t in entry.top_logprobs]
        assert len(tops) == 3 and tops == sorted(tops, reverse=True) and tops[0] <= 0
        assert (
            entry.token == entry.top_logprobs[0].token and entry.logprob == tops[0]
        )  # greedy: the top token
        assert entry.bytes == list(entry.token.encode("utf-8"))
    with pytest.raises(openai.BadRequestError):  # top_logprobs without logprobs
        client.chat.completions.create(model="tiny-test", messages=MESSAGES, max_tokens=2, top_logprobs=2)


def test_completions_endpoint(client) -> None:
    res = client.completions.create(
        model="tiny-test", prompt="The composer", max_tokens=6, temperature=0, logprobs=2, extra_body=LONG
    )
    choice = res.choices[0]
    assert res.object == "text_completion" and choice.finish_reason == "length" and choice.text
    assert res.usage.completion_tokens == 6 and res.usage.prompt_tokens >= 2
    lp = choice.logprobs
    assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == 6
    assert "".join(lp.tokens) == choice.text and lp.text_offset[0] == 0
    assert all(len(top) <= 2 for top in lp.top_logprobs)
    streamed = client.completions.create(
        model="tiny-test", prompt="The composer", max_tokens=6, temperature=0, stream=True, extra_body=LONG
    )
    assert "".join(c.choices[0].text for c in streamed if c.choices) == choice.text
    two = client.completions.create(
        model="tiny-test", prompt=["The composer", "A quiet"], max_tokens=3, temperature=0
    )
    assert [c.index for c in two.choices] == [0, 1] and two.choices[0].text.startswith(choice.text[:1])


def test_n_choices_or_a_clear_400(client) -> None:
    import openai

    res = client.chat.completions.create(
        model="tiny-test", messages=MESSAGES, max_tokens=8, n=3, extra_body=LONG
    )
    assert [c.index for c in res.choices] == [0, 1, 2]
    assert len({c.message.content for c in res.choices}) > 1  # sampled rows, not one answer thrice
    assert res.usage.completion_tokens == 24
    stream = client.chat.completions.create(
        model="tiny-test", messages=MESSAGES, max_tokens=4, n=2, stream=True, extra_body=LONG
    )
    finished = {c.choices[0].index for c in stream if c.choices and c.choices[0].finish_reason}
    assert finished == {0, 1}
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="tiny-test", messages=MESSAGES, max_tokens=2, n=99)
    assert info.value.body["param"] == "n"


def test_api_key(tiny_model_dir: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import openai
    from openai import OpenAI

    from character_engine.serve import main

    state = EngineState()
    loaded = state.models.load({"source": "local", "path": tiny_model_dir})
    with pytest.raises(ValueError, match="API key"):
        make_server(state, loaded, host="0.0.0.0", port=0)  # beyond loopback without a key
    monkeypatch.delenv("CHARACTER_ENGINE_API_KEY", raising=False)
    assert (
        main(["--host", "0.0.0.0", "--port", "0", "--model-source", "local", "--path", tiny_model_dir]) == 2
    )
    srv = make_server(state, loaded, port=0, model_id="tiny-test", api_key="sekrit")
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.port}/v1"
        with pytest.raises(openai.AuthenticationError):
            OpenAI(base_url=url, api_key="wrong", max_retries=0).models.list()
        assert [m.id for m in OpenAI(base_url=url, api_key="sekrit", max_retries=0).models.list()] == [
            "tiny-test"
        ]
    finally:
        srv.shutdown()
        srv.server_close()


def test_the_adapters_name_is_the_model_id(tiny_model_dir: str, tmp_path) -> None:
    from _helpers import make_lora_adapter
    from openai import OpenAI

    adapter = make_lora_adapter(tiny_model_dir, tmp_path / "beethoven-v3")
    state = EngineState()
    srv = make_server(state, state.models.load({"source": "local", "path": tiny_model_dir}, adapter), port=0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        client = OpenAI(base_url=f"http://127.0.0.1:{srv.port}/v1", api_key="unused", max_retries=0)
        assert [m.id for m in client.models.list()] == ["beethoven-v3"]
        res = client.chat.completions.create(model="beethoven-v3", messages=MESSAGES, max_tokens=2)
        assert res.model == "beethoven-v3"
    finally:
        srv.shutdown()
        srv.server_close()
