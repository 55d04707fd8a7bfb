"""Assistant-only loss masks: token ids plus labels that are -100 except on assistant replies.

The label span of an assistant turn is its content plus the end-of-turn token that closes
it (e.g. `<|im_end|>`), so the student learns to stop. Two ways to find the span:

1. The tokenizer's chat template has `{% generation %}` markers: transformers returns an
   assistant mask (`return_assistant_tokens_mask`); we extend/trim it to the end token.
2. Otherwise (SmolLM2, Qwen, Llama ...): render the conversation up to each assistant
   turn with the generation prompt and check it is a prefix of the full rendering; the
   text after the prefix starts with the assistant content. The rendering is cut into
   prompt / reply segments and each segment is tokenized on its own, so the prompt
   tokens are exactly the ones the model sees at inference (prompt + generation prompt).

Either way the result is VERIFIED: the decoded labelled tokens must equal the assistant
contents followed by their end tokens; otherwise TemplateError says what differed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .chat_template import context_messages

IGNORE_INDEX = -100


class TemplateError(ValueError):
    """The chat template does not let us locate assistant replies reliably."""


@dataclass
class TokenizedConversation:
    input_ids: list[int]
    labels: list[int]
    # Number of tokens before the first labelled token (the prompt part).
    prompt_tokens: int

    @property
    def label_tokens(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE_INDEX)


def _render(tokenizer: Any, messages: list[dict[str, str]], add_generation_prompt: bool) -> str:
    text = tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=add_generation_prompt
    )
    if not isinstance(text, str):  # defensive: some versions return a list for batched input
        raise TemplateError(f"apply_chat_template returned {type(text).__name__}, expected str")
    return text


def _special_strings(tokenizer: Any) -> list[str]:
    """Special token strings, longest first (so '<|im_end|>' wins over '<|im')."""
    found: set[str] = set()
    for tok in getattr(tokenizer, "all_special_tokens", []) or []:
        if tok:
            found.add(str(tok))
    decoder = getattr(tokenizer, "added_tokens_decoder", {}) or {}
    for added in decoder.values():
        if getattr(added, "special", False) and str(added):
            found.add(str(added))
    if tokenizer.eos_token:
        found.add(str(tokenizer.eos_token))
    return sorted(found, key=len, reverse=True)


def _encode(tokenizer: Any, text: str) -> list[int]:
    if not text:
        return []
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def tokenize_conversation(
    tokenizer: Any,
    messages: list[dict[str, str]],
    train_on: str = "all",
) -> TokenizedConversation:
    """input_ids and labels for `messages` (which must contain at least one assistant turn).

    train_on: "all" labels every assistant turn; "last" only the final one (DPO, where
    earlier assistant turns are part of the prompt).
    """
    if train_on not in ("all", "last"):
        raise ValueError("train_on must be 'all' or 'last'")
    # Without a system turn the model sees the student's context (chat_template.py): an empty
    # system turn where the template would inject its default identity.
    messages = context_messages(tokenizer, None, messages)
    assistant_idx = [i for i, m in enumerate(messages) if m.get("role") == "assistant"]
    if not assistant_idx:
        raise TemplateError("the conversation has no assistant message to train on")
    if train_on == "last":
        assistant_idx = assistant_idx[-1:]
    template = getattr(tokenizer, "chat_template", None)
    if not template:
        raise TemplateError("the tokenizer has no chat template")
    if "{% generation %}" in template or "{%- generation %}" in template:
        try:
            result = _with_generation_markers(tokenizer, messages, assistant_idx)
            _verify(tokenizer, result, [messages[i]["content"] for i in assistant_idx])
            return result
        except TemplateError:
            pass  # fall through to the prefix method, which is verified the same way
    result, expected = _by_prefix(tokenizer, messages, assistant_idx)
    _verify(tokenizer, result, expected)
    return result


def _by_prefix(
    tokenizer: Any, messages: list[dict[str, str]], assistant_idx: list[int]
) -> tuple[TokenizedConversation, list[str]]:
    full = _render(tokenizer, messages, add_generation_prompt=False)
    specials = _special_strings(tokenizer)
    spans: list[tuple[int, int]] = []  # [start, end) character spans to label
    expected: list[str] = []
    for i in assistant_idx:
        prefix = _render(tokenizer, messages[:i], add_generation_prompt=True)
        if not full.startswith(prefix):
            raise TemplateError(
                f"the chat template renders message {i}'s prompt differently inside the full "
                "conversation, so the assistant reply cannot be located"
            )
        content = messages[i]["content"]
        start = len(prefix)
        if full[start : start + len(content)] != content:
            raise TemplateError(
                f"the chat template changes assistant message {i}'s content (e.g. strips it); "
                f"expected {content[:40]!r} after the generation prompt, found {full[start : start + 40]!r}"
            )
        end = start + len(content)
        rest = full[end:]
        end_token = next((s for s in specials if rest.startswith(s)), None)
        if end_token is None:
            raise TemplateError(
                f"no end-of-turn special token right after assistant message {i} (found {rest[:20]!r})"
            )
        if spans and start < spans[-1][1]:
            raise TemplateError("assistant spans overlap")
        spans.append((start, end + len(end_token)))
        expected.append(content + end_token)

    input_ids: list[int] = []
    labels: list[int] = []
    cursor = 0
    prompt_tokens = -1
    for start, end in spans:
        prompt_ids = _encode(tokenizer, full[cursor:start])
        input_ids += prompt_ids
        labels += [IGNORE_INDEX] * len(prompt_ids)
        if prompt_tokens < 0:
            prompt_tokens = len(input_ids)
        reply_ids = _encode(tokenizer, full[start:end])
        input_ids += reply_ids
        labels += reply_ids
        cursor = end
    tail = _encode(tokenizer, full[cursor:])
    input_ids += tail
    labels += [IGNORE_INDEX] * len(tail)
    return TokenizedConversation(input_ids, labels, prompt_tokens), expected


def _with_generation_markers(
    tokenizer: Any, messages: list[dict[str, str]], assistant_idx: list[int]
) -> TokenizedConversation:
    out = tokenizer.apply_chat_template(
        messages, tokenize=True, return_dict=True, return_assistant_tokens_mask=True
    )
    ids = list(out["input_ids"])
    mask = list(out["assistant_masks"])
    if not any(mask):
        raise TemplateError("the template's generation markers produced an empty assistant mask")
    end_ids = {tokenizer.convert_tokens_to_ids(s) for s in _special_strings(tokenizer)}
    # Group the mask into spans, then make each span end exactly at its end-of-turn token.
    spans: list[list[int]] = []
    j = 0
    while j < len(ids):
        if mask[j]:
            k = j
            while k < len(ids) and mask[k]:
                k += 1
            span = list(range(j, k))
            stop = next((p for p in span if ids[p] in end_ids), None)
            if stop is not None:
                span = [p for p in span if p <= stop]
            elif k < len(ids) and ids[k] in end_ids:
                span.append(k)
            spans.append(span)
            j = k
        else:
            j += 1
    all_spans = spans[-len(assistant_idx) :] if len(assistant_idx) < len(spans) else spans
    keep = {p for span in all_spans for p in span}
    labels = [ids[p] if p in keep else IGNORE_INDEX for p in range(len(ids))]
    first = min(keep)
    return TokenizedConversation(ids, labels, first)


def _verify(tokenizer: Any, result: TokenizedConversation, expected: list[str]) -> None:
    labelled = [t for t in result.labels if t != IGNORE_INDEX]
    got = tokenizer.decode(labelled, skip_special_tokens=False)
    want = "".join(expected)
    if got != want:
        raise TemplateError(
            f"assistant-mask verification failed: labelled tokens decode to {got[:80]!r}, "
            f"expected the assistant replies plus end tokens {want[:80]!r}"
        )
    if len(result.input_ids) != len(result.labels):
        raise TemplateError("input_ids and labels differ in length")
