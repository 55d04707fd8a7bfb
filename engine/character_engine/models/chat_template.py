"""How a model's tokenizer renders a chat, and which tokens end the assistant's turn.

What the student sees where the teacher had the constitution: NOTHING of its own. Some chat
templates write a default identity into every conversation that has no system turn (SmolLM2's
"You are a helpful AI assistant named SmolLM, trained by Hugging Face"); a student trained and
chatted with behind that line learns the character against an instruction that it is SmolLM,
and says so. So a conversation without a system prompt (the student's and the base's, in
training, evaluation, chat, serve-model and every export) gets an EMPTY system turn wherever
the template would inject its default, and nothing where it injects none. `context_messages`
is the one place that decides; `default_system_prompt` names what a template injects.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidParams

STOP_TOKEN_STRINGS = ("<|im_end|>", "<|eot_id|>", "<|endoftext|>", "<end_of_turn>", "</s>")


EMPTY_SYSTEM: dict[str, str] = {"role": "system", "content": ""}
_PROBE = "\u2063Zq\u2063"  # an invisible marker no template writes itself
_DEFAULT_ATTR = "_studio_default_system"  # detection cached on the tokenizer object itself


def chat_messages(system: str | None, messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """The turns as given: the system prompt (if any) first. Use `context_messages` for what a
    model is shown."""
    return ([{"role": "system", "content": system}] if system else []) + list(messages)


def default_system_prompt(tokenizer: Any) -> str | None:
    """The text a chat template injects when a conversation has no system turn (None when it
    injects nothing, or the tokenizer has no template). Found by rendering one user turn with
    no system turn and with an empty one: a template that injects nothing renders both alike
    (or drops the empty turn); one that injects a default differs by exactly that text."""
    cached = getattr(tokenizer, _DEFAULT_ATTR, False)
    if cached is not False:
        return cached
    found: str | None = None
    if getattr(tokenizer, "chat_template", None):
        user = [{"role": "user", "content": _PROBE}]
        bare = tokenizer.apply_chat_template(user, tokenize=False, add_generation_prompt=True)
        empty = tokenizer.apply_chat_template(
            [EMPTY_SYSTEM, *user], tokenize=False, add_generation_prompt=True
        )
        if isinstance(bare, str) and isinstance(empty, str) and bare != empty:
            head = bare.split(_PROBE, 1)[0]
            empty_head = empty.split(_PROBE, 1)[0]
            # The injected text is what the bare render holds beyond the empty-system one.
            i = 0
            while i < min(len(head), len(empty_head)) and head[i] == empty_head[i]:
                i += 1
            j = 0
            while j < min(len(head), len(empty_head)) - i and head[-1 - j] == empty_head[-1 - j]:
                j += 1
            found = head[i : len(head) - j] or None
    try:
        setattr(tokenizer, _DEFAULT_ATTR, found)
    except AttributeError:  # a tokenizer that refuses attributes is just probed again
        pass
    return found


def context_messages(
    tokenizer: Any, system: str | None, messages: list[dict[str, str]]
) -> list[dict[str, str]]:
    """The turns a model is shown: the system prompt when one is given (the teacher); without
    one (student, base), an empty system turn where the template would inject its default
    identity, else nothing. A conversation that already starts with a system turn is kept."""
    if system:
        return chat_messages(system, messages)
    if messages and messages[0].get("role") == "system":
        return list(messages)
    if default_system_prompt(tokenizer) is not None:
        return [dict(EMPTY_SYSTEM), *messages]
    return list(messages)


def student_chat_template(tokenizer: Any) -> str | None:
    """The tokenizer's chat template with its injected default identity removed, so that a client
    sending no system turn (transformers, vLLM, llama.cpp with this file) renders exactly the
    student's context; the template unchanged where it injects nothing; None when the default
    cannot be removed safely (then clients must send an empty system turn themselves)."""
    template = getattr(tokenizer, "chat_template", None)
    if not isinstance(template, str) or not template:
        return None
    default = default_system_prompt(tokenizer)
    if default is None:
        return template
    if default not in template:
        return None
    patched = template.replace(default, "")
    user = [{"role": "user", "content": _PROBE}]
    want = tokenizer.apply_chat_template(
        context_messages(tokenizer, None, user), tokenize=False, add_generation_prompt=True
    )
    got = tokenizer.apply_chat_template(
        user, chat_template=patched, tokenize=False, add_generation_prompt=True
    )
    return patched if got == want else None


def render_chat(
    tokenizer: Any, system: str | None, messages: list[dict[str, str]], add_generation_prompt: bool = True
) -> str:
    """The chat as the model sees it. Tokenizers without a template get a plain transcript."""
    chat = context_messages(tokenizer, system, messages)
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


def end_of_turn_id(tokenizer: Any) -> int:
    """The token that ends an assistant turn: the tokenizer's eos, else the first of the
    usual end-of-turn tokens in its vocabulary."""
    if tokenizer.eos_token_id is not None:
        return int(tokenizer.eos_token_id)
    vocab = tokenizer.get_vocab()
    for s in STOP_TOKEN_STRINGS:
        if s in vocab:
            return int(vocab[s])
    raise InvalidParams(
        "this tokenizer names no end-of-turn token (no eos_token, none of "
        + ", ".join(STOP_TOKEN_STRINGS)
        + ")",
        param="model",
    )


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
