"""deploy_example.py: a standalone script in the export folder that loads the base model and the
adapter next to it and answers WITHOUT a system prompt. It needs only torch, transformers,
peft (and gguf for a GGUF base), never this checkout: the base is found from --base, the
CHARACTER_BASE_MODEL variable, the export's own copy of a GGUF base (gguf/base/), the installed
package that ships it, or where it was on the exporting machine, in that order."""

from __future__ import annotations

import pprint
from typing import Any

from .base import base_install_lines

DEPLOY_TEMPLATE = '''"""Answer a question with the exported character adapter, WITHOUT any system prompt.

Usage: python deploy_example.py [--base PATH] [--max-new-tokens N] "What is music to you?"
Needs: torch, transformers, peft{gguf_note}. Written by Character Studio's export.

The base model ({name}):
{how_to_get}
"""

import argparse
import hashlib
import importlib.util
import os
import sys

import torch
import transformers
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))  # the adapter files sit next to this script
BASE = {base}


def find_base(explicit):
    """(folder or hub repo id, GGUF file name or None) of the base model."""
    path = explicit or os.environ.get("CHARACTER_BASE_MODEL")
    gguf_file = BASE.get("gguf_file")
    if path:
        path = os.path.abspath(os.path.expanduser(path))
        if os.path.isfile(path):
            return os.path.dirname(path), os.path.basename(path)
        if os.path.isdir(path):
            return path, gguf_file if gguf_file and os.path.isfile(os.path.join(path, gguf_file)) else None
        sys.exit("base model not found: " + path)
    bundled = os.path.join(HERE, "gguf", "base")  # the export's own copy of a GGUF base
    if gguf_file and os.path.isfile(os.path.join(bundled, gguf_file)):
        return bundled, gguf_file
    if BASE.get("package"):
        spec = importlib.util.find_spec(BASE["package"].replace("-", "_"))
        if spec is not None and spec.submodule_search_locations:
            folder = list(spec.submodule_search_locations)[0]
            if os.path.isfile(os.path.join(folder, gguf_file)):
                return folder, gguf_file
    if gguf_file and os.path.isfile(os.path.join(BASE["folder"], gguf_file)):
        return BASE["folder"], gguf_file
    if BASE["source"] == "local" and os.path.isdir(BASE["folder"]):
        return BASE["folder"], None
    if BASE["source"] == "hub":
        return BASE["hub_repo"], None
    sys.exit("The base model this adapter needs was not found (" + BASE["name"] + "). " + BASE["how_to_get"])


def check_file(folder, gguf_file):
    if not (gguf_file and BASE.get("sha256")):
        return
    digest = hashlib.sha256()
    with open(os.path.join(folder, gguf_file), "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != BASE["sha256"]:
        print("warning: " + gguf_file + " is not the file the adapter was trained on (sha256 differs)", file=sys.stderr)


def load(base_path=None):
    folder, gguf_file = find_base(base_path)
    check_file(folder, gguf_file)
    kwargs = {{"gguf_file": gguf_file}} if gguf_file else {{}}
    if BASE["source"] == "hub" and folder == BASE["hub_repo"]:
        kwargs["revision"] = BASE.get("revision") or "main"
    tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
    # transformers 5 names the argument dtype; 4.x torch_dtype.
    dtype_arg = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
    kwargs[dtype_arg] = torch.float32
    base = AutoModelForCausalLM.from_pretrained(folder, **kwargs)
    model = PeftModel.from_pretrained(base, HERE)
    model.eval()
    return model, tokenizer


# What the student saw in training: {context_note}
CONTEXT = {context}


def answer(model, tokenizer, question, max_new_tokens=128):
    messages = CONTEXT + [{{"role": "user", "content": question}}]  # no system prompt: the adapter carries the character
    inputs = tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Ask the exported character a question.")
    parser.add_argument("question", nargs="*")
    parser.add_argument("--base", help="the base model: a GGUF file or a Hugging Face folder")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    args = parser.parse_args()
    question = " ".join(args.question) or "Who are you, and what does music mean to you?"
    model, tokenizer = load(args.base)
    print(answer(model, tokenizer, question, args.max_new_tokens))
'''


def render_deploy_example(base: dict[str, Any], empty_system_turn: bool = False) -> str:
    """`empty_system_turn`: the base's template injects a default identity where a chat has no
    system turn, so the student was trained behind an empty one (models/chat_template.py)."""
    how = base_install_lines(base)
    embedded = {
        k: base.get(k)
        for k in ("source", "name", "folder", "gguf_file", "sha256", "package", "hub_repo", "revision")
    }
    embedded["how_to_get"] = "; ".join(line.replace("`", "") for line in how)
    return DEPLOY_TEMPLATE.format(
        name=base["name"],
        how_to_get="\n".join(f"- {line.replace('`', '')}" for line in how),
        base=pprint.pformat(embedded, indent=4, width=100, sort_dicts=False),
        gguf_note=", gguf" if base.get("gguf_file") else "",
        context='[{"role": "system", "content": ""}]' if empty_system_turn else "[]",
        context_note=(
            "an empty system turn (the base's template would otherwise inject its own default identity)"
            if empty_system_turn
            else "no system turn"
        ),
    )
