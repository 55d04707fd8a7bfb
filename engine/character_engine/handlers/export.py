"""export_adapter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..context import RequestContext
from ..errors import InvalidParams, ModelLoadFailed, ModelNotFound
from ..export import ADAPTER_FILES, export_adapter
from ..models.specs import parse_spec


def handle_export_adapter(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    spec = parse_spec(params.get("model"))
    adapter = params.get("adapter")
    if not isinstance(adapter, str) or not adapter:
        raise InvalidParams("'adapter' must be an adapter folder path", param="adapter")
    src = Path(adapter)
    if not src.is_dir():
        raise ModelNotFound(f"adapter folder not found: {adapter}", path=adapter, what="adapter")
    missing = [f for f in ADAPTER_FILES if not (src / f).is_file()]
    if missing:
        raise ModelLoadFailed(f"{adapter} is not a PEFT adapter (missing {', '.join(missing)})", path=adapter)
    output_dir = params.get("output_dir")
    if not isinstance(output_dir, str) or not output_dir:
        raise InvalidParams("'output_dir' must be a folder path", param="output_dir")
    merged = params.get("merged", False)
    if not isinstance(merged, bool):
        raise InvalidParams("'merged' must be a boolean", param="merged")
    card = params.get("card") or {}
    if not isinstance(card, dict):
        raise InvalidParams("'card' must be an object", param="card")
    out = Path(output_dir)
    if out.resolve() == src.resolve():
        raise InvalidParams("'output_dir' must differ from the adapter folder", param="output_dir")
    return export_adapter(spec, src, out, merged, card, ctx)
