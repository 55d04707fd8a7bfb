"""merge_adapters: several LoRA adapters of one base -> one adapter equal to their weighted sum."""

from __future__ import annotations

import math
from typing import Any

from ..context import RequestContext
from ..errors import InvalidParams
from ..training.merge import MergePart, merge_adapters


def handle_merge_adapters(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    raw = params.get("adapters")
    if not isinstance(raw, list) or len(raw) < 2:
        raise InvalidParams("'adapters' must be a list of at least two {path, weight}", param="adapters")
    parts: list[MergePart] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise InvalidParams(f"'adapters[{i}]' must be an object", param=f"adapters[{i}]")
        path = item.get("path")
        if not isinstance(path, str) or not path:
            raise InvalidParams(f"'adapters[{i}].path' must be a folder path", param=f"adapters[{i}].path")
        weight = item.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight):
            raise InvalidParams(
                f"'adapters[{i}].weight' must be a finite number", param=f"adapters[{i}].weight"
            )
        parts.append(MergePart(path=path, weight=float(weight)))
    output_dir = params.get("output_dir")
    if not isinstance(output_dir, str) or not output_dir:
        raise InvalidParams("'output_dir' must be a folder path", param="output_dir")
    if any(output_dir.rstrip("/") == p.path.rstrip("/") for p in parts):
        raise InvalidParams("'output_dir' must not be one of the adapters merged", param="output_dir")
    ctx.progress("merge", 0, 1, f"merging {len(parts)} adapters")
    result = merge_adapters(parts, output_dir)
    ctx.progress("merge", 1, 1)
    return result
