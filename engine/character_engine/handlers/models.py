"""load_model and unload_model."""

from __future__ import annotations

from typing import Any

from ..context import RequestContext
from ..models.specs import parse_spec
from ..params import get


def handle_load_model(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    spec = parse_spec(params.get("model"))
    adapter = get(params, "adapter", str, None)
    ctx.progress("load_model", 0, 1)
    loaded = ctx.state.models.load(spec, adapter, ctx=ctx)
    ctx.progress("load_model", 1, 1)
    return dict(loaded.info)


def handle_unload_model(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    key = get(params, "key", str)
    removed = ctx.state.models.unload(key)
    if removed:
        ctx.state.prefixes.clear()
    return {"unloaded": removed}
