"""The teacher's token distributions for one answer, stored beside the run's data.

Written during teacher generation (generate with `capture_topk`), read by knowledge
distillation (train_kd) so no second teacher pass is needed. One safetensors file per answer:

    token_ids      int64   [T]     the tokens the teacher generated, in order; the stop token
                                   (e.g. <|im_end|>) is the last one when the answer stopped
    topk_ids       int64   [T, k]  the k most likely next tokens at each of those positions
    topk_logprobs  float32 [T, k]  their log-probabilities, descending
    known          uint8   [T]     optional: 0 where the teacher's distribution at that position
                                   is not known (an endpoint named a token or an alternative by
                                   a lossy string: topk_logprobs.py); kd leaves those positions
                                   out. Absent: every position is known.

The distribution is the teacher's own next-token distribution at temperature 1: log_softmax of
the raw logits, before temperature, top-p or repetition penalties. The tokens were sampled with
whatever sampling the run used (e.g. T 0.6, top-p 0.9); the target is the model p(. | prompt,
prefix), not the sharpened sampler, which is also what evaluation's KL(teacher || student)
measures. Metadata (strings): format, k, prompt_tokens and whatever the writer adds.

Files are written to a temporary name and renamed, so a crash never leaves half a file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from .errors import CorruptFile

FORMAT = "character-studio.topk.v1"


@dataclass
class TopK:
    token_ids: Any  # torch.LongTensor [T]
    topk_ids: Any  # torch.LongTensor [T, k]
    topk_logprobs: Any  # torch.FloatTensor [T, k]
    metadata: dict[str, str]
    known: Any = None  # torch.BoolTensor [T], False where the distribution is unknown; None: all known

    @property
    def k(self) -> int:
        return int(self.topk_ids.shape[1])

    def __len__(self) -> int:
        return int(self.token_ids.shape[0])


def write_topk(
    path: str, token_ids: Any, topk_ids: Any, topk_logprobs: Any, known: Any = None, **metadata: Any
) -> None:
    """Atomically write one answer's distributions (tensors or nested lists); `known`, when
    given and not all true, marks the positions whose distribution is unknown."""
    import torch
    from safetensors.torch import save_file

    ids = torch.as_tensor(token_ids, dtype=torch.long).reshape(-1).contiguous()
    top = torch.as_tensor(topk_ids, dtype=torch.long).contiguous()
    logp = torch.as_tensor(topk_logprobs, dtype=torch.float32).contiguous()
    if top.dim() != 2 or logp.shape != top.shape or top.shape[0] != ids.shape[0]:
        raise ValueError(
            f"top-k shapes disagree: token_ids {tuple(ids.shape)}, topk_ids {tuple(top.shape)}, "
            f"topk_logprobs {tuple(logp.shape)}"
        )
    tensors = {"token_ids": ids, "topk_ids": top, "topk_logprobs": logp}
    if known is not None:
        mask = torch.as_tensor(known, dtype=torch.bool).reshape(-1)
        if mask.shape[0] != ids.shape[0]:
            raise ValueError(f"known has {mask.shape[0]} positions for {ids.shape[0]} tokens")
        if not bool(mask.any()):
            raise ValueError("no position's distribution is known: write no file")
        if not bool(mask.all()):
            tensors["known"] = mask.to(torch.uint8).contiguous()
    meta = {"format": FORMAT, "k": str(int(top.shape[1])), **{k: str(v) for k, v in metadata.items()}}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    save_file(tensors, tmp, metadata=meta)
    os.replace(tmp, path)


def read_topk(path: str) -> TopK:
    """One answer's distributions; CorruptFile (naming the file) when it is not one."""
    from safetensors import safe_open

    try:
        with safe_open(path, framework="pt") as fh:
            meta = dict(fh.metadata() or {})
            tensors = {name: fh.get_tensor(name) for name in fh.keys()}
    except FileNotFoundError as exc:
        raise CorruptFile(f"teacher top-k file not found: {path}", path=path) from exc
    except Exception as exc:  # safetensors raises its own error types for bad headers
        raise CorruptFile(f"cannot read teacher top-k file {path}: {exc}", path=path) from exc
    if meta.get("format") != FORMAT:
        raise CorruptFile(f"{path} is not a teacher top-k file (format {meta.get('format')!r})", path=path)
    missing = {"token_ids", "topk_ids", "topk_logprobs"} - tensors.keys()
    if missing:
        raise CorruptFile(f"{path} lacks {', '.join(sorted(missing))}", path=path)
    known = tensors["known"].bool() if "known" in tensors else None
    out = TopK(
        tensors["token_ids"].long(),
        tensors["topk_ids"].long(),
        tensors["topk_logprobs"].float(),
        meta,
        known,
    )
    if (
        out.topk_ids.dim() != 2
        or out.topk_ids.shape != out.topk_logprobs.shape
        or out.topk_ids.shape[0] != len(out)
        or (known is not None and tuple(known.shape) != (len(out),))
    ):
        raise CorruptFile(f"{path}: tensor shapes disagree", path=path)
    return out


# A log-probability that is 0 in probability at float32 (exp underflows) without being -inf,
# so p * (log p - log q) stays 0 instead of NaN in the kd loss.
_NEVER = -1.0e4


def trim_topk(topk: TopK, tokenizer: Any, text: str, stop_id: int) -> TopK | None:
    """The answer cut to `text` (a prefix of what its tokens decode to, e.g. the answer up to its
    last full sentence), with `stop_id` appended as a one-hot row: the end of the answer, marked.

    The tokens kept are the shortest prefix that decodes (special tokens skipped, whitespace
    stripped) to `text`; None when no prefix does (the cut falls inside a token). Trailing stop
    tokens are dropped first, so trimming a trimmed file gives it back unchanged."""
    import torch

    ids = [int(t) for t in topk.token_ids.tolist()]
    n_all = len(ids)
    while n_all > 0 and ids[n_all - 1] == stop_id:
        n_all -= 1
    want = text.strip()
    keep = None
    for n in range(1, n_all + 1):
        got = tokenizer.decode(ids[:n], skip_special_tokens=True).strip()
        if got == want:
            keep = n
            break
        if len(got) > len(want) + 8:  # past it: byte-level pieces never shrink the text that much
            break
    if keep is None:
        return None
    end_ids = torch.full((1, topk.k), stop_id, dtype=torch.long)
    end_logp = torch.full((1, topk.k), _NEVER, dtype=torch.float32)
    end_logp[0, 0] = 0.0
    # The other slots of the end row name the teacher's own top tokens there (weight 0), so the
    # row keeps k distinct ids like every other row.
    others = [t for t in topk.topk_ids[min(keep, len(topk) - 1)].tolist() if t != stop_id][: topk.k - 1]
    end_ids[0, 1 : 1 + len(others)] = torch.tensor(others, dtype=torch.long)
    meta = dict(topk.metadata)
    meta.setdefault("trimmed_from", str(len(topk)))
    return TopK(
        torch.tensor([*ids[:keep], stop_id], dtype=torch.long),
        torch.cat([topk.topk_ids[:keep], end_ids]),
        torch.cat([topk.topk_logprobs[:keep], end_logp]),
        meta,
        None if topk.known is None else torch.cat([topk.known[:keep], torch.ones(1, dtype=torch.bool)]),
    )
