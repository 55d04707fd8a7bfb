"""How a model's tokenizer renders a chat, and which tokens end the assistant's turn."""

from __future__ import annotations

from typing import Any

STOP_TOKEN_STRINGS = ("<|im_end|>", "<|eot_id|>", "<|endoftext|>", "<end_of_turn>", "</s>")


def chat_messages(system: str | None, messages: list[dict[str, str]]) -> list[dict[str, str]]:
    return ([{"role": "system", "content": system}] if system else []) + list(messages)


def render_chat(
    tokenizer: Any, system: str | None, messages: list[dict[str, str]], add_generation_prompt: bool = True
) -> str:
    """The chat as the model sees it. Tokenizers without a template get a plain transcript."""
    chat = chat_messages(system, messages)
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(
            chat, tokenize=False, add_generation_prompt=add_generation_prompt
        )
    lines = [f"{m['role'].capitalize()}: {m['content']}" for m in chat]
    if add_generation_prompt:
        lines.append("Assistant:")
    return "\n".join(lines)


def encode(tokenizer: Any, text: str) -> list[int]:
    # The chat template already writes BOS/role tokens; adding specials would double them.
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def prompt_ids(tokenizer: Any, system: str | None, messages: list[dict[str, str]]) -> list[int]:
    return encode(tokenizer, render_chat(tokenizer, system, messages, add_generation_prompt=True))


def stop_token_ids(model: Any, tokenizer: Any) -> set[int]:
    ids: set[int] = set()
    if tokenizer.eos_token_id is not None:
        ids.add(int(tokenizer.eos_token_id))
    gen_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if isinstance(gen_eos, int):
        ids.add(gen_eos)
    elif isinstance(gen_eos, (list, tuple)):
        ids.update(int(i) for i in gen_eos)
    vocab = tokenizer.get_vocab()
    for s in STOP_TOKEN_STRINGS:
        if s in vocab:
            ids.add(int(vocab[s]))
    return ids
