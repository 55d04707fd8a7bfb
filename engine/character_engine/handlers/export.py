"""export_adapter, push_to_hub and export_modal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..context import RequestContext
from ..errors import InvalidParams, ModelLoadFailed, ModelNotFound
from ..export import ADAPTER_FILES, ExportOptions, export_adapter
from ..export.push import push_folder
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
    flags = {name: params.get(name, False) for name in ("merged", "gguf", "overwrite")}
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise InvalidParams(f"'{name}' must be a boolean", param=name)
    card = params.get("card") or {}
    if not isinstance(card, dict):
        raise InvalidParams("'card' must be an object", param="card")
    if "\x00" in output_dir:
        raise InvalidParams("'output_dir' contains a NUL character", param="output_dir")
    out = Path(output_dir)
    try:
        same = out.resolve() == src.resolve()
    except OSError as exc:  # a name too long, a loop of links
        raise InvalidParams(
            f"'output_dir' is not a usable path: {exc.strerror or exc}", param="output_dir"
        ) from exc
    if same:
        raise InvalidParams("'output_dir' must differ from the adapter folder", param="output_dir")
    return export_adapter(spec, src, out, ExportOptions(**flags), card, ctx)


def handle_push_to_hub(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    folder = params.get("folder")
    if not isinstance(folder, str) or not Path(folder).is_dir():
        raise InvalidParams("'folder' must be an export folder", param="folder")
    missing = [f for f in ADAPTER_FILES if not (Path(folder) / f).is_file()]
    if missing:
        raise InvalidParams(
            f"{folder} is not an export folder (missing {', '.join(missing)})", param="folder"
        )
    repo_id = params.get("repo_id")
    if not isinstance(repo_id, str) or repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise InvalidParams("'repo_id' must look like 'owner/name'", param="repo_id")
    data_files = params.get("data_files") or []
    if not isinstance(data_files, list) or not all(isinstance(f, str) for f in data_files):
        raise InvalidParams("'data_files' must be a list of file paths", param="data_files")
    endpoint = params.get("endpoint")
    if endpoint is not None and not isinstance(endpoint, str):
        raise InvalidParams("'endpoint' must be a URL", param="endpoint")
    private = params.get("private", False)
    if not isinstance(private, bool):
        raise InvalidParams("'private' must be a boolean", param="private")
    ctx.progress("push", 0, 1, f"pushing {folder} to {repo_id}")
    result = push_folder(Path(folder), repo_id, endpoint=endpoint, private=private, data_files=data_files)
    ctx.progress("push", 1, 1)
    return result


def handle_export_modal(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    """A Modal app (vLLM, OpenAI-compatible) for an export folder that holds the merged model."""
    from ..export.modal_app import write_modal_app

    values = {}
    for name in ("output_dir", "gpu", "app_name", "served_model_name"):
        value = params.get(name)
        if not isinstance(value, str) or not value:
            raise InvalidParams(f"'{name}' must be a non-empty string", param=name)
        values[name] = value
    return write_modal_app(**values)
