"""An Ollama Modelfile for the export: FROM the base the adapter was trained on, ADAPTER the
GGUF LoRA, and for ChatML chat templates (SmolLM2, Qwen, the tiny test models) a TEMPLATE
that renders a conversation as the student saw it in training: where the tokenizer's
template inserts a default system message when there is none (SmolLM2's "You are ...
SmolLM"), an EMPTY system turn instead (models/chat_template.py). Paths are relative to the Modelfile where they lie inside the export folder.
"""

from __future__ import annotations

import os
from typing import Any

CHATML_START, CHATML_END = "<|im_start|>", "<|im_end|>"
_PROBE = "\u2063probe\u2063"  # an invisible marker that no template produces itself


def default_system_message(tokenizer: Any) -> str | None:
    """The system message a ChatML template adds when the conversation has none; None when it
    adds nothing. Raises ValueError when the template does not render ChatML."""
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": _PROBE}], tokenize=False, add_generation_prompt=True
    )
    expected_turn = f"{CHATML_START}user\n{_PROBE}{CHATML_END}\n{CHATML_START}assistant\n"
    if not text.endswith(expected_turn):
        raise ValueError("not a ChatML chat template")
    head = text[: -len(expected_turn)]
    if not head:
        return None
    prefix, suffix = f"{CHATML_START}system\n", f"{CHATML_END}\n"
    if head.startswith(prefix) and head.endswith(suffix):
        return head[len(prefix) : -len(suffix)]
    raise ValueError("unexpected text before the first turn")


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
    from_path: str, adapter_path: str | None, folder: str, tokenizer: Any, title: str
) -> str:
    lines = [
        f"# Ollama Modelfile for {title}, written by Character Studio's export.",
        "# ollama create character -f Modelfile && ollama run character",
        "# FROM is the base model the adapter was trained on; ADAPTER is the LoRA (GGUF).",
        f"FROM {_rel(from_path, folder)}",
    ]
    if adapter_path:
        lines.append(f"ADAPTER {_rel(adapter_path, folder)}")
    try:
        template = chatml_template(default_system_message(tokenizer))
    except (ValueError, TypeError, AttributeError):
        lines.append("# The chat template is not ChatML: Ollama takes it from the model's metadata.")
    else:
        lines.append(f'TEMPLATE """{template}"""')
        lines.append(f'PARAMETER stop "{CHATML_END}"')
    return "\n".join(lines) + "\n"
