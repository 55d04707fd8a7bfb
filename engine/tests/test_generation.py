"""Generation: the prefix KV cache gives the same greedy output as no cache, streaming
decodes multi-byte text correctly, sampling is seeded, limits are honoured."""

from __future__ import annotations

from pathlib import Path

import pytest
from _helpers import MakeCtx, make_sharp_model

from character_engine.generation import decode_loop, prefix_cache
from character_engine.generation.decode_loop import generate_items
from character_engine.generation.sampling import Sampling
from character_engine.models import chat_template
from character_engine.models.cache import load_private
from character_engine.models.loaded import LoadedModel
from character_engine.state import EngineState

SYSTEM = "You are Beethoven, the composer. You love music, the piano and long walks in Vienna. " * 4
QUESTIONS = [
    "Hello!",
    "What is your favourite piece of music?",
    "Do you ever feel lonely?",
    "Tell me about your life in Vienna.",
    "Who?",
]


@pytest.fixture(scope="module")
def sharp(tiny_model_dir: str, tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    path = make_sharp_model(tiny_model_dir, tmp_path_factory.mktemp("sharp") / "model")
    return load_private({"source": "local", "path": path})


def items(system: str | None = SYSTEM) -> list[dict]:
    return [{"system": system, "messages": [{"role": "user", "content": q}]} for q in QUESTIONS]


def test_prefix_cache_matches_uncached_greedy(sharp: LoadedModel, engine_state: EngineState) -> None:
    greedy = Sampling(temperature=0.0, top_p=1.0, max_new_tokens=16, seed=0)
    prefixes = engine_state.prefixes
    cached, stats = generate_items(sharp, items(), greedy, prefixes=prefixes, batch_size=3)
    assert stats["prefix_tokens"] > 40  # the shared system prompt really was cached
    plain, plain_stats = generate_items(sharp, items(), greedy, prefixes=None, batch_size=3)
    assert plain_stats["prefix_tokens"] == 0
    single, _ = generate_items(sharp, items(), greedy, prefixes=None, batch_size=1)
    texts = [o.text for o in cached]
    assert texts == [o.text for o in plain] == [o.text for o in single]
    assert len(set(texts)) > 1 and all(len(t) > 0 for t in texts)  # a real, varied comparison
    # a second call reuses the stored prefix and still agrees
    again, again_stats = generate_items(sharp, items()[:2], greedy, prefixes=prefixes, batch_size=2)
    assert [o.text for o in again] == texts[:2] and again_stats["prefix_tokens"] == stats["prefix_tokens"]


def test_successive_calls_reuse_the_stored_system_prefix(
    sharp: LoadedModel, engine_state: EngineState
) -> None:
    greedy = Sampling(temperature=0.0, top_p=1.0, max_new_tokens=4, seed=0)
    prefixes = engine_state.prefixes
    # both items of the first chunk start with "What", which the second chunk does not share
    _, first = generate_items(
        sharp,
        items()[1:2] + [{"system": SYSTEM, "messages": [{"role": "user", "content": "What now?"}]}],
        greedy,
        prefixes=prefixes,
    )
    _, second = generate_items(sharp, items()[2:4], greedy, prefixes=prefixes)
    assert first["prefix_tokens"] == second["prefix_tokens"] > 40
    assert len(prefixes) == 1  # computed once, found the second time


def test_chat_with_history_uses_the_system_prefix(sharp: LoadedModel, engine_state: EngineState) -> None:
    greedy = Sampling(temperature=0.0, top_p=1.0, max_new_tokens=8, seed=0)
    chat = [
        {
            "system": SYSTEM,
            "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Good day."},
                {"role": "user", "content": "Play something."},
            ],
        }
    ]
    a, stats = generate_items(sharp, chat, greedy, prefixes=engine_state.prefixes)
    b, _ = generate_items(sharp, chat, greedy, prefixes=None)
    assert stats["prefix_tokens"] > 40 and a[0].text == b[0].text


def test_token_counts_timings_and_length_limit(sharp: LoadedModel, engine_state: EngineState) -> None:
    out, stats = generate_items(
        sharp, items(None), Sampling(0.0, 1.0, 6, 0), prefixes=engine_state.prefixes, batch_size=2
    )
    tok = sharp.tokenizer
    for it, o in zip(items(None), out, strict=True):
        assert o.prompt_tokens == len(chat_template.prompt_ids(tok, None, it["messages"]))
        assert o.completion_tokens <= 6
        if o.finish_reason == "length":
            assert o.completion_tokens == 6
        assert 0 < o.ttft_ms <= o.total_ms
    assert stats["tokens_per_s"] > 0 and stats["wall_ms"] > 0


def test_sampling_is_seeded(sharp: LoadedModel, engine_state: EngineState) -> None:
    hot = Sampling(temperature=1.2, top_p=0.9, max_new_tokens=12, seed=7)
    prefixes = engine_state.prefixes
    a, _ = generate_items(sharp, items(), hot, prefixes=prefixes, batch_size=5)
    b, _ = generate_items(sharp, items(), hot, prefixes=prefixes, batch_size=5)
    c, _ = generate_items(sharp, items(), Sampling(1.2, 0.9, 12, 8), prefixes=prefixes, batch_size=5)
    assert [o.text for o in a] == [o.text for o in b]
    assert [o.text for o in a] != [o.text for o in c]


def test_stream_events_concatenate_to_the_text(sharp: LoadedModel, engine_state: EngineState) -> None:
    pieces: list[tuple[int, str]] = []
    out, _ = generate_items(
        sharp,
        items()[:2],
        Sampling(0.9, 1.0, 10, 1),
        prefixes=engine_state.prefixes,
        on_token=lambda i, t: pieces.append((i, t)),
    )
    for i in range(2):
        assert "".join(t for j, t in pieces if j == i) == out[i].text


def test_incremental_decoding_never_splits_a_character(tiny_model_dir: str) -> None:
    loaded = load_private({"source": "local", "path": tiny_model_dir})
    tok = loaded.tokenizer
    text = "Grüße aus Wien 🎹 — für Elise"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert len(ids) > len(text) // 2  # byte-level pieces: some characters span several tokens
    got: list[str] = []
    stream = decode_loop.TokenStream(tok, 0, lambda _i, t: got.append(t))
    for n in range(1, len(ids) + 1):
        stream.update(ids[:n])
    stream.update(ids, final=True)
    assert "".join(got) == text and not any("\ufffd" in g for g in got)


def test_stop_tokens_include_im_end(tiny_model_dir: str) -> None:
    loaded = load_private({"source": "local", "path": tiny_model_dir})
    stops = chat_template.stop_token_ids(loaded.model, loaded.tokenizer)
    assert loaded.tokenizer.convert_tokens_to_ids("<|im_end|>") in stops


def test_common_prefix_len() -> None:
    assert prefix_cache.common_prefix_len([[1, 2, 3], [1, 2, 4], [1, 2]]) == 2
    assert prefix_cache.common_prefix_len([[1], [2]]) == 0
    assert prefix_cache.common_prefix_len([[1, 2]]) == 2


def test_cancel_stops_generation(sharp: LoadedModel, engine_state: EngineState) -> None:
    import threading

    from character_engine.errors import Cancelled

    ev = threading.Event()
    ev.set()
    with pytest.raises(Cancelled):
        generate_items(sharp, items(), Sampling(0.0, 1.0, 50, 0), prefixes=engine_state.prefixes, cancel=ev)


def test_generate_handler_validates(tmp_path: Path, tiny_model_dir: str, make_ctx: MakeCtx) -> None:
    from character_engine.errors import InvalidParams
    from character_engine.handlers.generate import handle_generate

    ctx = make_ctx()
    spec = {"source": "local", "path": tiny_model_dir}
    with pytest.raises(InvalidParams) as info:
        handle_generate({"model": spec, "items": [{"messages": [{"role": "robot", "content": "x"}]}]}, ctx)
    assert info.value.detail["param"] == "items[0].messages[0]"
    with pytest.raises(InvalidParams) as info:
        handle_generate({"model": spec, "items": [], "batch_size": 0}, ctx)
    assert info.value.detail["param"] == "batch_size"


def _reference_attention(query, key, value, mask, scale):  # type: ignore[no-untyped-def]
    import torch

    g = query.shape[1] // key.shape[1]
    key, value = key.repeat_interleave(g, dim=1), value.repeat_interleave(g, dim=1)
    out = torch.nn.functional.scaled_dot_product_attention(query, key, value, attn_mask=mask, scale=scale)
    return out.transpose(1, 2)


@pytest.mark.parametrize("q_len", [1, 5])
def test_shared_prefix_attention_equals_attention_over_the_full_cache(q_len: int) -> None:
    """One (kv_heads, L, d) prefix for the whole batch gives what SDPA gives over the
    prefix copied to every sequence, with grouped-query heads and left padding."""
    import torch

    from character_engine import prefix_attention

    torch.manual_seed(0)
    b, hq, hkv, d, plen, own = 3, 6, 2, 8, 11, 7
    pk, pv = torch.randn(hkv, plen, d), torch.randn(hkv, plen, d)
    query = torch.randn(b, hq, q_len, d)
    key, value = torch.randn(b, hkv, own, d), torch.randn(b, hkv, own, d)
    # Row 1 has two left pads in its own part; the last q_len keys are the new tokens.
    visible = torch.ones(b, 1, q_len, plen + own, dtype=torch.bool)
    visible[1, :, :, plen : plen + 2] = False
    for i in range(q_len):  # causal among the new tokens
        visible[:, :, i, plen + own - q_len + i + 1 :] = False

    class Layer:
        layer_idx = 0

    with prefix_attention.active_prefix([(pk, pv)]):
        got, _ = prefix_attention.prefix_attention(Layer(), query, key, value, visible, scaling=0.3)
    full_k = torch.cat([pk.expand(b, -1, -1, -1), key], dim=2)
    full_v = torch.cat([pv.expand(b, -1, -1, -1), value], dim=2)
    want = _reference_attention(query, full_k, full_v, visible, 0.3)
    assert got.shape == (b, q_len, hq, d)
    assert torch.allclose(got, want, atol=1e-5)


def test_cached_batches_use_the_single_copy_prefix_and_drop_finished_items(
    sharp: LoadedModel, engine_state: EngineState
) -> None:
    from character_engine import prefix_attention

    greedy = Sampling(temperature=0.0, top_p=1.0, max_new_tokens=40, seed=0)
    cached, stats = generate_items(sharp, items(), greedy, prefixes=engine_state.prefixes, batch_size=5)
    assert sharp.model.config._attn_implementation == prefix_attention.NAME
    single, _ = generate_items(sharp, items(), greedy, prefixes=None, batch_size=1)
    # Items stop at different steps, so the batch shrinks while the others go on.
    assert {o.finish_reason for o in cached} == {"stop", "length"}
    assert [o.text for o in cached] == [o.text for o in single]
    assert [o.completion_tokens for o in cached] == [o.completion_tokens for o in single]
