"""Top-k capture during teacher generation: what is sampled does not change, and the files
hold the teacher's raw next-token distribution at every generated token (stop included)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _helpers import MakeCtx, make_sharp_model

from character_engine.errors import InvalidParams
from character_engine.generation.decode_loop import generate_items
from character_engine.generation.sampling import Sampling
from character_engine.generation.topk_capture import TopKRequest
from character_engine.handlers.generate import handle_generate
from character_engine.models.cache import load_private
from character_engine.models.chat_template import prompt_ids, stop_token_ids
from character_engine.models.loaded import LoadedModel
from character_engine.state import EngineState
from character_engine.topk_file import read_topk

SYSTEM = "You are Beethoven, the composer. You love music, the piano and long walks in Vienna. " * 4
QUESTIONS = [
    "Hello!",
    "What is your favourite piece of music?",
    "Do you ever feel lonely?",
    "Tell me about your life in Vienna.",
    "Who?",
]
K = 16


@pytest.fixture(scope="module")
def sharp_dir(tiny_model_dir: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    return make_sharp_model(tiny_model_dir, tmp_path_factory.mktemp("sharp") / "model")


@pytest.fixture(scope="module")
def sharp(sharp_dir: str) -> LoadedModel:
    return load_private({"source": "local", "path": sharp_dir})


def items() -> list[dict]:
    return [{"system": SYSTEM, "messages": [{"role": "user", "content": q}]} for q in QUESTIONS]


def paths(tmp_path: Path, n: int = len(QUESTIONS)) -> list[str | None]:
    return [str(tmp_path / f"item{i}.safetensors") for i in range(n)]


@pytest.mark.parametrize(
    "sampling",
    [Sampling(0.0, 1.0, 40, 0), Sampling(1.0, 0.9, 24, 11)],
    ids=["greedy", "seeded"],
)
def test_capture_does_not_change_what_is_generated(
    sharp: LoadedModel, engine_state: EngineState, tmp_path: Path, sampling: Sampling
) -> None:
    plain, _ = generate_items(sharp, items(), sampling, prefixes=engine_state.prefixes, batch_size=3)
    request = TopKRequest(K, paths(tmp_path))
    captured, stats = generate_items(
        sharp, items(), sampling, prefixes=engine_state.prefixes, batch_size=3, topk=request
    )
    assert stats["prefix_tokens"] > 40  # the single-copy shared prefix was in use
    assert [o.text for o in captured] == [o.text for o in plain]
    assert [o.completion_tokens for o in captured] == [o.completion_tokens for o in plain]
    assert [o.topk_tokens for o in captured] == [o.completion_tokens for o in plain]
    assert all(o.topk_tokens is None for o in plain)
    if sampling.temperature == 0:
        # items stop at different steps: finished items left the batch while others went on
        assert {o.finish_reason for o in captured} == {"stop", "length"}


def test_stored_logprobs_equal_a_fresh_teacher_forward(sharp: LoadedModel, tmp_path: Path) -> None:
    import torch

    files = paths(tmp_path)
    state = EngineState()
    out, _ = generate_items(
        sharp,
        items(),
        Sampling(0.0, 1.0, 40, 0),
        prefixes=state.prefixes,
        batch_size=3,
        topk=TopKRequest(K, files),
    )
    tok = sharp.tokenizer
    stops = stop_token_ids(sharp.model, tok)
    for it, o, path in zip(items(), out, files, strict=True):
        assert path is not None
        top = read_topk(path)
        assert len(top) == o.completion_tokens == o.topk_tokens and top.k == K
        assert top.topk_ids.shape == top.topk_logprobs.shape == (o.completion_tokens, K)
        ids = top.token_ids.tolist()
        if o.finish_reason == "stop":
            assert ids[-1] in stops and tok.decode(ids[:-1], skip_special_tokens=True) == o.text
        else:
            assert not set(ids) & stops and tok.decode(ids, skip_special_tokens=True) == o.text
        prompt = prompt_ids(tok, SYSTEM, it["messages"])
        assert top.metadata["prompt_tokens"] == str(len(prompt)) == str(o.prompt_tokens)
        assert top.metadata["model"] == sharp.key
        with torch.no_grad():
            logits = sharp.model(input_ids=torch.tensor([prompt + ids])).logits[0].float()
        logp = torch.log_softmax(logits[len(prompt) - 1 : len(prompt) - 1 + len(ids)], dim=-1)
        assert torch.allclose(logp.gather(1, top.topk_ids), top.topk_logprobs, atol=1e-4)
        assert torch.allclose(logp.topk(K, dim=-1).values, top.topk_logprobs, atol=1e-4)
        # greedy: the generated token is the most likely one, the first of the top-k
        assert top.topk_ids[:, 0].tolist() == ids


def test_capture_with_prefix_cache_off_and_single_items(sharp: LoadedModel, tmp_path: Path) -> None:
    greedy = Sampling(0.0, 1.0, 12, 0)
    a_paths = paths(tmp_path / "a")
    b_paths = paths(tmp_path / "b")
    generate_items(sharp, items(), greedy, prefixes=None, batch_size=1, topk=TopKRequest(K, a_paths))
    generate_items(
        sharp, items(), greedy, prefixes=EngineState().prefixes, batch_size=5, topk=TopKRequest(K, b_paths)
    )
    for a, b in zip(a_paths, b_paths, strict=True):
        ta, tb = read_topk(str(a)), read_topk(str(b))
        assert ta.token_ids.tolist() == tb.token_ids.tolist()
        assert (ta.topk_logprobs - tb.topk_logprobs).abs().max() < 1e-4


def test_generate_handler_captures_the_items_with_a_path(
    sharp_dir: str, make_ctx: MakeCtx, tmp_path: Path
) -> None:
    spec = {"source": "local", "path": sharp_dir}
    raw = [dict(it) for it in items()[:3]]
    raw[0]["topk_path"] = str(tmp_path / "x" / "first.safetensors")
    raw[2]["topk_path"] = str(tmp_path / "x" / "third.safetensors")
    params = {"model": spec, "items": raw, "sampling": {"max_new_tokens": 6}, "capture_topk": {"k": 4}}
    result = handle_generate(params, make_ctx())
    first, second, third = result["outputs"]
    assert first["topk_tokens"] == first["completion_tokens"] and "topk_tokens" not in second
    assert len(read_topk(raw[2]["topk_path"])) == third["topk_tokens"] == third["completion_tokens"]
    assert not list((tmp_path / "x").glob("*.tmp"))  # written through a temporary name, renamed


def test_generate_handler_validates_capture(sharp_dir: str, make_ctx: MakeCtx, tmp_path: Path) -> None:
    spec = {"source": "local", "path": sharp_dir}
    item = {"messages": [{"role": "user", "content": "Hi"}], "topk_path": str(tmp_path / "a.safetensors")}
    cases = [
        ({"items": [item]}, "capture_topk"),
        ({"items": [item], "capture_topk": {"k": 0}}, "capture_topk.k"),
        ({"items": [item], "capture_topk": {}}, "capture_topk.k"),
        ({"items": [item], "capture_topk": {"k": 10**7}}, "capture_topk.k"),
        (
            {"items": [dict(item, topk_path="rel/a.safetensors")], "capture_topk": {"k": 2}},
            "items[0].topk_path",
        ),
        ({"items": [dict(item, topk_path=3)], "capture_topk": {"k": 2}}, "items[0].topk_path"),
    ]
    for extra, param in cases:
        with pytest.raises(InvalidParams) as info:
            handle_generate({"model": spec, **extra}, make_ctx())
        assert info.value.detail["param"] == param, extra
