"""Sampling that does not loop: the repetition penalty (Hugging Face semantics, generated
tokens only) and the n-gram ban; both off leaves generation exactly as it was."""

from __future__ import annotations

import pytest
from _helpers import MakeCtx

from character_engine.errors import InvalidParams
from character_engine.generation.decode_loop import generate_items, run_batch
from character_engine.generation.sampling import Sampling, apply_penalties, banned_ngram_tokens, choose
from character_engine.handlers.generate import handle_generate
from character_engine.models.cache import load_private
from character_engine.models.chat_template import prompt_ids, stop_token_ids
from character_engine.models.loaded import LoadedModel

QUESTIONS = ["Hello!", "What is your favourite piece of music?", "Tell me about your life in Vienna."]


@pytest.fixture(scope="module")
def tiny(tiny_model_dir: str) -> LoadedModel:
    """The plain tiny random model: its greedy answers loop, which is what these tests need."""
    return load_private({"source": "local", "path": tiny_model_dir})


def generated_ids(loaded: LoadedModel, sampling: Sampling) -> list[list[int]]:
    import torch

    tok = loaded.tokenizer
    prompts = [prompt_ids(tok, None, [{"role": "user", "content": q}]) for q in QUESTIONS]
    with loaded.activated() as model:
        out = run_batch(
            model,
            tok,
            prompts,
            None,
            sampling,
            stop_token_ids(model, tok),
            torch.Generator().manual_seed(sampling.seed),
            [None] * len(prompts),
            None,
        )
    return out.generated


def ngrams(ids: list[int], n: int) -> list[tuple[int, ...]]:
    return [tuple(ids[j : j + n]) for j in range(len(ids) - n + 1)]


def test_banned_ngram_tokens() -> None:
    assert banned_ngram_tokens([1, 2, 3, 1, 2], 3) == {3}
    assert banned_ngram_tokens([1, 2, 1, 3, 1], 2) == {2, 3}
    assert banned_ngram_tokens([5, 6, 5], 1) == {5, 6}
    assert banned_ngram_tokens([1, 2], 3) == set()


def test_penalties_match_transformers_logits_processors() -> None:
    import torch
    from transformers import NoRepeatNGramLogitsProcessor, RepetitionPenaltyLogitsProcessor

    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 40, generator=g)
    history = [[4, 7, 4, 9, 4, 7], [1, 2, 3, 1, 2], [5, 5, 5, 5, 5]]
    ids = torch.tensor([h[:5] for h in history])  # equal lengths for the reference
    hist5 = [h[:5] for h in history]
    for penalty, n in [(1.3, 0), (1.0, 2), (1.7, 3)]:
        got = apply_penalties(logits, Sampling(repetition_penalty=penalty, no_repeat_ngram_size=n), hist5)
        want = logits.clone()
        if penalty != 1.0:
            want = RepetitionPenaltyLogitsProcessor(penalty)(ids, want)
        if n:
            want = NoRepeatNGramLogitsProcessor(n)(ids, want)
        assert torch.equal(got, want), (penalty, n)
    assert torch.equal(logits, torch.randn(3, 40, generator=torch.Generator().manual_seed(0)))  # not in place


def test_off_is_identical_and_uses_the_generator_the_same_way() -> None:
    import torch

    logits = torch.randn(4, 50, generator=torch.Generator().manual_seed(1))
    history = [[1, 2, 1, 2], [3], [], [7, 7]]
    for temperature in (0.0, 0.8):
        s = Sampling(temperature=temperature, top_p=0.9)
        g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
        a = choose(logits, s, g1)
        b = choose(logits, s, g2, history)
        assert torch.equal(a, b) and torch.equal(g1.get_state(), g2.get_state())
    assert apply_penalties(logits, Sampling(), history) is logits


def test_generation_with_both_off_equals_the_defaults(tiny: LoadedModel) -> None:
    items = [{"messages": [{"role": "user", "content": q}]} for q in QUESTIONS]
    for base in (Sampling(0.0, 1.0, 16, 0), Sampling(1.0, 0.95, 16, 3)):
        off = Sampling(
            base.temperature,
            base.top_p,
            base.max_new_tokens,
            base.seed,
            repetition_penalty=1.0,
            no_repeat_ngram_size=0,
        )
        a, _ = generate_items(tiny, items, base, prefixes=None, batch_size=3)
        b, _ = generate_items(tiny, items, off, prefixes=None, batch_size=3)
        assert [o.text for o in a] == [o.text for o in b]


@pytest.mark.parametrize("n", [2, 3])
def test_no_repeat_ngram_leaves_no_repeated_ngram(tiny: LoadedModel, n: int) -> None:
    looping = generated_ids(tiny, Sampling(0.0, 1.0, 48, 0))
    assert any(len(set(ngrams(ids, n))) < len(ngrams(ids, n)) for ids in looping)  # it does loop
    for sampling in (Sampling(0.0, 1.0, 48, 0, no_repeat_ngram_size=n), Sampling(0.9, 1.0, 48, 2, 1.0, n)):
        for ids in generated_ids(tiny, sampling):
            grams = ngrams(ids, n)
            assert len(set(grams)) == len(grams), ids


def test_repetition_penalty_changes_a_looping_answer(tiny: LoadedModel) -> None:
    plain = generated_ids(tiny, Sampling(0.0, 1.0, 32, 0))
    penalised = generated_ids(tiny, Sampling(0.0, 1.0, 32, 0, repetition_penalty=10.0))
    assert plain != penalised
    # A large penalty makes the (untrained, looping) model prefer tokens it has not used yet.
    assert sum(len(set(x)) for x in penalised) > sum(len(set(x)) for x in plain)


def test_generate_handler_validates_the_new_sampling_fields(tiny_model_dir: str, make_ctx: MakeCtx) -> None:
    spec = {"source": "local", "path": tiny_model_dir}
    items = [{"messages": [{"role": "user", "content": "Hi"}]}]
    cases = [
        ({"repetition_penalty": 0.5}, "sampling.repetition_penalty"),
        ({"repetition_penalty": "high"}, "sampling.repetition_penalty"),
        ({"repetition_penalty": float("nan")}, "sampling.repetition_penalty"),
        ({"no_repeat_ngram_size": -1}, "sampling.no_repeat_ngram_size"),
        ({"no_repeat_ngram_size": 2.5}, "sampling.no_repeat_ngram_size"),
    ]
    for sampling, param in cases:
        with pytest.raises(InvalidParams) as info:
            handle_generate({"model": spec, "items": items, "sampling": sampling}, make_ctx())
        assert info.value.detail["param"] == param, sampling
    ok = {"max_new_tokens": 4, "repetition_penalty": 1.2, "no_repeat_ngram_size": 2}
    out = handle_generate({"model": spec, "items": items, "sampling": ok}, make_ctx())
    assert out["outputs"][0]["completion_tokens"] <= 4
