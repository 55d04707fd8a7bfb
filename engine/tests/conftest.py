"""Shared pytest fixtures for the engine tests.

`tiny_model_dir` is a tiny randomly initialised chat model (see character_dev.tiny),
built once per test session; its text is meaningless, it only exercises mechanics.
`engine_state` is a fresh EngineState (model cache, prefix cache, embedders), what the
protocol server creates at start-up; `make_ctx` builds a RequestContext around it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from character_engine.context import RequestContext
    from character_engine.state import EngineState

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    from character_dev.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model") / "model", seed=0)


@pytest.fixture
def engine_state() -> EngineState:
    from character_engine.state import EngineState

    return EngineState()


@pytest.fixture
def make_ctx(engine_state: EngineState) -> Callable[..., RequestContext]:
    """make_ctx(emit=None, request_id="t"): a RequestContext on this test's engine state."""
    from character_engine.context import RequestContext

    def make(emit: Callable[[dict[str, Any]], None] | None = None, request_id: str = "t") -> RequestContext:
        return RequestContext(request_id, emit or (lambda _m: None), engine_state)

    return make
