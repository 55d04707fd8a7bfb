"""Export a trained adapter for use outside Character Studio.

`export_adapter` (the export_adapter method, handlers/export.py) writes into output_dir:

  adapter_model.safetensors, adapter_config.json   the PEFT adapter (no optimizer state), its
                                                   config without fields older peft rejects
  README.md, card.json                             model card: exactly which base and how to
                                                   get it elsewhere, data, hyperparameters,
                                                   metrics, files, minimum versions
  deploy_example.py                                standalone: base + adapter, answers WITHOUT
                                                   a system prompt (base.py, deploy.py)
  base/                                            the base's config.json and tokenizer, no
                                                   weights (llama.cpp's converter needs them)
  gguf/adapter.gguf, Modelfile (gguf=true)         GGUF LoRA and an Ollama Modelfile
  gguf/base/<file>.gguf (gguf=true, GGUF base)     the base the LoRA applies to (a hard link
                                                   where it can, else a copy), so the Modelfile
                                                   and llama.cpp need nothing outside the folder
                                                   (not pushed to the hub: push.py)
  merged/ (merged=true)                            base + adapter merged, safetensors, readable
                                                   by transformers 4.x and 5.x (merged.py)
  gguf/model.gguf (merged and gguf)                the merged model as one F32 GGUF

Files an earlier export wrote are replaced only with overwrite=true; a folder holding anything
else is refused, so an export never mixes into unrelated files.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..context import RequestContext
from ..errors import InvalidParams, UnsupportedArchitecture
from ..models.chat_template import default_system_prompt, student_chat_template
from .base import base_description, portable_adapter_config
from .card import render_card
from .deploy import render_deploy_example
from .gguf_convert import write_lora_gguf, write_model_gguf
from .merged import merge_adapter, save_base_files, write_student_template
from .modelfile import render_modelfile

__all__ = [
    "ADAPTER_FILES",
    "ExportOptions",
    "base_description",
    "export_adapter",
    "merge_adapter",
    "prepare_output_dir",
    "render_card",
    "render_deploy_example",
]

ADAPTER_FILES = ("adapter_model.safetensors", "adapter_config.json")
# What an export writes at the top of its folder; overwrite replaces these and nothing else.
EXPORT_ENTRIES = (*ADAPTER_FILES, "README.md", "card.json", "deploy_example.py", "Modelfile")
EXPORT_FOLDERS = ("base", "gguf", "merged", "merged.tmp", "data")


@dataclass(frozen=True)
class ExportOptions:
    merged: bool = False
    gguf: bool = False
    overwrite: bool = False


def prepare_output_dir(out: Path, overwrite: bool) -> None:
    """Create out, or clear an earlier export in it when overwrite; InvalidParams naming
    output_dir for a path the system refuses (NUL, too long, /proc...) or a non-empty folder."""
    if "\x00" in str(out):
        raise InvalidParams("'output_dir' contains a NUL character", param="output_dir")
    try:
        if out.exists() and not out.is_dir():
            raise InvalidParams(f"'output_dir' is a file: {out}", param="output_dir")
        if out.is_dir() and any(out.iterdir()):
            if not overwrite:
                raise InvalidParams(
                    f"'output_dir' is not empty: {out} (overwrite replaces an earlier export)",
                    param="output_dir",
                    reason="not_empty",
                )
            for name in EXPORT_ENTRIES:
                (out / name).unlink(missing_ok=True)
            for name in EXPORT_FOLDERS:
                if (out / name).is_dir():
                    shutil.rmtree(out / name)
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InvalidParams(
            f"cannot write the export to 'output_dir' {str(out)[:200]}: {exc.strerror or exc}",
            param="output_dir",
            errno=exc.errno,
        ) from exc


def _training_config(adapter: Path) -> dict[str, Any]:
    state = adapter / "trainer_state.json"
    if state.is_file():
        try:
            return json.loads(state.read_text(encoding="utf-8"))
        except ValueError:
            return {}
    return {}


def _base_config_and_tokenizer(spec: dict[str, Any], base: dict[str, Any]) -> tuple[Any, Any]:
    """The base's config and tokenizer without loading its weights."""
    from transformers import AutoConfig, AutoTokenizer

    if spec["source"] == "hub":
        from ..models.loaders.hub import download_repo

        folder = download_repo(
            spec["repo_id"], spec.get("revision") or "main", spec.get("endpoint"), spec.get("cache_dir")
        )
        return AutoConfig.from_pretrained(folder), AutoTokenizer.from_pretrained(folder)
    kwargs = {"gguf_file": base["gguf_file"]} if base.get("gguf_file") else {}
    return (
        AutoConfig.from_pretrained(base["folder"], **kwargs),
        AutoTokenizer.from_pretrained(base["folder"], **kwargs),
    )


def export_adapter(
    spec: dict[str, Any],
    src: Path,
    out: Path,
    options: ExportOptions,
    card: dict[str, Any],
    ctx: RequestContext,
) -> dict[str, Any]:
    """Write the export of the adapter folder `src` (checked by the caller) into `out`."""
    prepare_output_dir(out, options.overwrite)
    steps = 3 + int(options.merged) + int(options.gguf)
    ctx.progress("export", 0, steps, "copying the adapter")
    base = base_description(spec)
    shutil.copyfile(src / "adapter_model.safetensors", out / "adapter_model.safetensors")
    raw_cfg = json.loads((src / "adapter_config.json").read_text(encoding="utf-8"))
    adapter_cfg = portable_adapter_config(raw_cfg, base)
    (out / "adapter_config.json").write_text(json.dumps(adapter_cfg, indent=2) + "\n", encoding="utf-8")
    files = [str(out / name) for name in ADAPTER_FILES]
    config, tokenizer = _base_config_and_tokenizer(spec, base)
    files += save_base_files(config, tokenizer, out / "base")
    notes: list[str] = []
    # What the student saw in training: its chat template without the injected default identity
    # (models/chat_template.py). The merged model carries it; llama.cpp and vLLM can load the file.
    default_identity = default_system_prompt(tokenizer)
    student_template = student_chat_template(tokenizer)
    if student_template is not None:
        (out / "chat_template.jinja").write_text(student_template, encoding="utf-8")
        files.append(str(out / "chat_template.jinja"))
    elif default_identity is not None:
        notes.append(
            f"the chat template injects {default_identity!r} and could not be patched: send an empty "
            "system turn with every conversation, as the student saw in training"
        )
    made: dict[str, str | None] = {"adapter": "yes", "deploy_example": "yes", "base_config": "yes"}

    step = 1
    gguf_lora: Path | None = None
    if options.gguf:
        ctx.check_cancel()
        ctx.progress("export", step, steps, "writing the GGUF LoRA")
        step += 1
        try:
            gguf_lora = out / "gguf" / "adapter.gguf"
            write_lora_gguf(out, config.to_dict(), gguf_lora, f"{base['name']} LoRA")
            files.append(str(gguf_lora))
            made["gguf_lora"] = str(gguf_lora)
        except UnsupportedArchitecture as exc:
            gguf_lora = None
            notes.append(f"no GGUF files: {exc.message}")

    merged_dir: str | None = None
    gguf_model: Path | None = None
    if options.merged:
        ctx.check_cancel()
        ctx.progress("export", step, steps, "merging the adapter into the base model")
        step += 1
        merged_dir = str(out / "merged")
        files += merge_adapter(spec, str(src), merged_dir)
        if student_template is not None:
            files += write_student_template(Path(merged_dir), student_template)
        made["merged"] = merged_dir
        if gguf_lora is not None:
            gguf_model = out / "gguf" / "model.gguf"
            base_gguf = str(Path(base["folder"]) / base["gguf_file"]) if base.get("gguf_file") else None
            write_model_gguf(Path(merged_dir), gguf_model, f"{base['name']} + character", base_gguf)
            files.append(str(gguf_model))
            made["gguf_model"] = str(gguf_model)

    ctx.progress("export", step, steps, "writing the model card, deploy example and Modelfile")
    title = str(card.get("title") or card.get("name") or "the character adapter")
    base_gguf: Path | None = None
    if gguf_lora is not None and base.get("gguf_file"):
        base_gguf = _bundle_base_gguf(base, out / "gguf" / "base")
        files.append(str(base_gguf))
        made["base_gguf"] = str(base_gguf)
    modelfile = _write_modelfile(out, base, gguf_lora, gguf_model, tokenizer, title, base_gguf)
    if modelfile:
        files.append(modelfile)
        made["modelfile"] = modelfile
    state = _training_config(src)
    (out / "README.md").write_text(render_card(base, adapter_cfg, state, card, made), encoding="utf-8")
    card_json = {
        "base": base,
        "lora": adapter_cfg,
        "peft_version": raw_cfg.get("peft_version"),
        "training": state,
        "card": card,
        "files": made,
        "notes": notes,
        "student_context": {
            "template_default_identity": default_identity,
            "student_sees": "an empty system turn" if default_identity is not None else "no system turn",
        },
    }
    (out / "card.json").write_text(json.dumps(card_json, indent=2, default=str), encoding="utf-8")
    (out / "deploy_example.py").write_text(
        render_deploy_example(base, empty_system_turn=default_identity is not None), encoding="utf-8"
    )
    files += [str(out / "README.md"), str(out / "card.json"), str(out / "deploy_example.py")]
    ctx.progress("export", steps, steps)
    return {
        "output_dir": str(out),
        "files": files,
        "merged_dir": merged_dir,
        "gguf_lora": str(gguf_lora) if gguf_lora else None,
        "gguf_model": str(gguf_model) if gguf_model else None,
        "base_gguf": str(base_gguf) if base_gguf else None,
        "modelfile": modelfile,
        "base": base,
        "notes": notes,
    }


def _bundle_base_gguf(base: dict[str, Any], folder: Path) -> Path:
    """The base GGUF inside the export (gguf/base/<its file name>): the embedded model lives in the
    exporting clone's venv, so a Modelfile or llama.cpp command naming it there breaks once the
    folder is copied. A hard link costs no space; across file systems it is copied."""
    source = Path(base["folder"]) / base["gguf_file"]
    target = folder / base["gguf_file"]
    folder.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
    return target


def _write_modelfile(
    out: Path,
    base: dict[str, Any],
    gguf_lora: Path | None,
    gguf_model: Path | None,
    tokenizer: Any,
    title: str,
    base_gguf: Path | None = None,
) -> str | None:
    """FROM the base + ADAPTER the GGUF LoRA; FROM the merged GGUF when the base is a hub repo
    (Ollama reads neither a hub repo nor its cache by name); None when there is neither. A GGUF
    base is the export's own copy (relative FROM); a local folder stays where it is, and the
    Modelfile says to copy it."""
    fetch: str | None = None
    if gguf_lora is not None and base_gguf is not None:
        from_path, adapter = str(base_gguf), str(gguf_lora)
    elif gguf_lora is not None and base["source"] == "local":
        from_path, adapter = base["folder"], str(gguf_lora)
        fetch = (
            "FROM is the base's folder on the exporting machine: on another machine copy that folder "
            "and change FROM to where it lies"
        )
    elif gguf_model is not None:
        from_path, adapter = str(gguf_model), None
    else:
        return None
    path = out / "Modelfile"
    text = render_modelfile(from_path, adapter, str(out), tokenizer, title, fetch)
    path.write_text(text, encoding="utf-8")
    return str(path)
