"""Push an export folder (adapter, card, GGUF LoRA, Modelfile) and the run's datasets to a
Hugging Face hub repo with huggingface_hub: the token is the caller's (HF_TOKEN or the one
`hf auth login` stored), the endpoint HF_ENDPOINT's unless one is given. The merged model and
its GGUF are left out: they are the base's size, and the adapter is what the repo is for."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ..errors import InvalidParams, UploadFailed

DATA_FOLDER = "data"
# The merged model and the export's copy of a GGUF base are full models: the card says how to
# get the base, and the hub repo holds the adapter.
LEFT_OUT = ["merged/*", "merged.tmp/*", "gguf/model.gguf", "gguf/base/*"]


def stage_data_files(folder: Path, data_files: list[str]) -> list[str]:
    """Copy the datasets into folder/data/ (what a hub dataset viewer and a reader expect)."""
    names: list[str] = []
    for path in data_files:
        src = Path(path)
        if not src.is_file():
            raise InvalidParams(f"data file not found: {path}", param="data_files")
        if src.name in names:
            raise InvalidParams(f"two data files are named {src.name}", param="data_files")
        names.append(src.name)
    target = folder / DATA_FOLDER
    if data_files:
        target.mkdir(exist_ok=True)
    for path in data_files:
        shutil.copyfile(path, target / Path(path).name)
    return [f"{DATA_FOLDER}/{n}" for n in names]


def push_folder(
    folder: Path,
    repo_id: str,
    *,
    endpoint: str | None = None,
    private: bool = False,
    data_files: list[str] | None = None,
    commit_message: str | None = None,
) -> dict[str, Any]:
    import httpx
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    staged = stage_data_files(folder, data_files or [])
    api = HfApi(endpoint=endpoint)
    try:
        repo = api.create_repo(repo_id, private=private, exist_ok=True)
        info = api.upload_folder(
            repo_id=repo_id,
            folder_path=str(folder),
            commit_message=commit_message or "Character Studio export",
            ignore_patterns=LEFT_OUT,
        )
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        raise UploadFailed(f"pushing to {repo_id} failed: {exc}", repo_id=repo_id, status=status) from exc
    except (OSError, httpx.HTTPError) as exc:  # connection refused, DNS, TLS
        raise UploadFailed(f"pushing to {repo_id} failed: {exc}", repo_id=repo_id, status=None) from exc
    uploaded = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and not any(p.relative_to(folder).match(pattern) for pattern in LEFT_OUT)
    )
    return {
        "repo_id": repo_id,
        "url": str(repo),
        "commit": info.oid,
        "files": uploaded,
        "data_files": staged,
    }
