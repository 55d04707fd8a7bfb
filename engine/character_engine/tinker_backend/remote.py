"""Teacher answers sampled on Tinker (tinker_generate), the service's checkpoint list
(tinker_checkpoints) and an adapter pulled from it (tinker_pull)."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

from ..context import RequestContext
from ..errors import InvalidParams
from ..models.chat_template import prompt_ids, stop_token_ids
from ..params import check_messages, get, get_list
from ..topk_file import write_topk
from .loop import download_external
from .sdk import parse_settings, remote_errors, rest_client, sdk, session
from .tempered import check_untempered

# The server bounds a top-k width; 20 is what OpenAI-style endpoints allow as well.
MAX_TOPK = 20
# Checkpoints listed per page, and at most this many in all.
PAGE, MAX_LISTED = 100, 1000


def _sampling(params: dict[str, Any], types: Any, stops: list[int], seed: int) -> Any:
    s = get(params, "sampling", dict)
    temperature = float(s.get("temperature", 1.0))
    top_p = float(s.get("top_p", 1.0))
    max_new = int(s.get("max_new_tokens", 128))
    if temperature < 0 or not 0 < top_p <= 1 or max_new < 1:
        raise InvalidParams(
            "sampling needs temperature >= 0, top_p in (0, 1], max_new_tokens >= 1", param="sampling"
        )
    return types.SamplingParams(
        max_tokens=max_new, temperature=temperature, top_p=top_p, seed=seed, stop=stops
    )


def generate(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    """The teacher (tinker.base_model; teacher_model when given) answers every item; with
    capture_topk each item's top-k log-probs at every sampled token go to its topk_path in
    topk_file's format, so kd trains on them as on a local teacher's."""
    settings = parse_settings(params, need_base=False)
    model = settings.teacher_model or settings.base_model
    if not model:
        raise InvalidParams("'tinker.teacher_model' (or base_model) names the teacher", param="tinker")
    items = get_list(params, "items", dict)
    k = int((params.get("capture_topk") or {}).get("k", 0))
    if not 0 <= k <= MAX_TOPK:
        raise InvalidParams(f"capture_topk.k must be from 1 to {MAX_TOPK} on Tinker", param="capture_topk.k")
    seed = int(get(params, "sampling", dict).get("seed", 0))
    types = sdk().types
    started = time.perf_counter()
    with remote_errors(settings), session(settings) as service:
        client = service.create_sampling_client(base_model=model).result()
        tokenizer = client.get_tokenizer()
        stops = sorted(stop_token_ids(None, tokenizer))
        rng = random.Random(seed)
        futures, prompts = [], []
        for i, item in enumerate(items):
            messages = check_messages(item.get("messages"), f"items[{i}].messages")
            ids = prompt_ids(tokenizer, item.get("system"), messages)
            prompts.append(ids)
            # All requests go out before any answer is read: the SDK runs them side by side.
            futures.append(
                client.sample(
                    types.ModelInput.from_ints(ids),
                    1,
                    _sampling(params, types, stops, rng.getrandbits(31)),
                    topk_sample_logprobs=k,
                )
            )
        outputs = []
        missing = 0
        for i, (item, ids, future) in enumerate(zip(items, prompts, futures, strict=True)):
            ctx.check_cancel()
            asked = time.perf_counter()
            seq = future.result().sequences[0]
            tokens = list(seq.tokens)
            if k and i == 0:
                check_untempered(
                    types, client, ids, seq, float(get(params, "sampling", dict).get("temperature", 1.0))
                )
            stopped = seq.stop_reason == "stop" and bool(tokens) and tokens[-1] in stops
            text = tokenizer.decode(tokens[:-1] if stopped else tokens, skip_special_tokens=True)
            out = {
                "text": text,
                "prompt_tokens": len(ids),
                "completion_tokens": len(tokens),
                "ttft_ms": None,
                "total_ms": (time.perf_counter() - asked) * 1000.0,
                "finish_reason": "stop" if stopped else "length",
            }
            if k and item.get("topk_path"):
                why = _short_rows(tokens, seq, k)
                if why is None:
                    out["topk_tokens"] = _write_topk(
                        str(item["topk_path"]), tokens, seq, k, model, len(ids), params
                    )
                else:
                    # One answer without distributions is left out of kd (SFT still has its
                    # text); it must not fail the whole batch of answers around it.
                    out["topk_missing"] = why
                    missing += 1
            outputs.append(out)
            ctx.progress("generate", i + 1, len(items))
        if missing:
            ctx.log(
                f"{missing} of {len(items)} answers came without full top-{k} rows: left out of kd", "warning"
            )
    wall = time.perf_counter() - started
    total_tokens = sum(o["completion_tokens"] for o in outputs)
    return {
        "outputs": outputs,
        "tokens_per_s": total_tokens / wall if wall > 0 else 0.0,
        "wall_ms": wall * 1000,
    }


def _short_rows(tokens: list[int], seq: Any, k: int) -> str | None:
    """Why this answer's top-k rows cannot make a kd file (None: they can)."""
    rows = seq.topk_logprobs
    if rows is None or len(rows) != len(tokens):
        return f"Tinker returned top-k rows for {0 if rows is None else len(rows)} of {len(tokens)} tokens"
    short = [t for t, r in enumerate(rows) if r is None or len(r) < k]
    if short:
        return f"{len(short)} of {len(tokens)} tokens have fewer than {k} top-k entries (first at {short[0]})"
    return None


def _write_topk(path: str, tokens: list[int], seq: Any, k: int, model: str, prompt: int, params: dict) -> int:
    rows = seq.topk_logprobs
    ids = [[t for t, _ in r[:k]] for r in rows]
    logprobs = [[lp for _, lp in r[:k]] for r in rows]
    s = params["sampling"]
    write_topk(
        path,
        tokens,
        ids,
        logprobs,
        prompt_tokens=prompt,
        model=f"tinker:{model}",
        temperature=s.get("temperature"),
        top_p=s.get("top_p"),
        seed=s.get("seed"),
    )
    return len(tokens)


def list_checkpoints(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    settings = parse_settings(params, need_base=False)
    out: list[dict[str, Any]] = []
    with remote_errors(settings):
        rest = rest_client(settings)
        while len(out) < MAX_LISTED:
            page = rest.list_user_checkpoints(limit=PAGE, offset=len(out)).result()
            for c in page.checkpoints:
                out.append(
                    {
                        "tinker_path": c.tinker_path,
                        "type": c.checkpoint_type,
                        "checkpoint_id": c.checkpoint_id,
                        "run_id": c.tinker_path[len("tinker://") :].split("/", 1)[0],
                        "time": c.time.isoformat(),
                        "size_bytes": c.size_bytes,
                        "metadata": dict(c.user_metadata or {}),
                    }
                )
            cursor = page.cursor
            if not page.checkpoints or cursor is None or cursor.offset + cursor.limit >= cursor.total_count:
                break
    return {"checkpoints": out}


def pull(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    """A training (weights/) or external checkpoint as a local PEFT adapter folder. A training
    checkpoint is exported first, as `tinker checkpoint download` does it (a training client
    on the checkpoint, save_weights_external, download, delete the temporary export)."""
    settings = parse_settings(params, need_base=False)
    path = get(params, "tinker_path", str)
    dest = Path(get(params, "output_dir", str))
    if not path.startswith("tinker://"):
        raise InvalidParams("'tinker_path' must be a tinker:// path", param="tinker_path")
    segment = path[len("tinker://") :].split("/")
    if len(segment) != 3 or segment[1] not in ("weights", "external_weights"):
        raise InvalidParams(
            "only training (tinker://run/weights/name) and external weights checkpoints can be pulled",
            param="tinker_path",
        )
    if dest.exists() and any(dest.iterdir()):
        raise InvalidParams(f"'output_dir' is not empty: {dest}", param="output_dir")
    with remote_errors(settings), session(settings) as service:
        if segment[1] == "external_weights":
            folder = download_external(service, path, dest, path, settings, ctx)
        else:
            tc = service.create_training_client_from_state(path).result()
            external = (
                tc.save_weights_external(f"pull-{int(time.time() * 1000)}", ttl_seconds=3600).result().path
            )
            try:
                folder = download_external(service, external, dest, path, settings, ctx)
            finally:
                rest_client(settings).delete_checkpoint_from_tinker_path(external).result()
    return {
        "output_dir": folder,
        "tinker_path": path,
        "files": sorted(p.name for p in Path(folder).iterdir()),
    }
