"""Training data: JSONL reading, data hashing, tokenization, length-bucketed batch order.

SFT rows:  {"messages": [{role, content}, ...]}            (loss on assistant turns)
DPO rows:  {"prompt": [messages], "chosen": str, "rejected": str}

Batches are built by sorting examples by length (random tie-break) and cutting the
sorted list into batches, then shuffling the batches; so a batch holds examples of
similar length and little compute goes to padding. The first epoch starts with the
batch that needs the most memory. The order is a pure function of
(seed, epoch), which makes resuming exact: a checkpoint only stores the position.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidParams
from ..models.assistant_mask import IGNORE_INDEX, TemplateError, tokenize_conversation


def data_hash(*paths: str | None) -> str:
    """sha256 over the training file(s) in order (missing entries are skipped)."""
    h = hashlib.sha256()
    for p in paths:
        if not p:
            continue
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")  # a separator so (a+b, c) and (a, b+c) hash differently
    return h.hexdigest()


def read_jsonl(path: str, param: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise InvalidParams(f"{path}:{n} is not valid JSON: {exc}", param=param, line=n) from exc
            if not isinstance(row, dict):
                raise InvalidParams(f"{path}:{n} must be a JSON object", param=param, line=n)
            rows.append(row)
    if not rows:
        raise InvalidParams(f"{path} has no rows", param=param)
    return rows


def parse_messages(value: Any, where: str, param: str, line: int) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise InvalidParams(f"{where} must be a non-empty list of messages", param=param, line=line)
    out = []
    for m in value:
        if (
            not isinstance(m, dict)
            or m.get("role") not in ("system", "user", "assistant")
            or not isinstance(m.get("content"), str)
        ):
            raise InvalidParams(
                f"{where}: each message needs role system|user|assistant and string content",
                param=param,
                line=line,
            )
        out.append({"role": m["role"], "content": m["content"]})
    return out


@dataclass
class SftExample:
    input_ids: list[int]
    labels: list[int]

    @property
    def length(self) -> int:
        return len(self.input_ids)


@dataclass
class DpoExample:
    chosen: SftExample
    rejected: SftExample

    @property
    def length(self) -> int:
        return max(self.chosen.length, self.rejected.length)


def _fit(tok_conv: Any, max_length: int, param: str, line: int, path: str) -> SftExample:
    if tok_conv.prompt_tokens >= max_length:
        raise InvalidParams(
            f"max_length {max_length} is shorter than the prompt of example {line} in {path} "
            f"({tok_conv.prompt_tokens} tokens before the first assistant token); raise max_length",
            param="max_length",
            example=line,
            prompt_tokens=tok_conv.prompt_tokens,
        )
    ids = tok_conv.input_ids[:max_length]
    labels = tok_conv.labels[:max_length]
    return SftExample(ids, labels)


def load_sft(path: str, tokenizer: Any, max_length: int, param: str) -> list[SftExample]:
    out = []
    for line, row in enumerate(read_jsonl(path, param), start=1):
        msgs = parse_messages(row.get("messages"), f"{path}:{line} 'messages'", param, line)
        try:
            conv = tokenize_conversation(tokenizer, msgs, train_on="all")
        except TemplateError as exc:
            raise InvalidParams(f"{path}:{line}: {exc}", param=param, line=line) from exc
        out.append(_fit(conv, max_length, param, line, path))
    return out


def load_dpo(path: str, tokenizer: Any, max_length: int, param: str) -> list[DpoExample]:
    out = []
    for line, row in enumerate(read_jsonl(path, param), start=1):
        prompt = parse_messages(row.get("prompt"), f"{path}:{line} 'prompt'", param, line)
        pair = []
        for key in ("chosen", "rejected"):
            text = row.get(key)
            if not isinstance(text, str) or not text:
                raise InvalidParams(
                    f"{path}:{line} '{key}' must be a non-empty string", param=param, line=line
                )
            try:
                conv = tokenize_conversation(
                    tokenizer, prompt + [{"role": "assistant", "content": text}], train_on="last"
                )
            except TemplateError as exc:
                raise InvalidParams(f"{path}:{line}: {exc}", param=param, line=line) from exc
            pair.append(_fit(conv, max_length, param, line, path))
        out.append(DpoExample(pair[0], pair[1]))
    return out


def epoch_batches(lengths: list[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Index batches for one epoch: length-sorted buckets in a seeded random order."""
    rng = random.Random(seed * 1_000_003 + epoch)
    tie = [rng.random() for _ in lengths]
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], tie[i]))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    if epoch == 0 and batches:
        # The batch that needs the most memory goes first: an out-of-memory shows at step 1,
        # not hours in, and the heap reaches its working size at once instead of growing
        # (and page-faulting) again whenever a longer batch comes up.
        biggest = max(
            range(len(batches)), key=lambda b: max(lengths[i] for i in batches[b]) * len(batches[b])
        )
        batches.insert(0, batches.pop(biggest))
    return batches


def micro_batch_at(lengths: list[int], batch_size: int, seed: int, index: int) -> list[int]:
    """The index-th micro-batch of the endless epoch stream."""
    per_epoch = (len(lengths) + batch_size - 1) // batch_size
    epoch, pos = divmod(index, per_epoch)
    return epoch_batches(lengths, batch_size, seed, epoch)[pos]


def collate(examples: list[SftExample], pad_id: int) -> dict[str, Any]:
    """Right-padded tensors; labels are IGNORE_INDEX on padding."""
    import torch

    width = max(e.length for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, e in enumerate(examples):
        n = e.length
        ids[row, :n] = torch.tensor(e.input_ids)
        labels[row, :n] = torch.tensor(e.labels)
        mask[row, :n] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def pad_id_of(tokenizer: Any) -> int:
    """The id `collate` pads with: the tokenizer's pad token, else EOS, else 0."""
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id, 0):
        if candidate is not None:
            return int(candidate)
    return 0
