"""tinker_train, tinker_generate, tinker_checkpoints and tinker_pull: the Tinker backend
(tinker_backend/), which imports the Tinker SDK only when one of them runs."""

from __future__ import annotations

from typing import Any

from ..context import RequestContext


def handle_tinker_train(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    from ..tinker_backend.loop import run_tinker_training

    return run_tinker_training(params, ctx)


def handle_tinker_generate(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    from ..tinker_backend.remote import generate

    return generate(params, ctx)


def handle_tinker_checkpoints(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    from ..tinker_backend.remote import list_checkpoints

    return list_checkpoints(params, ctx)


def handle_tinker_pull(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    from ..tinker_backend.remote import pull

    return pull(params, ctx)
