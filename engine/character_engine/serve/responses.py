"""OpenAI's response shapes: chat.completion and text_completion objects, their stream
chunks, usage and logprobs, built from the scheduler's events (scheduler.py)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from .api import GenRequest
from .scheduler import LogprobEntry


class Reply:
    """What one request's answer looks like on the wire, chunk by chunk or whole."""

    def __init__(self, req: GenRequest, model_id: str, tokenizer: Any) -> None:
        self.req, self.model_id, self.tokenizer = req, model_id, tokenizer
        chat = req.kind == "chat"
        self.id = f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex[:24]}"
        self.object = "chat.completion" if chat else "text_completion"
        self.created = int(time.time())
        n = len(req.prompt_ids) * req.n
        self.texts = [""] * n
        self.logprobs: list[list[LogprobEntry]] = [[] for _ in range(n)]
        self.finish: list[str | None] = [None] * n
        self.completion_tokens = [0] * n
        self.offsets = [0] * n  # characters of each choice so far (completions' text_offset)

    # -- pieces
    def _token(self, token: int) -> str:
        if self.req.tokens_as_ids:  # return_tokens_as_token_ids, as vLLM writes it
            return f"token_id:{token}"
        return self.tokenizer.decode([token], skip_special_tokens=False)

    def _chat_logprobs(self, entries: list[LogprobEntry]) -> dict[str, Any]:
        def one(token: int, lp: float) -> dict[str, Any]:
            text = self._token(token)
            return {"token": text, "logprob": lp, "bytes": list(text.encode("utf-8"))}

        return {
            "content": [
                {**one(t, lp), "top_logprobs": [one(tt, tlp) for tt, tlp in top]} for t, lp, top in entries
            ],
            "refusal": None,
        }

    def _completion_logprobs(self, entries: list[LogprobEntry], index: int) -> dict[str, Any]:
        tokens, token_logprobs, tops, offsets = [], [], [], []
        for t, lp, top in entries:
            text = self._token(t)
            tokens.append(text)
            token_logprobs.append(lp)
            tops.append({self._token(tt): tlp for tt, tlp in top})
            offsets.append(self.offsets[index])
            self.offsets[index] += len(text)
        return {
            "tokens": tokens,
            "token_logprobs": token_logprobs,
            "top_logprobs": tops,
            "text_offset": offsets,
        }

    def _logprobs(self, entries: list[LogprobEntry], index: int) -> dict[str, Any] | None:
        if not self.req.logprobs:
            return None
        return (
            self._chat_logprobs(entries)
            if self.req.kind == "chat"
            else self._completion_logprobs(entries, index)
        )

    def usage(self) -> dict[str, int]:
        prompt = sum(len(p) for p in self.req.prompt_ids)  # once per prompt, whatever n (as OpenAI)
        completion = sum(self.completion_tokens)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _envelope(self, choices: list[dict[str, Any]], chunk: bool) -> dict[str, Any]:
        obj = self.object + (".chunk" if chunk and self.req.kind == "chat" else "")
        return {
            "id": self.id,
            "object": obj,
            "created": self.created,
            "model": self.model_id,
            "choices": choices,
        }

    # -- a whole response
    def record(self, event: tuple[Any, ...]) -> None:
        """Keep a delta or done event for the whole response."""
        if event[0] == "delta":
            _, i, text, entries = event
            self.texts[i] += text
            self.logprobs[i].extend(entries)
        elif event[0] == "done":
            _, i, reason, tokens = event
            self.finish[i] = reason
            self.completion_tokens[i] = tokens

    def whole(self) -> dict[str, Any]:
        choices = []
        for i, text in enumerate(self.texts):
            logprobs = self._logprobs(self.logprobs[i], i)
            if self.req.kind == "chat":
                choice = {
                    "index": i,
                    "message": {"role": "assistant", "content": text},
                    "logprobs": logprobs,
                    "finish_reason": self.finish[i],
                }
            else:
                choice = {"index": i, "text": text, "logprobs": logprobs, "finish_reason": self.finish[i]}
            choices.append(choice)
        return {**self._envelope(choices, chunk=False), "usage": self.usage()}

    # -- stream chunks
    def opening(self) -> list[dict[str, Any]]:
        """Chat streams start with the assistant role, one chunk per choice."""
        if self.req.kind != "chat":
            return []
        return [
            self._envelope(
                [
                    {
                        "index": i,
                        "delta": {"role": "assistant", "content": ""},
                        "logprobs": None,
                        "finish_reason": None,
                    }
                ],
                chunk=True,
            )
            for i in range(len(self.texts))
        ]

    def chunk(self, event: tuple[Any, ...]) -> dict[str, Any] | None:
        """The stream chunk for a delta or done event (None: nothing to send)."""
        self.record(event)
        if event[0] == "delta":
            _, i, text, entries = event
            logprobs = self._logprobs(entries, i)
            if self.req.kind == "chat":
                choice = {"index": i, "delta": {"content": text}, "logprobs": logprobs, "finish_reason": None}
            else:
                choice = {"index": i, "text": text, "logprobs": logprobs, "finish_reason": None}
        elif event[0] == "done":
            _, i, reason, _tokens = event
            if self.req.kind == "chat":
                choice = {"index": i, "delta": {}, "logprobs": None, "finish_reason": reason}
            else:
                choice = {"index": i, "text": "", "logprobs": None, "finish_reason": reason}
        else:
            return None
        return self._envelope([choice], chunk=True)

    def usage_chunk(self) -> dict[str, Any] | None:
        if not self.req.include_usage:
            return None
        return {**self._envelope([], chunk=True), "usage": self.usage()}
