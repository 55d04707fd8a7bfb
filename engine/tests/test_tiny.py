"""The tiny random test model: loads, round-trips text, renders ChatML."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_tokenizer_round_trips_text(tiny_model_dir: str) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    for text in [
        "I love the symphony in Vienna.",
        "Hello, you! Piano: 42 keys? Ünïcode 🎹",
        "  spaced\nlines  ",
    ]:
        ids = tok(text, add_special_tokens=False)["input_ids"]
        assert tok.decode(ids) == text
    # Common words are single tokens or close: the BPE actually learned the corpus.
    assert len(tok("music symphony piano Vienna", add_special_tokens=False)["input_ids"]) <= 8


def test_chat_template_and_special_tokens(tiny_model_dir: str) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    assert tok.pad_token_id is not None and tok.pad_token_id != tok.eos_token_id
    assert tok.convert_tokens_to_ids("<|im_end|>") == tok.eos_token_id
    text = tok.apply_chat_template(
        [{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True
    )
    assert text == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"


def test_model_forward_shapes(tiny_model_dir: str) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    assert model.config.model_type == "llama"
    assert sum(p.numel() for p in model.parameters()) < 1_000_000
    ids = torch.tensor([tok("I play the piano.")["input_ids"]])
    out = model(input_ids=ids)
    assert out.logits.shape == (1, ids.shape[1], len(tok))


def test_cli_builds_qwen2(tmp_path: Path) -> None:
    out = tmp_path / "q"
    res = subprocess.run(
        [sys.executable, "-m", "character_dev.tiny", str(out), "--arch", "qwen2"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert res.stdout.strip() == str(out)
    assert (out / "config.json").read_text().count('"qwen2"') >= 1
    assert (out / "model.safetensors").exists() and (out / "tokenizer.json").exists()
