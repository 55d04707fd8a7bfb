"""An Ollama Modelfile for the export: FROM the base the adapter was trained on, ADAPTER the
GGUF LoRA, and for ChatML chat templates (SmolLM2, Qwen, the tiny test models) a TEMPLATE
that renders a conversation as the student saw it in training: where the tokenizer's
template inserts a default system message when there is none (SmolLM2's "You are ...
SmolLM"), an EMPTY system turn instead (models/chat_template.py). Paths are relative to the Modelfile where they lie inside the export folder.
"""

from __future__ import annotations

import os
from typing import Any

from ..models.chat_template import default_system_prompt

CHATML_START, CHATML_END = "<|im_start|>", "<|im_end|>"
_PROBE = "\u2063probe\u2063"  # an invisible marker that no template produces itself


def check_chatml(tokenizer: Any) -> None:
    """Raises ValueError when the tokenizer's template does not render a user turn as ChatML."""
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": _PROBE}], tokenize=False, add_generation_prompt=True
    )
    if not text.endswith(f"{CHATML_START}user\n{_PROBE}{CHATML_END}\n{CHATML_START}assistant\n"):
        raise ValueError("not a ChatML chat template")


def chatml_template(default_system: str | None) -> str:
    """Ollama's Go template for ChatML (one line per Modelfile line; newlines are literal). A
    template that injects a default identity gets an empty system turn in its place: the
    student's context."""
    system = (
        f"{{{{ if not .System }}}}{CHATML_START}system\n{CHATML_END}\n{{{{ end }}}}" if default_system else ""
    )
    return (
        system + f"{{{{ range .Messages }}}}{CHATML_START}{{{{ .Role }}}}\n{{{{ .Content }}}}{CHATML_END}\n"
        f"{{{{ end }}}}{CHATML_START}assistant\n"
    )


def _rel(path: str, folder: str) -> str:
    """./relative when path lies inside folder, else absolute."""
    absolute, root = os.path.abspath(path), os.path.abspath(folder)
    if os.path.commonpath([absolute, root]) == root:
        return "./" + os.path.relpath(absolute, root).replace(os.sep, "/")
    return absolute


def render_modelfile(
    from_path: str,
    adapter_path: str | None,
    folder: str,
    tokenizer: Any,
    title: str,
    fetch: str | None = None,
) -> str:
    """`fetch`: what to get on another machine when FROM lies outside the export folder."""
    lines = [
        f"# Ollama Modelfile for {title}, written by Character Studio's export.",
        "# Get Ollama from https://ollama.com/download, then, in this folder:",
        "# ollama create character -f Modelfile && ollama run character",
        "# FROM is the base model the adapter was trained on; ADAPTER is the LoRA (GGUF).",
        *([f"# {fetch}."] if fetch else []),
        f"FROM {_rel(from_path, folder)}",
    ]
    if adapter_path:
        lines.append(f"ADAPTER {_rel(adapter_path, folder)}")
    try:
        check_chatml(tokenizer)
        # What the template injects without a system turn: found where every other path finds it.
        template = chatml_template(default_system_prompt(tokenizer))
    except (ValueError, TypeError, AttributeError):
        lines.append("# The chat template is not ChatML: Ollama takes it from the model's metadata.")
    else:
        lines.append(f'TEMPLATE """{template}"""')
        lines.append(f'PARAMETER stop "{CHATML_END}"')
    return "\n".join(lines) + "\n"
