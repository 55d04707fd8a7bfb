"""README.md of an export folder: the model card (base, data, LoRA, hyperparameters, metrics,
the files and how to use each of them)."""

from __future__ import annotations

import json
from typing import Any

from .base import MIN_VERSIONS, base_install_lines


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return "`" + json.dumps(value, ensure_ascii=False) + "`"
    return str(value)


def _table(data: dict[str, Any]) -> str:
    if not data:
        return "_none recorded_\n"
    rows = ["| key | value |", "| --- | --- |"]
    rows += [f"| {k} | {_fmt(v).replace('|', '/')} |" for k, v in data.items()]
    return "\n".join(rows) + "\n"


def _load_line(base: dict[str, Any]) -> str:
    if base.get("gguf_file"):
        return f"`AutoModelForCausalLM.from_pretrained(FOLDER, gguf_file={base['gguf_file']!r})`"
    return f"`AutoModelForCausalLM.from_pretrained({base['folder']!r})`"


def _files_section(files: dict[str, str | None]) -> str:
    described = {
        "adapter": "adapter_model.safetensors + adapter_config.json: the PEFT LoRA adapter",
        "deploy_example": "deploy_example.py: loads the base and this adapter, answers without a system prompt",
        "base_config": "base/: the base model's config.json and tokenizer (no weights), for llama.cpp's "
        "convert_lora_to_gguf.py --base and for reference",
        "gguf_lora": "gguf/adapter.gguf: this adapter as a GGUF LoRA (llama.cpp --lora, Ollama ADAPTER)",
        "base_gguf": "gguf/base/: the GGUF base the LoRA applies to (llama.cpp -m, the Modelfile's FROM)",
        "modelfile": "Modelfile: Ollama (FROM the base + ADAPTER this adapter)",
        "merged": "merged/: the base with the adapter merged in (safetensors + tokenizer); no peft needed",
        "gguf_model": "gguf/model.gguf: the merged model as one F32 GGUF (llama.cpp, Ollama FROM)",
    }
    lines = [f"- {described[k]}" for k, v in files.items() if v and k in described]
    return "\n".join(lines) + "\n"


def render_card(
    base: dict[str, Any],
    adapter_cfg: dict[str, Any],
    state: dict[str, Any],
    card: dict[str, Any],
    files: dict[str, str | None] | None = None,
) -> str:
    title = str(card.get("title") or card.get("name") or "Character adapter")
    description = str(card.get("description") or "")
    hyper = dict(state.get("config") or {})
    for drop in ("model", "output_dir", "resume_from", "train_path", "val_path"):
        hyper.pop(drop, None)
    hyper.update(card.get("hyperparameters") or {})
    lora = {k: adapter_cfg.get(k) for k in ("r", "lora_alpha", "lora_dropout", "target_modules")}
    data = dict(card.get("data") or {})
    if state.get("data_hash"):
        data.setdefault("data_hash (sha256)", state["data_hash"])
    metrics = dict(card.get("metrics") or {})
    known = {"title", "name", "description", "hyperparameters", "data", "metrics"}
    extra = {k: v for k, v in card.items() if k not in known}
    lineage = base.get("hub_repo") or base.get("converted_from")
    front = ["---", "library_name: peft", "tags: [lora, character-studio, prompt-distillation]"]
    if lineage:
        front.append(f"base_model: {lineage}")
    front.append("---")
    gguf = bool(base.get("gguf_file"))
    parts = [
        "\n".join(front),
        f"\n# {title}\n",
        (description + "\n") if description else "",
        "A LoRA adapter made with Character Studio: a teacher answered questions WITH the character's "
        "constitution as system prompt, and this adapter was trained on question -> answer WITHOUT it, "
        "so the character needs no system prompt at inference.\n",
        "\n## Base model\n",
        f"\nThis adapter needs exactly this base: **{base['name']}** — {base.get('note', '')}.\n\n",
        _table({k: v for k, v in base.items() if v is not None and k not in ("folder", "note")}),
        "\nTo get it on another machine:\n\n",
        "".join(f"- {line}\n" for line in base_install_lines(base)),
        f"\nLoad it as {_load_line(base)}, then apply this adapter with `PeftModel.from_pretrained(base, "
        "THIS_FOLDER)`"
        + (" (the adapter was trained on the dequantised GGUF weights)" if gguf else "")
        + ".\n",
        "\n## Files\n\n",
        _files_section(files or {"adapter": "yes", "deploy_example": "yes"}),
        "\n## Versions\n\n",
        f"The adapter loads with peft >= {MIN_VERSIONS['peft']} and transformers >= "
        f"{MIN_VERSIONS['transformers']}; the merged model (if exported) with transformers >= "
        f"{MIN_VERSIONS['transformers']} and no peft"
        + (
            f"; loading the GGUF base needs the `gguf` package and transformers >= "
            f"{MIN_VERSIONS['transformers_gguf_base']} (4.44 cannot dequantise Q4_1)"
            if gguf
            else ""
        )
        + ".\n",
        "\n## Training data\n",
        _table(data),
        "\n## LoRA\n",
        _table(lora),
        "\n## Hyperparameters\n",
        _table(hyper),
        "\n## Metrics\n",
        _table(metrics),
    ]
    if extra:
        parts += ["\n## Other\n", _table(extra)]
    parts += [
        "\n## Usage\n",
        'Run `python deploy_example.py "Your question"` (needs torch, transformers, peft'
        + (", gguf" if gguf else "")
        + "; `--base PATH` points it at the base model when it is elsewhere). It loads the base, applies "
        "this adapter and answers without any system prompt.\n",
    ]
    return "".join(parts)
