"""An OpenAI-compatible teacher's top_logprobs as a teacher top-k file: this engine's own
server stands in for vLLM. Greedy answers with top_logprobs 8, written through
topk_from_logprobs, must hold the token ids and top-k the local engine captures for the same
answer (minus the stop token, which OpenAI's format leaves out), and kd must train on them."""

from __future__ import annotations

import json
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from test_sft import Recorder, write_rows

from character_engine.errors import InvalidParams

SYSTEM = "You are Beethoven. Answer with passion about music and Vienna."
QUESTIONS = ["What is music to you?", "Tell me about Vienna.", "Who was your teacher?"]
K = 8


@pytest.fixture(scope="module")
def server(tiny_model_dir: str):
    from character_engine.serve import make_server
    from character_engine.state import EngineState

    state = EngineState()
    loaded = state.models.load({"source": "local", "path": tiny_model_dir})
    srv = make_server(state, loaded, port=0, model_id="teacher")
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()
    srv.server_close()


def chat(url: str, question: str) -> dict[str, Any]:
    body = {
        "model": "teacher",
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}],
        "max_tokens": 12,
        "temperature": 0,
        "logprobs": True,
        "top_logprobs": K,
        # Random weights sample byte fragments whose text is lossy: ask for ids, as vLLM allows.
        "return_tokens_as_token_ids": True,
    }
    req = urllib.request.Request(
        f"{url}/chat/completions", json.dumps(body).encode(), {"content-type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=120) as res:
        return json.loads(res.read())


def test_endpoint_logprobs_match_the_local_capture_and_train_kd(
    server: str, tiny_model_dir: str, tmp_path: Path, make_ctx: Any
) -> None:
    import torch

    from character_engine.handlers.generate import handle_generate
    from character_engine.handlers.topk import handle_topk_from_logprobs
    from character_engine.topk_file import read_topk

    model = {"source": "local", "path": tiny_model_dir}
    replies = [chat(server, q) for q in QUESTIONS]
    files = [
        {"path": str(tmp_path / f"ep{i}.st"), "tokens": r["choices"][0]["logprobs"]["content"]}
        for i, r in enumerate(replies)
    ]
    written = handle_topk_from_logprobs(
        {"model": model, "k": K, "files": files, "metadata": {"model": "endpoint:teacher"}}, make_ctx()
    )
    assert [f["rows"] for f in written["files"]] == [len(f["tokens"]) for f in files]

    local_items = [
        {
            "system": SYSTEM,
            "messages": [{"role": "user", "content": q}],
            "topk_path": str(tmp_path / f"local{i}.st"),
        }
        for i, q in enumerate(QUESTIONS)
    ]
    handle_generate(
        {
            "model": model,
            "items": local_items,
            "sampling": {"temperature": 0, "top_p": 1, "max_new_tokens": 12, "seed": 0},
            "capture_topk": {"k": K},
        },
        make_ctx(),
    )
    for i in range(len(QUESTIONS)):
        ep, local = read_topk(files[i]["path"]), read_topk(local_items[i]["topk_path"])
        n = len(ep)
        assert n > 0 and ep.metadata["model"] == "endpoint:teacher"
        # The same greedy tokens, the same top-k ids, the same log-probs (up to float noise).
        assert torch.equal(ep.token_ids, local.token_ids[:n])
        assert torch.equal(ep.topk_ids, local.topk_ids[:n])
        assert torch.allclose(ep.topk_logprobs, local.topk_logprobs[:n], atol=1e-4)

    rows = [
        {
            "messages": [
                {"role": "user", "content": q},
                {"role": "assistant", "content": r["choices"][0]["message"]["content"]},
            ],
            "teacher_topk": files[i]["path"],
        }
        for i, (q, r) in enumerate(zip(QUESTIONS, replies, strict=True))
    ]
    from test_kd import kd_params

    from character_engine.handlers.training import handle_train_kd

    params = kd_params(tiny_model_dir, tmp_path, rows=rows, batch_size=3, max_steps=2)
    params["train_path"] = write_rows(tmp_path / "ep_train.jsonl", rows)
    result = handle_train_kd(params, Recorder().ctx)
    assert result["steps"] == 2 and result["train_loss"] > 0


def test_tokens_outside_the_vocabulary_are_refused(
    tiny_model_dir: str, tmp_path: Path, make_ctx: Any
) -> None:
    from character_engine.handlers.topk import handle_topk_from_logprobs

    bad = {"token": "€€", "bytes": [0xE2, 0x82, 0xAC, 0xE2, 0x82, 0xAC], "logprob": -1.0, "top_logprobs": []}
    with pytest.raises(InvalidParams) as err:
        handle_topk_from_logprobs(
            {
                "model": {"source": "local", "path": tiny_model_dir},
                "k": 1,
                "files": [{"path": str(tmp_path / "x.st"), "tokens": [bad]}],
            },
            make_ctx(),
        )
    assert "not in the tokenizer's vocabulary" in err.value.message
    # vLLM's return_tokens_as_token_ids form maps straight to the id; without it, a token's
    # bytes name it in a byte-level vocabulary, and a special token is named as it is.
    from transformers import AutoTokenizer

    from character_engine.topk_logprobs import token_id

    assert token_id(None, {}, {"token": "token_id:42"}) == 42
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    vocab = tok.get_vocab()
    ids = tok(" the symphony in Vienna, my dear!", add_special_tokens=False)["input_ids"]
    for i in ids:
        text = tok.decode([i])
        assert token_id(tok, vocab, {"token": text, "bytes": list(text.encode("utf-8"))}) == i
    end = tok.convert_tokens_to_ids("<|im_end|>")
    assert token_id(tok, vocab, {"token": "<|im_end|>", "bytes": list(b"<|im_end|>")}) == end


def test_partial_utf8_tokens_without_ids_are_left_out_of_kd_by_position_never_guessed(
    tiny_model_dir: str, tmp_path: Path, make_ctx: Any
) -> None:
    """SGLang (or any server without token ids) names a token that is part of a multi-byte
    character "\ufffd", sometimes with the replacement character's bytes: mapping that string
    would pick the id of "\ufffd" itself. Where only an alternative is lossy, that position is
    left out of kd and the rest of the answer kept; where the answer's own token is lossy and no
    text names it, the answer gets no file; a count either way."""
    from character_engine.handlers.topk import handle_topk_from_logprobs
    from character_engine.topk_file import read_topk

    fffd = list("\ufffd".encode("utf-8"))
    ok = {"token": "token_id:5", "logprob": -0.1, "top_logprobs": [{"token": "token_id:5", "logprob": -0.1}]}
    lossy = {
        "token": "\ufffd",
        "bytes": fffd,
        "logprob": -0.2,
        "top_logprobs": [{"token": "token_id:6", "logprob": -0.2}],
    }
    no_bytes_alt = dict(ok, top_logprobs=[{"token": "\ufffd", "logprob": -0.3}])
    own_bytes = {
        "token": "\ufffd",
        "bytes": [0xC3],
        "logprob": -0.2,
        "top_logprobs": [{"token": "token_id:7", "logprob": -0.2}],
    }
    files = [
        {"path": str(tmp_path / "a.st"), "tokens": [ok, lossy, ok]},
        {"path": str(tmp_path / "b.st"), "tokens": [ok, no_bytes_alt, ok]},
        {"path": str(tmp_path / "c.st"), "tokens": [ok, own_bytes, ok]},
        {"path": str(tmp_path / "d.st"), "tokens": [no_bytes_alt]},
    ]
    rec = make_ctx()
    out = handle_topk_from_logprobs(
        {"model": {"source": "local", "path": tiny_model_dir}, "k": 1, "files": files}, rec
    )
    got = {Path(f["path"]).name: (f["rows"], f["unreliable_positions"]) for f in out["files"]}
    assert got == {"a.st": (0, 1), "b.st": (3, 1), "c.st": (3, 0), "d.st": (0, 1)}
    assert not (tmp_path / "a.st").exists() and not (tmp_path / "d.st").exists()
    b = read_topk(str(tmp_path / "b.st"))
    assert b.known is not None and b.known.tolist() == [True, False, True]
    assert b.token_ids.tolist() == [5, 5, 5]
    assert (
        read_topk(str(tmp_path / "c.st")).known is None
    )  # a partial token with its own bytes maps through them


def test_lossy_own_tokens_are_named_by_the_text_only_where_one_spelling_exists(tiny_model_dir: str) -> None:
    """A character split over two tokens makes both lossy; the text's bytes between the known
    neighbours name them when exactly one way of writing those bytes with two tokens exists."""
    from transformers import AutoTokenizer

    from character_engine.topk_logprobs import own_ids_from_text

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    vocab = tok.get_vocab()
    hello, space, c3, a9, bang = (vocab[n] for n in ("Hello", "Ġ", "Ã", "©", "!"))
    assert own_ids_from_text(tok, vocab, [hello, space, None, None, bang], "Hello é!") == [
        hello,
        space,
        c3,
        a9,
        bang,
    ]
    # The known tokens must spell the text around the run.
    assert own_ids_from_text(tok, vocab, [hello, space, None, None, bang], "Hello é?") is None
    # Three letters that two tokens spell two ways ("a"+"bc" and "ab"+"c"): neither is chosen.
    pairs = [n for n in vocab if len(n) == 2 and n.isascii() and n.isalpha()]
    three = next(
        a + bc
        for a in "abcdefghijklmnopqrstuvwxyz"
        for bc in pairs
        if a in vocab and a + bc[0] in vocab and bc[1] in vocab and bc in vocab
    )
    assert own_ids_from_text(tok, vocab, [None, None], three) is None
    assert own_ids_from_text(tok, vocab, [vocab[three[0]], None], three) == [
        vocab[three[0]],
        vocab[three[1:]],
    ]
    # Without the text, no file (the handler's path): never guessed.


def test_kd_leaves_out_the_positions_a_file_marks_unknown(tiny_model_dir: str, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    from character_engine.topk_file import read_topk, trim_topk, write_topk
    from character_engine.training.data import IGNORE_INDEX
    from character_engine.training.kd import kd_example

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    ids = tok("Music is my life. And more", add_special_tokens=False)["input_ids"]
    top = [[t, 0] for t in ids]
    lps = [[-0.1, -3.0] for _ in ids]
    known = [True] * len(ids)
    known[1] = False
    path = str(tmp_path / "m.st")
    write_topk(path, ids, top, lps, known)
    row = {"messages": [{"role": "user", "content": "Who are you?"}], "teacher_topk": path}
    ex = kd_example(row, 1, str(tmp_path / "train.jsonl"), tok, 512, "train_path")
    answer_labels = ex.labels[-len(ids) :]
    assert answer_labels[1] == IGNORE_INDEX and answer_labels[0] == ids[0]
    assert sum(1 for t in ex.labels if t != IGNORE_INDEX) == len(ids) - 1 == ex.topk_ids.shape[0]
    assert ex.input_ids[-len(ids) :] == ids  # the token stays in the input
    # Trimming keeps the marks, and the end row is known.
    cut = trim_topk(read_topk(path), tok, "Music is my life.", stop_id=0)
    assert cut is not None and cut.known is not None
    assert cut.known.tolist() == [*known[: len(cut) - 1], True]
