"""Merging LoRA adapters of one base into ONE adapter whose update is exactly the weighted
sum of theirs (Open Character Training's "paper mode": DPO and introspection SFT trained
apart, then merged).

A LoRA adapter adds, to each target module's weight W, the update

    dW = s * B @ A        (B: out x r, A: r x in, s = alpha / r, or alpha / sqrt(r) with rsLoRA)

The weighted sum w1 * dW1 + w2 * dW2 is itself a LoRA update of rank r1 + r2:

    B = [w1 * s1 * B1, w2 * s2 * B2]   (out x (r1 + r2), concatenated along the rank)
    A = [A1; A2]                        ((r1 + r2) x in, stacked)
    alpha = r1 + r2                     (so that s = 1)

so nothing is approximated. A module only one adapter targets keeps that adapter's term.
The result is a plain PEFT adapter folder (adapter_config.json, adapter_model.safetensors)
that loads wherever its parents did, plus merge.json naming the parents and weights.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidParams, ModelLoadFailed, ModelNotFound

WEIGHTS_FILE = "adapter_model.safetensors"
CONFIG_FILE = "adapter_config.json"
LINEAGE_FILE = "merge.json"
_A_SUFFIX = ".lora_A.weight"
_B_SUFFIX = ".lora_B.weight"


@dataclass(frozen=True)
class MergePart:
    path: str
    weight: float


def _pattern_value(patterns: dict[str, Any], module: str, default: float) -> float:
    """PEFT's rank_pattern / alpha_pattern lookup: a key matches a module name ending in it."""
    for key, value in (patterns or {}).items():
        if re.match(rf"(.*\.)?{key}$", module):
            return float(value)
    return default


def _read_adapter(part: MergePart, index: int) -> tuple[dict[str, Any], dict[str, Any]]:
    from safetensors.torch import load_file

    folder = Path(part.path)
    label = f"adapters[{index}].path"
    if not folder.is_dir():
        raise ModelNotFound(f"adapter folder not found: {part.path}", path=part.path, what="adapter")
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        if not (folder / name).is_file():
            raise ModelLoadFailed(f"no {name} in {part.path}", path=part.path)
    try:
        config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ModelLoadFailed(f"{folder / CONFIG_FILE} is not valid JSON: {exc}", path=part.path) from exc
    if config.get("peft_type", "LORA") != "LORA":
        raise InvalidParams(f"{part.path} is not a LoRA adapter ({config.get('peft_type')})", param=label)
    for flag in ("use_dora", "modules_to_save"):
        if config.get(flag):
            raise InvalidParams(f"{part.path}: adapters with {flag} cannot be merged exactly", param=label)
    if config.get("bias", "none") != "none":
        raise InvalidParams(f"{part.path}: adapters that train biases cannot be merged", param=label)
    return config, load_file(str(folder / WEIGHTS_FILE))


def _modules(tensors: dict[str, Any], config: dict[str, Any], path: str) -> dict[str, tuple[Any, Any, float]]:
    """module name -> (A, B, scale) of one adapter."""
    out: dict[str, tuple[Any, Any, float]] = {}
    for key, a in tensors.items():
        if not key.endswith(_A_SUFFIX):
            if "lora_embedding" in key or "lora_magnitude" in key:
                raise InvalidParams(f"{path}: {key} is not a linear LoRA weight", param="adapters")
            continue
        module = key[: -len(_A_SUFFIX)]
        b = tensors.get(module + _B_SUFFIX)
        if b is None:
            raise ModelLoadFailed(f"{path}: {module} has lora_A but no lora_B", path=path)
        r = a.shape[0]
        short = module.removeprefix("base_model.model.")
        alpha = _pattern_value(config.get("alpha_pattern") or {}, short, float(config.get("lora_alpha", r)))
        scale = alpha / math.sqrt(r) if config.get("use_rslora") else alpha / r
        out[module] = (a.float(), b.float(), scale)
    if not out:
        raise ModelLoadFailed(f"{path} holds no LoRA weights", path=path)
    return out


def merge_adapters(parts: list[MergePart], output_dir: str) -> dict[str, Any]:
    """Write one adapter equal to sum_i weight_i * update_i into output_dir; returns what was written."""
    import torch
    from safetensors.torch import save_file

    if len(parts) < 2:
        raise InvalidParams("'adapters' needs at least two adapters to merge", param="adapters")
    loaded = [_read_adapter(p, i) for i, p in enumerate(parts)]
    bases = {c.get("base_model_name_or_path") for c, _ in loaded}
    if len(bases) > 1:
        raise InvalidParams(
            f"the adapters were trained on different bases ({', '.join(sorted(map(str, bases)))})",
            param="adapters",
        )
    per_adapter = [_modules(t, c, p.path) for (c, t), p in zip(loaded, parts, strict=True)]
    names = sorted({m for mods in per_adapter for m in mods})
    tensors: dict[str, Any] = {}
    ranks: dict[str, int] = {}
    for module in names:
        a_parts, b_parts = [], []
        for mods, part in zip(per_adapter, parts, strict=True):
            if module not in mods:
                continue
            a, b, scale = mods[module]
            a_parts.append(a)
            b_parts.append(b * (part.weight * scale))
        if {a.shape[1] for a in a_parts} != {a_parts[0].shape[1]} or len({b.shape[0] for b in b_parts}) != 1:
            raise InvalidParams(f"{module} has different shapes in the adapters", param="adapters")
        tensors[module + _A_SUFFIX] = torch.cat(a_parts, dim=0).contiguous()
        tensors[module + _B_SUFFIX] = torch.cat(b_parts, dim=1).contiguous()
        ranks[module.removeprefix("base_model.model.")] = sum(a.shape[0] for a in a_parts)

    # The most common total rank is the default; other modules get rank/alpha patterns.
    counts: dict[int, int] = {}
    for r in ranks.values():
        counts[r] = counts.get(r, 0) + 1
    rank = max(counts, key=lambda r: (counts[r], r))
    pattern = {m: r for m, r in ranks.items() if r != rank}
    config = dict(loaded[0][0])
    config.update(
        r=rank,
        lora_alpha=rank,  # alpha = r: scale 1, the weights and scales are folded into B
        rank_pattern=pattern,
        alpha_pattern=dict(pattern),
        use_rslora=False,
        lora_dropout=0.0,
        target_modules=sorted(ranks),
        layers_to_transform=None,
        layers_pattern=None,
    )
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out / WEIGHTS_FILE), metadata={"format": "pt"})
    (out / CONFIG_FILE).write_text(json.dumps(config, indent=2), encoding="utf-8")
    lineage = {
        "method": "weighted_sum_concat",
        "parents": [{"path": p.path, "weight": p.weight} for p in parts],
        "rank": rank,
        "rank_pattern": pattern,
        "modules": len(ranks),
    }
    (out / LINEAGE_FILE).write_text(json.dumps(lineage, indent=2), encoding="utf-8")
    return {
        "output_dir": str(out),
        "rank": rank,
        "modules": len(ranks),
        "parents": lineage["parents"],
        "files": [WEIGHTS_FILE, CONFIG_FILE, LINEAGE_FILE],
    }
