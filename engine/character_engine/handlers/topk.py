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
        text = get(f, "text", str, None)
        rows, unknown = write_from_logprobs(tokenizer, path, entries, k, text, **meta, **extra)
        out.append({"path": path, "rows": rows, "unreliable_positions": unknown})
        ctx.progress("topk", i + 1, len(files))
    masked = [f for f in out if f["unreliable_positions"] and f["rows"]]
    dropped = [f for f in out if f["unreliable_positions"] and not f["rows"]]
    if masked:
        ctx.log(
            f"{sum(f['unreliable_positions'] for f in masked)} token positions in {len(masked)} of "
            f"{len(out)} answers left out of kd: partial UTF-8 with no token id (the rest of each answer kept)",
            "warning",
        )
    if dropped:
        ctx.log(
            f"{len(dropped)} of {len(out)} answers left out of kd: their own tokens could not all be "
            f"named ({sum(f['unreliable_positions'] for f in dropped)} partial UTF-8 tokens with no token id)",
            "warning",
        )
    return {"files": out}


def handle_topk_trim(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    """Cut teacher top-k files to the answer text given (its last full sentence) and mark the end
    with the stop token, in place (atomically). `model`: the tokenizer the files were written
    with. Per file: rows kept (stop token included), or trimmed false where the text does not
    fall on a token boundary (the file is left as it was)."""
    from ..models.chat_template import end_of_turn_id
    from ..topk_file import read_topk, trim_topk, write_topk

    spec = parse_spec(params.get("model"))
    files = get_list(params, "files", dict)
    tokenizer = ctx.state.models.load(spec, ctx=ctx).tokenizer
    stop_id = end_of_turn_id(tokenizer)
    out = []
    for i, f in enumerate(files):
        path = get(f, "path", str)
        text = get(f, "text", str)
        if not os.path.isabs(path):
            raise InvalidParams(f"'files[{i}].path' must be absolute", param=f"files[{i}].path")
        if not text.strip():
            raise InvalidParams(f"'files[{i}].text' is empty", param=f"files[{i}].text")
        topk = read_topk(path)
        cut = trim_topk(topk, tokenizer, text, stop_id)
        if cut is None:
            out.append({"path": path, "trimmed": False, "rows": len(topk)})
        else:
            write_topk(path, cut.token_ids, cut.topk_ids, cut.topk_logprobs, cut.known, **cut.metadata)
            out.append({"path": path, "trimmed": True, "rows": len(cut)})
        ctx.progress("trim", i + 1, len(files))
    return {"files": out}
