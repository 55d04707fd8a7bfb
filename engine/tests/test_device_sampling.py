"""The GPU decode path's pieces, checked on CPU tensors (no GPU here): sampling by inverse
CDF on the device (only [rows] uniforms cross from the CPU generator each step) and the
stock-SDPA prefix path a GPU uses, against the single-copy prefix path the CPU uses."""

from __future__ import annotations

import pytest
from _helpers import make_sharp_model

from character_engine import prefix_attention
from character_engine.generation.decode_loop import generate_items
from character_engine.generation.sampling import Sampling, draw_on_device
from character_engine.models.cache import load_private
from character_engine.models.loaded import LoadedModel
from character_engine.state import EngineState

SYSTEM = "You are Beethoven, the composer. You love music, the piano and long walks in Vienna. " * 4
QUESTIONS = ["Hello!", "What is your favourite piece of music?", "Do you ever feel lonely?", "Who?"]


def test_device_draws_follow_the_probabilities() -> None:
    import torch

    probs = torch.tensor([0.5, 0.0, 0.3, 0.2, 0.0]).repeat(20000, 1)
    picked = draw_on_device(probs, torch.Generator().manual_seed(3))
    counts = torch.bincount(picked, minlength=5).double() / picked.numel()
    # Zero-probability tokens (those top-p cut) are never drawn, however many draws.
    assert counts[1] == 0 and counts[4] == 0
    # 20,000 draws: each share's standard error is <= 0.0036; 0.02 is more than 5 of them.
    assert torch.allclose(counts, probs[0].double(), atol=0.02)


def test_device_draws_are_seeded_and_use_one_uniform_per_row() -> None:
    import torch

    logits = torch.randn(6, 40, generator=torch.Generator().manual_seed(1))
    probs = torch.softmax(logits, dim=-1)
    g1, g2 = torch.Generator().manual_seed(9), torch.Generator().manual_seed(9)
    a, b = draw_on_device(probs, g1), draw_on_device(probs, g2)
    assert torch.equal(a, b) and a.shape == (6,)
    # The generator advanced by exactly [rows] float32 uniforms, not [rows, vocab].
    ref = torch.Generator().manual_seed(9)
    torch.rand((6, 1), generator=ref, dtype=torch.float32)
    assert torch.equal(g1.get_state(), ref.get_state())


def test_device_draws_never_leave_the_support_at_the_edges() -> None:
    import torch

    # One row whose whole mass is on the last token and one whose mass is on the first:
    # a uniform near 1 or near 0 must still land on them.
    probs = torch.zeros(2, 7)
    probs[0, 6], probs[1, 0] = 1.0, 1.0
    for seed in range(50):
        picked = draw_on_device(probs, torch.Generator().manual_seed(seed))
        assert picked.tolist() == [6, 0]


@pytest.fixture(scope="module")
def sharp(tiny_model_dir: str, tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    path = make_sharp_model(tiny_model_dir, tmp_path_factory.mktemp("sharp-dev") / "model")
    return load_private({"source": "local", "path": path})


def test_the_gpu_prefix_path_gives_the_cpu_paths_greedy_answers(sharp: LoadedModel) -> None:
    """The stock-SDPA path over an expanded prefix (what a GPU runs) and the single-copy path
    (what a CPU runs) against no prefix cache at all, one item at a time: the reference."""
    items = [{"system": SYSTEM, "messages": [{"role": "user", "content": q}]} for q in QUESTIONS]
    greedy = Sampling(temperature=0.0, top_p=1.0, max_new_tokens=24, seed=0)
    single, stats = generate_items(
        sharp, items, greedy, prefixes=EngineState().prefixes, batch_size=4, single_copy=True
    )
    expanded, _ = generate_items(
        sharp, items, greedy, prefixes=EngineState().prefixes, batch_size=4, single_copy=False
    )
    reference, _ = generate_items(sharp, items, greedy, prefixes=None, batch_size=1)
    assert stats["prefix_tokens"] > 40
    texts = [o.text for o in reference]
    assert [o.text for o in single] == texts and [o.text for o in expanded] == texts
    assert len(set(texts)) > 1


def test_only_the_cpu_takes_the_single_copy_prefix() -> None:
    import torch

    assert prefix_attention.single_copy_pays(torch.device("cpu"))
    assert not prefix_attention.single_copy_pays(torch.device("cuda", 0))
    assert not prefix_attention.single_copy_pays(torch.device("mps"))
