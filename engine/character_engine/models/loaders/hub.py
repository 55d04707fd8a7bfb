"""'hub' specs: download a model repo from a Hugging Face-compatible endpoint with urllib
only, then load it as a Hugging Face folder (hf.py).

Files are listed with  GET {endpoint}/api/models/{repo_id}/revision/{revision}
and fetched with       GET {endpoint}/{repo_id}/resolve/{revision}/{filename}.
Each file streams into NAME.part; an existing .part is resumed with a Range header;
the file is renamed into place only when complete, so a present file is a whole file.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from http.client import HTTPException
from pathlib import Path
from typing import Any

from ...errors import Cancelled, DownloadFailed, InvalidParams
from .hf import load_hf_folder

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://huggingface.co"
CHUNK_BYTES = 1 << 20
PROGRESS_EVERY_S = 0.25
# Connection drops are retried (resuming from the .part) this many times per file.
MAX_ATTEMPTS = 4
TIMEOUT_S = 60
# What a causal LM needs; other formats in a repo (onnx, tf, flax, gguf...) are skipped.
WANTED = (
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "tokenizer.model",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "vocab.txt",
    "merges.txt",
    "chat_template.jinja",
    "chat_template.json",
    "*.safetensors",
    "model.safetensors.index.json",
)
FALLBACK_WEIGHTS = ("pytorch_model*.bin", "pytorch_model.bin.index.json")


def default_cache_dir() -> str:
    base = os.environ.get("CHARACTER_STUDIO_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "character-studio"
    )
    return os.path.join(base, "hub")


def resolve_endpoint(endpoint: str | None) -> str:
    return (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def repo_dir(cache_dir: str, repo_id: str, revision: str) -> Path:
    safe_rev = revision.replace("/", "--")
    return Path(cache_dir) / ("models--" + repo_id.replace("/", "--")) / safe_rev


def list_files(repo_id: str, revision: str = "main", endpoint: str | None = None) -> list[str]:
    base = resolve_endpoint(endpoint)
    url = f"{base}/api/models/{_quote(repo_id)}/revision/{urllib.parse.quote(revision, safe='')}"
    try:
        with urllib.request.urlopen(_request(url), timeout=TIMEOUT_S) as resp:
            data = json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        raise DownloadFailed(f"listing {repo_id} failed: HTTP {exc.code}", url=url, status=exc.code) from exc
    except (urllib.error.URLError, OSError, HTTPException, ValueError) as exc:
        raise DownloadFailed(f"listing {repo_id} failed: {exc}", url=url, status=None) from exc
    siblings = data.get("siblings") if isinstance(data, dict) else None
    if not isinstance(siblings, list):
        raise DownloadFailed(f"unexpected listing for {repo_id} (no siblings)", url=url, status=200)
    return [s["rfilename"] for s in siblings if isinstance(s, dict) and isinstance(s.get("rfilename"), str)]


def select_files(files: list[str]) -> list[str]:
    def matches(name: str, patterns: tuple[str, ...]) -> bool:
        return any(fnmatch.fnmatch(name, p) for p in patterns)

    top = [f for f in files if "/" not in f]
    chosen = [f for f in top if matches(f, WANTED)]
    if not any(f.endswith(".safetensors") for f in chosen):
        chosen += [f for f in top if matches(f, FALLBACK_WEIGHTS)]
    return sorted(set(chosen))


def load_hub(spec: dict[str, Any], ctx: Any) -> tuple[str, Any, Any, str]:
    """(local folder, model, tokenizer, architecture name), downloading what is missing."""
    path = download_repo(
        spec["repo_id"],
        revision=spec.get("revision") or "main",
        endpoint=spec.get("endpoint"),
        cache_dir=spec.get("cache_dir"),
        ctx=ctx,
    )
    model, tok, arch = load_hf_folder(path)
    return path, model, tok, arch


def download_repo(
    repo_id: str,
    revision: str = "main",
    endpoint: str | None = None,
    cache_dir: str | None = None,
    ctx: Any = None,
    files: list[str] | None = None,
) -> str:
    """Download (or finish downloading) a repo; returns the local folder."""
    if not repo_id or "/" not in repo_id:
        raise InvalidParams("repo_id must look like 'owner/name'", param="model.repo_id")
    base = resolve_endpoint(endpoint)
    target = repo_dir(cache_dir or default_cache_dir(), repo_id, revision)
    target.mkdir(parents=True, exist_ok=True)
    wanted = files if files is not None else select_files(list_files(repo_id, revision, base))
    if not wanted:
        raise DownloadFailed(f"{repo_id} has no model files to download", url=base, status=None)
    for i, name in enumerate(wanted):
        if ctx is not None:
            ctx.check_cancel()
        url = f"{base}/{_quote(repo_id)}/resolve/{urllib.parse.quote(revision, safe='')}/{_quote(name)}"
        dest = target / name
        if dest.exists():
            continue
        download_file(url, dest, ctx, label=f"{name} ({i + 1}/{len(wanted)})")
    (target / ".complete").write_text(json.dumps({"repo_id": repo_id, "revision": revision, "files": wanted}))
    return str(target)


def download_file(url: str, dest: Path, ctx: Any = None, label: str | None = None) -> None:
    """Stream url into dest via dest.part, resuming from the .part; renames when complete."""
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    last_error: Exception | None = None
    for attempt in range(MAX_ATTEMPTS):
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        try:
            with urllib.request.urlopen(_request(url, headers), timeout=TIMEOUT_S) as resp:
                status = resp.status
                if have and status == 200:
                    have = 0  # the server ignored Range: start over
                length = resp.headers.get("Content-Length")
                total = have + int(length) if length is not None else 0
                _stream(resp, part, have, total, ctx, label or dest.name)
            if total and part.stat().st_size != total:
                raise HTTPException(f"short read: {part.stat().st_size} of {total} bytes")
            os.replace(part, dest)
            return
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and have:  # Range beyond the end: the .part is already whole
                os.replace(part, dest)
                return
            raise DownloadFailed(
                f"download of {url} failed: HTTP {exc.code}", url=url, status=exc.code
            ) from exc
        except Cancelled:
            raise
        except (urllib.error.URLError, OSError, HTTPException) as exc:
            last_error = exc
            log.warning("download of %s interrupted (%s); resuming (attempt %d)", url, exc, attempt + 2)
            time.sleep(min(0.2 * (attempt + 1), 1.0))
    raise DownloadFailed(f"download of {url} failed: {last_error}", url=url, status=None)


def _stream(resp: Any, part: Path, have: int, total: int, ctx: Any, label: str) -> None:
    done = have
    last = 0.0
    with open(part, "ab" if have else "wb") as fh:
        while True:
            if ctx is not None:
                ctx.check_cancel()
            chunk = resp.read(CHUNK_BYTES)
            if not chunk:
                break
            fh.write(chunk)
            done += len(chunk)
            now = time.monotonic()
            if ctx is not None and now - last >= PROGRESS_EVERY_S:
                ctx.progress("download", done, total or done, message=label)
                last = now
    if ctx is not None:
        ctx.progress("download", done, total or done, message=label)


def _request(url: str, headers: dict[str, str] | None = None) -> urllib.request.Request:
    h = {"User-Agent": "character-studio-engine"}
    token = os.environ.get("HF_TOKEN")
    if token:
        h["Authorization"] = f"Bearer {token}"
    h.update(headers or {})
    return urllib.request.Request(url, headers=h)


def _quote(path: str) -> str:
    return urllib.parse.quote(path, safe="/")
