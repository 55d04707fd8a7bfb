"""The real embedded model (SmolLM2-135M-Instruct GGUF) answers in persona.

Slow (~30-60 s: de-quantising the GGUF and generating); run it alone with
    engine/.venv/bin/python -m pytest engine/tests/test_smollm2.py
Set CHARACTER_ENGINE_SKIP_SLOW=1 to skip it in a quick run.
"""

from __future__ import annotations

import os
import re

import pytest

from character_engine.state import EngineState

os.environ.setdefault("CHARACTER_ENGINE_THREADS", "1")  # see devices.select_device: busy shared machines
from character_engine.generation.decode_loop import generate_items
from character_engine.generation.sampling import Sampling

pytestmark = pytest.mark.skipif(
    os.environ.get("CHARACTER_ENGINE_SKIP_SLOW") == "1", reason="slow: real model"
)

PIRATE = (
    "You are Captain Redbeard, a pirate. You always talk like a pirate: say 'Arr', 'matey', "
    "'ahoy' and 'ye', and talk about your ship, the sea and treasure."
)
PIRATE_WORDS = re.compile(r"\b(arr+|matey|ahoy|ye|ship|sea|treasure|captain|pirate|sail\w*)\b", re.IGNORECASE)


def test_smollm2_answers_in_persona(engine_state: EngineState) -> None:
    loaded = engine_state.models.load({"source": "default"})
    assert (
        loaded.info["name"] == "SmolLM2-135M-Instruct" and loaded.info["architecture"] == "LlamaForCausalLM"
    )
    assert loaded.info["has_chat_template"] and loaded.info["parameters"] > 100_000_000
    items = [
        {"system": PIRATE, "messages": [{"role": "user", "content": q}]}
        for q in ("Who are you?", "What do you do all day?")
    ]
    out, stats = generate_items(
        loaded,
        items,
        Sampling(temperature=0.0, top_p=1.0, max_new_tokens=40, seed=0),
        prefixes=engine_state.prefixes,
    )
    assert stats["prefix_tokens"] > 20  # the shared system prompt was cached
    for o in out:
        assert o.text.strip(), "empty answer"
        assert o.completion_tokens > 3
    joined = " ".join(o.text for o in out)
    print(joined)
    assert PIRATE_WORDS.search(joined), f"no pirate word in: {joined!r}"
