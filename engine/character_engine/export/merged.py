"""The base with the adapter merged in, saved as safetensors with its tokenizer, in files that
transformers 4.x reads as well as 5.x.

transformers 5 writes rope_theta inside rope_parameters and names the tokenizer class
TokenizersBackend; 4.57 then reads rope_theta as its default 10000 (SmolLM2 needs 100000) and
cannot find the tokenizer class, and releases before ~4.50 do not read chat_template.jinja;
tokenizers before 0.20 (what transformers 4.44 needs) read BPE merges only as "a b" strings,
and PreTrainedTokenizerFast in 4.x returns token_type_ids that generate() then rejects.
`make_transformers4_compatible` adds the 4.x spellings beside the 5.x ones.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from ..models.cache import load_private
from ..models.loaders.gguf import drop_dequantized_gguf_marker

# transformers 5 generic fast tokenizer -> the class 4.x knows for a tokenizer.json.
TOKENIZER_CLASS_4X = "PreTrainedTokenizerFast"
# tokenizer_config keys transformers 5 writes that 4.x passes to the tokenizer's __init__.
TOKENIZER_KEYS_5X = ("backend", "is_local", "local_files_only")


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
    make_transformers4_compatible(tmp)
    if Path(merged_dir).exists():
        shutil.rmtree(merged_dir)
    os.rename(tmp, merged_dir)
    return sorted(str(p) for p in Path(merged_dir).iterdir() if p.is_file())


def save_base_files(config: Any, tokenizer: Any, folder: Path) -> list[str]:
    """config.json and the tokenizer of the base (no weights): what llama.cpp's
    convert_lora_to_gguf.py --base reads, and a record of the exact architecture."""
    folder.mkdir(parents=True, exist_ok=True)
    config.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    make_transformers4_compatible(folder)
    add_architectures(folder / "config.json")
    return sorted(str(p) for p in folder.iterdir() if p.is_file())


def add_architectures(config_path: Path) -> None:
    """`architectures` where the config has none: a config read from a GGUF file (the embedded
    SmolLM2) lacks it, and llama.cpp's convert_lora_to_gguf.py --base picks its model class by
    architectures[0] and stops without it. The class is transformers' causal-LM class for the
    config's model_type (llama -> LlamaForCausalLM)."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    if not config_path.is_file():
        return
    config = json.loads(config_path.read_text(encoding="utf-8"))
    if config.get("architectures"):
        return
    name = MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.get(str(config.get("model_type")))
    if not name:
        return
    config["architectures"] = [name]
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def make_transformers4_compatible(folder: Path) -> None:
    config_path = folder / "config.json"
    if config_path.is_file():
        config = json.loads(config_path.read_text(encoding="utf-8"))
        rope = config.get("rope_parameters")
        if isinstance(rope, dict):
            if "rope_theta" in rope:
                config.setdefault("rope_theta", rope["rope_theta"])
            if rope.get("rope_type", "default") == "default":
                config.setdefault("rope_scaling", None)
            else:
                config.setdefault("rope_scaling", {k: v for k, v in rope.items() if k != "rope_theta"})
        if "dtype" in config:
            config.setdefault("torch_dtype", config["dtype"])
        config.pop("quantization_config", None)
        config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tok_path = folder / "tokenizer_config.json"
    if tok_path.is_file():
        tok = json.loads(tok_path.read_text(encoding="utf-8"))
        if tok.get("tokenizer_class") in (None, "TokenizersBackend"):
            tok["tokenizer_class"] = TOKENIZER_CLASS_4X
        for key in TOKENIZER_KEYS_5X:
            tok.pop(key, None)
        extra = tok.get("extra_special_tokens")
        if isinstance(extra, list):  # 4.x expects a name -> token mapping here
            tok.pop("extra_special_tokens")
            tok["additional_special_tokens"] = extra
        template = folder / "chat_template.jinja"
        if template.is_file() and "chat_template" not in tok:
            tok["chat_template"] = template.read_text(encoding="utf-8")
        tok.setdefault("model_input_names", ["input_ids", "attention_mask"])
        tok_path.write_text(json.dumps(tok, indent=2) + "\n", encoding="utf-8")
    _old_tokenizers_merges(folder / "tokenizer.json")


def write_student_template(folder: Path, template: str) -> list[str]:
    """The student's chat template (no injected default identity) as the merged model's own, in
    tokenizer_config.json and chat_template.jinja, so a client sending no system turn renders
    what the student saw in training."""
    written = []
    tok_path = folder / "tokenizer_config.json"
    if tok_path.is_file():
        tok = json.loads(tok_path.read_text(encoding="utf-8"))
        tok["chat_template"] = template
        tok_path.write_text(json.dumps(tok, indent=2) + "\n", encoding="utf-8")
        written.append(str(tok_path))
    jinja = folder / "chat_template.jinja"
    jinja.write_text(template, encoding="utf-8")
    written.append(str(jinja))
    return written


def _old_tokenizers_merges(path: Path) -> None:
    """BPE merges as "a b" strings (every tokenizers release reads them) instead of pairs
    (0.20 and later only), when no merged token contains a space; drop ignore_merges=false
    (0.20's field, false being the older releases' behaviour)."""
    if not path.is_file():
        return
    data = json.loads(path.read_text(encoding="utf-8"))
    model = data.get("model") or {}
    merges = model.get("merges")
    if model.get("type") != "BPE" or not isinstance(merges, list):
        return
    if merges and isinstance(merges[0], list):
        if any(" " in part for pair in merges for part in pair):
            return
        model["merges"] = [" ".join(pair) for pair in merges]
    if model.get("ignore_merges") is False:
        del model["ignore_merges"]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
