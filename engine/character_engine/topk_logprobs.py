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
of that replacement character rather than the token's own. Mapping that string would pick a
wrong id, so it is never guessed. Where only one of a position's top-k alternatives is lossy,
the answer's token is known and only that position's distribution is not: the row is written
and marked unknown (topk_file's `known`), and kd leaves that position out. Where the answer's
own tokens are lossy (a split character makes a run of two or more), their bytes are what the
answer's text holds between the known neighbours: with the text given and a byte-level
vocabulary, they are named where exactly one way of spelling those bytes with that many tokens
exists. Their rows are marked unknown too. An answer whose own tokens cannot all be named so is written to no file (kd leaves it
out, SFT keeps its text). Counts of such positions are returned.

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


def _position_unknown(entry: dict[str, Any], k: int) -> bool:
    """The token or one of its top-k alternatives names no knowable id."""
    return unreliable(entry) or any(unreliable(a) for a in (entry.get("top_logprobs") or [])[:k])


@lru_cache(maxsize=1)
def _unicode_to_byte() -> dict[str, int]:
    return {c: b for b, c in _byte_to_unicode().items()}


def _token_bytes(tokenizer: Any, tid: int) -> bytes | None:
    """A byte-level vocabulary's token as its bytes (None: not a byte-level token)."""
    name = tokenizer.convert_ids_to_tokens(tid)
    back = _unicode_to_byte()
    if not isinstance(name, str) or any(c not in back for c in name):
        return None
    return bytes(back[c] for c in name)


def own_ids_from_text(
    tokenizer: Any, vocab: dict[str, int], own: list[int | None], text: str
) -> list[int] | None:
    """The answer's token ids with each run of lossy ones (None) named by the bytes the text
    holds between its known neighbours, where exactly one way of spelling those bytes with that
    many tokens of the vocabulary exists; None where it is not exact (two spellings, a vocabulary
    that is not byte-level, or a text the known tokens do not spell)."""
    raw = text.encode("utf-8")
    pieces: list[bytes | None] = []
    for tid in own:
        b = None if tid is None else _token_bytes(tokenizer, tid)
        if tid is not None and b is None:
            return None
        pieces.append(b)
    out: list[int] = []
    at = 0
    i = 0
    while i < len(pieces):
        piece = pieces[i]
        if piece is not None:
            if raw[at : at + len(piece)] != piece:
                return None
            at += len(piece)
            out.append(int(own[i]))  # type: ignore[arg-type]
            i += 1
            continue
        run = 1
        while i + run < len(pieces) and pieces[i + run] is None:
            run += 1
        after = pieces[i + run :]
        if None in after:
            # Another lossy run follows: the known bytes before it must sit at one place only.
            end = _find_span_end(raw, at, after[: after.index(None)])
        else:
            end = len(raw) - sum(len(p) for p in after if p is not None)
        if end is None or end <= at:
            return None
        spelled = _only_spelling(raw[at:end], run, vocab)
        if spelled is None:
            return None
        out.extend(spelled)
        at = end
        i += run
    return out if at == len(raw) else None


def _find_span_end(raw: bytes, start: int, known: list[bytes | None]) -> int | None:
    """Where a lossy run that starts at `start` ends, given the known pieces that follow it up
    to the next lossy run: the one end after which they are spelled; None if not exactly one."""
    follow = b"".join(p for p in known if p is not None)
    ends = [e for e in range(start + 1, len(raw) - len(follow) + 1) if raw[e : e + len(follow)] == follow]
    return ends[0] if len(ends) == 1 else None


def _only_spelling(span: bytes, n: int, vocab: dict[str, int]) -> list[int] | None:
    """The ids of the one way to write `span` as n byte-level tokens of `vocab`; None when there
    is none or more than one (then any choice would be a guess)."""
    table = _byte_to_unicode()
    found: list[list[int]] = []

    def walk(start: int, left: int, acc: list[int]) -> None:
        if len(found) > 1:
            return
        if left == 0:
            if start == len(span):
                found.append(list(acc))
            return
        for end in range(start + 1, len(span) - left + 2):
            name = "".join(table[b] for b in span[start:end])
            if name in vocab:
                walk(end, left - 1, [*acc, vocab[name]])

    walk(0, n, [])
    return found[0] if len(found) == 1 else None


def write_from_logprobs(
    tokenizer: Any,
    path: str,
    entries: list[dict[str, Any]],
    k: int,
    text: str | None = None,
    **meta: Any,
) -> tuple[int, int]:
    """Write one answer's file from its logprobs `content` entries and, when given, the
    answer's text: (rows written, positions whose distribution is unknown). Rows 0 with a count:
    the answer's own tokens could not all be named, so no file was written."""
    unknown = [_position_unknown(e, k) for e in entries]
    dropped = sum(unknown)
    vocab = tokenizer.get_vocab()
    own: list[int | None] = []
    for pos, entry in enumerate(entries):
        tid = None if unreliable(entry) else token_id(tokenizer, vocab, entry)
        if tid is None and not unreliable(entry):
            raise InvalidParams(
                f"{path}: answer token {pos}: token {entry.get('token')!r} is not in the tokenizer's vocabulary",
                param="files",
                file=path,
                position=pos,
            )
        own.append(tid)
    if any(t is None for t in own):
        named = own_ids_from_text(tokenizer, vocab, own, text) if text is not None else None
        if named is None:
            return 0, dropped
        own = list(named)
    if dropped == len(entries):
        return 0, dropped
    ids, top_ids, top_lps = [], [], []
    for pos, entry in enumerate(entries):
        tid = int(own[pos])  # type: ignore[arg-type]
        tops = entry.get("top_logprobs") or []
        if unknown[pos]:
            # Written so the row keeps its shape; `known` tells kd to leave it out.
            ids.append(tid)
            top_ids.append([tid] * k)
            top_lps.append([0.0] * k)
            continue
        if len(tops) < k:
            raise InvalidParams(
                f"{path}: answer token {pos}: {len(tops)} top_logprobs where {k} were asked",
                param="files",
                file=path,
                position=pos,
            )
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
    write_topk(path, ids, top_ids, top_lps, [not u for u in unknown] if dropped else None, **meta)
    return len(ids), dropped
