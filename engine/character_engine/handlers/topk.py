"""topk_from_logprobs: an OpenAI-compatible teacher's top_logprobs, per answer, written as
teacher top-k files (topk_logprobs.py) with the tokenizer of `model` (the student's)."""

from __future__ import annotations

import os
from typing import Any

from ..context import RequestContext
from ..errors import InvalidParams
from ..models.specs import parse_spec
from ..params import get, get_list
from ..topk_logprobs import write_from_logprobs


def handle_topk_from_logprobs(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    spec = parse_spec(params.get("model"))
    k = get(params, "k", int)
    if not 1 <= k <= 20:
        raise InvalidParams("'k' must be from 1 to 20 (what OpenAI-style endpoints return)", param="k")
    files = get_list(params, "files", dict)
    meta = {key: str(v) for key, v in (get(params, "metadata", dict, {}) or {}).items()}
    tokenizer = ctx.state.models.load(spec, ctx=ctx).tokenizer
    out = []
    for i, f in enumerate(files):
        path = get(f, "path", str)
        if not os.path.isabs(path):
            raise InvalidParams(f"'files[{i}].path' must be absolute", param=f"files[{i}].path")
        entries = get_list(f, "tokens", dict)
        prompt = f.get("prompt_tokens")
        extra = {"prompt_tokens": prompt} if isinstance(prompt, int) else {}
        rows, dropped = write_from_logprobs(tokenizer, path, entries, k, **meta, **extra)
        out.append({"path": path, "rows": rows, "unreliable_positions": dropped})
        ctx.progress("topk", i + 1, len(files))
    dropped = [f for f in out if f["unreliable_positions"]]
    if dropped:
        ctx.log(
            f"{len(dropped)} of {len(out)} answers left out of kd: "
            f"{sum(f['unreliable_positions'] for f in dropped)} tokens were partial UTF-8 with no token id",
            "warning",
        )
    return {"files": out}
