"""An OpenAI-compatible endpoint's `logprobs` (top_logprobs per answer token) as a teacher
top-k file (topk_file.py), so knowledge distillation can train on a teacher served by vLLM,
SGLang or this engine's own server exactly as on a local teacher's captured distributions.

Endpoints name tokens, not ids: each entry has a `token` string, usually `bytes` (the
token's UTF-8 bytes) and, from vLLM with `return_tokens_as_token_ids`, the form
"token_id:1234". They map to ids of `tokenizer`'s vocabulary (which must be the student's):
"token_id:N" is N; a byte-level BPE vocabulary (GPT-2 style: Qwen, Llama 3, SmolLM2) names
every token by its bytes through the GPT-2 byte-to-unicode table; a token string that is in
the vocabulary as it is (special tokens) is its own id. A token that maps to none is an error
naming it: the endpoint's model has another vocabulary than the student.

A token whose bytes are not whole UTF-8 (a multi-byte character split over tokens) cannot be
named by a string: servers without token ids give "\ufffd" for it, some (SGLang) with the bytes
of that replacement character rather than the token's own. Such an entry names no id, and
mapping its string would pick a wrong one, so an answer with any is written to no file (kd
leaves it out, SFT keeps its text) and its count of such positions is returned; never guessed.

What an endpoint gives differs from the local capture in one way: its logprobs cover the
answer's tokens but not the stop token that ended it (OpenAI's format leaves it out), so the
file has no row for it and kd does not teach the student to stop there; SFT on the same text does.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from .errors import InvalidParams
from .topk_file import write_topk

TOKEN_ID = re.compile(r"^token_id:(\d+)$")
REPLACEMENT = "\ufffd"
REPLACEMENT_BYTES = REPLACEMENT.encode("utf-8")


def unreliable(entry: dict[str, Any]) -> bool:
    """An entry whose id cannot be known: a lossy string ("\ufffd") with no token id and no
    bytes of its own (none, or the replacement character's)."""
    text = entry.get("token")
    if not isinstance(text, str) or TOKEN_ID.match(text) or REPLACEMENT not in text:
        return False
    raw = entry.get("bytes")
    if not (isinstance(raw, list) and raw and all(isinstance(b, int) and 0 <= b < 256 for b in raw)):
        return True
    return REPLACEMENT_BYTES in bytes(raw)


@lru_cache(maxsize=1)
def _byte_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character table (byte-level BPE vocabularies)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    bs += list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs), strict=True))


def token_id(tokenizer: Any, vocab: dict[str, int], entry: dict[str, Any]) -> int | None:
    text = entry.get("token")
    if isinstance(text, str):
        m = TOKEN_ID.match(text)
        if m:
            return int(m.group(1))
    raw = entry.get("bytes")
    if isinstance(raw, list) and raw and all(isinstance(b, int) and 0 <= b < 256 for b in raw):
        table = _byte_to_unicode()
        name = "".join(table[b] for b in raw)
        if name in vocab:
            return vocab[name]
        if isinstance(text, str) and text in vocab:  # special tokens are named as they are
            return vocab[text]
        # Vocabularies that are not byte-level (sentencepiece): a token of one piece.
        ids = tokenizer(bytes(raw).decode("utf-8", errors="strict"), add_special_tokens=False)["input_ids"]
        return int(ids[0]) if len(ids) == 1 else None
    if isinstance(text, str) and text in vocab:
        return vocab[text]
    return None


def unreliable_positions(entries: list[dict[str, Any]], k: int) -> int:
    """Positions whose token or one of whose top-k alternatives names no knowable id."""
    return sum(
        1 for e in entries if unreliable(e) or any(unreliable(a) for a in (e.get("top_logprobs") or [])[:k])
    )


def write_from_logprobs(
    tokenizer: Any, path: str, entries: list[dict[str, Any]], k: int, **meta: Any
) -> tuple[int, int]:
    """Write one answer's file from its logprobs `content` entries: (rows written, unreliable
    positions). An answer with unreliable positions is not written: (0, their count)."""
    dropped = unreliable_positions(entries, k)
    if dropped:
        return 0, dropped
    vocab = tokenizer.get_vocab()
    ids, top_ids, top_lps = [], [], []
    for pos, entry in enumerate(entries):
        tid = token_id(tokenizer, vocab, entry)
        tops = entry.get("top_logprobs") or []
        if tid is None or len(tops) < k:
            why = (
                f"token {entry.get('token')!r} is not in the tokenizer's vocabulary"
                if tid is None
                else f"{len(tops)} top_logprobs where {k} were asked"
            )
            raise InvalidParams(f"{path}: answer token {pos}: {why}", param="files", file=path, position=pos)
        row_ids = []
        for alt in tops[:k]:
            aid = token_id(tokenizer, vocab, alt)
            if aid is None:
                raise InvalidParams(
                    f"{path}: answer token {pos}: alternative {alt.get('token')!r} is not in the "
                    "tokenizer's vocabulary (the endpoint's model has another vocabulary?)",
                    param="files",
                    file=path,
                    position=pos,
                )
            row_ids.append(aid)
        ids.append(tid)
        top_ids.append(row_ids)
        top_lps.append([float(alt["logprob"]) for alt in tops[:k]])
    if not ids:
        raise InvalidParams(f"{path}: the answer has no tokens", param="files", file=path)
    write_topk(path, ids, top_ids, top_lps, **meta)
    return len(ids), 0
