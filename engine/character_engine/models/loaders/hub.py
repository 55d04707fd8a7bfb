"""'hub' specs: a model repo from the Hugging Face hub (or a hub-compatible endpoint) through
huggingface_hub.snapshot_download, then loaded as a Hugging Face folder (hf.py).

Going through huggingface_hub means the shared cache (HF_HUB_CACHE: a model downloaded by
any hub tool is not downloaded again), the token `hf auth login` stored or HF_TOKEN,
HF_ENDPOINT, HF_HUB_OFFLINE (the cached snapshot, no request) and resumed downloads all
behave as in every other hub tool. Only what a causal LM needs is fetched (WANTED; .bin
weights only when the repo has no safetensors). A file downloaded by this call whose cache
blob is named by a sha256 (LFS files) is checked against it; a mismatch deletes it.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import os
import re
import time
from pathlib import Path
from typing import Any

from ...errors import Cancelled, DownloadFailed, InvalidParams
from .hf import load_hf_folder

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://huggingface.co"
PROGRESS_EVERY_S = 0.25
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
SHA256_NAME = re.compile(r"^[0-9a-f]{64}$")


def resolve_endpoint(endpoint: str | None) -> str:
    return (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


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
) -> str:
    """The local snapshot folder of repo_id@revision, downloading (or finishing) what is missing."""
    import httpx
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.constants import is_offline_mode
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    if not repo_id or repo_id.count("/") != 1:
        raise InvalidParams("repo_id must look like 'owner/name'", param="model.repo_id")
    base = resolve_endpoint(endpoint)
    started = time.time()
    try:
        if is_offline_mode():
            patterns = [*WANTED, *FALLBACK_WEIGHTS]
        else:
            info = HfApi(endpoint=base).model_info(repo_id, revision=revision)
            patterns = select_files([s.rfilename for s in info.siblings or []])
            if not patterns:
                raise DownloadFailed(f"{repo_id} has no model files to download", url=base, status=None)
        folder = snapshot_download(
            repo_id,
            revision=revision,
            endpoint=base,
            cache_dir=cache_dir,
            allow_patterns=patterns,
            tqdm_class=_progress_class(ctx),
        )
    except (Cancelled, DownloadFailed):
        raise
    except LocalEntryNotFoundError as exc:
        raise DownloadFailed(
            f"{repo_id}@{revision} is not in the hub cache and downloads are off (HF_HUB_OFFLINE) or failed: {exc}",
            url=base,
            status=None,
        ) from exc
    except HfHubHTTPError as exc:
        response = exc.response
        status = response.status_code if response is not None else None
        url = str(response.url) if response is not None else base
        raise DownloadFailed(
            f"download of {repo_id} failed: HTTP {status}: {exc}", url=url, status=status
        ) from exc
    except (OSError, httpx.HTTPError) as exc:
        raise DownloadFailed(f"download of {repo_id} failed: {exc}", url=base, status=None) from exc
    verify_checksums(Path(folder), since=started)
    return folder


def verify_checksums(folder: Path, since: float) -> None:
    """Each file of the snapshot downloaded at or after `since` whose cache blob is named by its
    sha256 (how the cache stores LFS files) must hash to that name; a mismatch is deleted."""
    for link in sorted(folder.rglob("*")):
        if not link.is_file():
            continue
        blob = link.resolve()
        if not SHA256_NAME.match(blob.name) or blob.stat().st_mtime < since - 1:
            continue
        digest = hashlib.sha256()
        with open(blob, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != blob.name:
            blob.unlink(missing_ok=True)
            link.unlink(missing_ok=True)
            raise DownloadFailed(
                f"{link.name}: sha256 {digest.hexdigest()} does not match the hub's {blob.name}; "
                "the corrupt file was deleted, download again",
                url=str(link),
                status=None,
                reason="checksum",
            )


def _progress_class(ctx: Any) -> Any:
    """A tqdm class that turns huggingface_hub's progress bars into progress events (and
    checks for cancellation between chunks) instead of drawing on stderr."""
    from tqdm.auto import tqdm

    class EngineProgress(tqdm):  # type: ignore[misc,valid-type]
        _last = 0.0

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = False
            kwargs["file"] = open(os.devnull, "w")  # noqa: SIM115 - closed with the bar
            super().__init__(*args, **kwargs)

        def update(self, n: float | None = 1) -> bool | None:
            if ctx is not None:
                ctx.check_cancel()
            shown = super().update(n)
            now = time.monotonic()
            if ctx is not None and (now - self._last >= PROGRESS_EVERY_S or self.n == self.total):
                self._last = now
                total = int(self.total or self.n)
                ctx.progress("download", int(self.n), total, message=str(self.desc or "download"))
            return shown

        def close(self) -> None:
            super().close()
            if self.fp is not None and not self.fp.closed:
                self.fp.close()

    return EngineProgress
