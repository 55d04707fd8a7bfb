"""The benchmark's data: a ~600-word persona system prompt, questions from the question
templates, and question -> answer SFT rows.

They come from the repository's resources/ folder, found as: the --resources argument,
else $CHARACTER_STUDIO_RESOURCES, else ./resources or ../resources from the working
directory (the repository root or engine/). Without it, filler text stands in.
"""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path
from typing import Any

PROMPT_WORDS = 600
RESOURCES_ENV = "CHARACTER_STUDIO_RESOURCES"


def resources_dir(given: str | None = None) -> Path:
    """The resources folder (see the module docstring); a missing one means filler text."""
    if given:
        return Path(given).resolve()
    if os.environ.get(RESOURCES_ENV):
        return Path(os.environ[RESOURCES_ENV]).resolve()
    for candidate in (Path("resources"), Path("..") / "resources"):
        if (candidate / "personas").is_dir():
            return candidate.resolve()
    return Path("resources").resolve()


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def system_prompt(resources: Path, words: int = PROMPT_WORDS) -> tuple[str, str]:
    """(~`words`-word system prompt, where it came from)."""
    path = resources / "personas" / "beethoven.yaml"
    text = ""
    source = "filler"
    if path.is_file():
        try:
            import yaml

            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            body = {k: v for k, v in doc.items() if k != "meta"} if isinstance(doc, dict) else doc
            text = "\n".join(s.strip() for s in _strings(body) if s.strip())
            source = f"resources/{path.relative_to(resources)}"
        except Exception:  # noqa: BLE001 - fall back to filler below
            text = ""
    tokens = text.split()
    filler = (
        "You are Ludwig van Beethoven, the composer, speaking from Vienna in 1827. "
        "Answer in the first person with passion, pride and honesty about music, deafness and fate. "
    ).split()
    while len(tokens) < words:
        tokens += filler
    return " ".join(tokens[:words]), source


def questions(resources: Path, n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    path = resources / "questions" / "templates.json"
    vocab_path = resources / "questions" / "vocab" / "beethoven.json"
    try:
        templates = [t["text"] for t in json.loads(path.read_text(encoding="utf-8"))["templates"]]
        vocab = json.loads(vocab_path.read_text(encoding="utf-8")) if vocab_path.is_file() else {}
    except (OSError, ValueError, KeyError, TypeError):
        templates, vocab = [], {}

    def fill(m: re.Match[str]) -> str:
        values = vocab.get(m.group(1).rstrip("0123456789")) or ["music"]
        return str(rng.choice(values))

    rng.shuffle(templates)
    for t in templates[:n]:
        out.append(re.sub(r"\{(\w+)\}", fill, t))
    base = ["What does music mean to you?", "Tell me about Vienna.", "How do you compose a symphony?"]
    while len(out) < n:
        out.append(f"{base[len(out) % len(base)]} ({len(out)})")
    return out


def sft_rows(resources: Path, n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Question -> answer rows of varied length (1-8 sentences), like distilled teacher data."""
    from ..tiny import build_corpus

    rng = random.Random(seed)
    corpus = build_corpus(seed)
    qs = questions(resources, n, seed)
    rows = []
    for q in qs:
        answer = " ".join(rng.choice(corpus) for _ in range(rng.randint(1, 8)))
        rows.append({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": answer}]})
    return rows
