"""topk_trim: a teacher answer cut off at the length limit, trimmed to its last full sentence,
with the end marked by the stop token as a one-hot row, so kd teaches the student where an
answer ends. The trimmed file decodes to the trimmed text, trimming again changes nothing, a
cut inside a token leaves the file alone, and kd trains on the result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_kd import kd_params
from test_sft import Recorder, write_rows

FULL = "I love the symphony in Vienna. The orchestra will play the final"
CUT = "I love the symphony in Vienna."


def cut_off_file(model_dir: str, path: Path, text: str = FULL, k: int = 6) -> list[int]:
    """A top-k file for `text` with no stop token, as a teacher cut off at its limit writes it."""
    import torch
    from transformers import AutoTokenizer

    from character_engine.topk_file import write_topk

    tok = AutoTokenizer.from_pretrained(model_dir)
    ids = tok.encode(text, add_special_tokens=False)
    gen = torch.Generator().manual_seed(0)
    top = torch.randint(0, len(tok), (len(ids), k), generator=gen)
    top[:, 0] = torch.tensor(ids)
    logp = torch.log_softmax(torch.randn(len(ids), k, generator=gen), dim=-1).sort(-1, descending=True).values
    write_topk(str(path), ids, top, logp, prompt_tokens=10)
    return ids


def test_a_cut_off_answer_ends_at_its_last_sentence_with_the_stop_token(
    tiny_model_dir: str, tmp_path: Path, make_ctx: Any
) -> None:
    import torch
    from transformers import AutoTokenizer

    from character_engine.handlers.topk import handle_topk_trim
    from character_engine.models.chat_template import end_of_turn_id
    from character_engine.topk_file import read_topk

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    stop = end_of_turn_id(tok)
    path = tmp_path / "a.st"
    ids = cut_off_file(tiny_model_dir, path)
    before = read_topk(str(path))
    model = {"source": "local", "path": tiny_model_dir}
    out = handle_topk_trim({"model": model, "files": [{"path": str(path), "text": CUT}]}, make_ctx())
    after = read_topk(str(path))
    kept = len(after) - 1
    assert out["files"] == [{"path": str(path), "trimmed": True, "rows": len(after)}]
    assert 0 < kept < len(ids)
    assert tok.decode(after.token_ids[:kept].tolist()).strip() == CUT
    assert int(after.token_ids[-1]) == stop
    # The kept rows are the teacher's own; the end row is all its mass on the stop token.
    assert torch.equal(after.topk_ids[:kept], before.topk_ids[:kept])
    assert torch.equal(after.topk_logprobs[:kept], before.topk_logprobs[:kept])
    assert int(after.topk_ids[-1, 0]) == stop and float(after.topk_logprobs[-1, 0]) == 0.0
    assert float(after.topk_logprobs[-1, 1:].exp().sum()) == 0.0
    assert len(set(after.topk_ids[-1].tolist())) == after.k
    assert after.metadata["trimmed_from"] == str(len(ids))

    # Again (a resumed step): the same file.
    handle_topk_trim({"model": model, "files": [{"path": str(path), "text": CUT}]}, make_ctx())
    again = read_topk(str(path))
    assert torch.equal(again.token_ids, after.token_ids) and torch.equal(again.topk_ids, after.topk_ids)

    # kd trains on it, the stop token labelled: the loss is finite.
    rows = [
        {
            "messages": [
                {"role": "user", "content": "What do you love?"},
                {"role": "assistant", "content": CUT},
            ],
            "teacher_topk": str(path),
        }
    ]
    params = kd_params(tiny_model_dir, tmp_path, rows=rows, batch_size=1, max_steps=2)
    params["train_path"] = params["val_path"] = write_rows(tmp_path / "trim.jsonl", rows)
    from character_engine.handlers.training import handle_train_kd

    result = handle_train_kd(params, Recorder().ctx)
    assert result["steps"] == 2 and result["train_loss"] == result["train_loss"]  # not NaN


def test_a_text_that_is_no_token_prefix_leaves_the_file_alone(
    tiny_model_dir: str, tmp_path: Path, make_ctx: Any
) -> None:
    import torch

    from character_engine.handlers.topk import handle_topk_trim
    from character_engine.topk_file import read_topk

    path = tmp_path / "b.st"
    cut_off_file(tiny_model_dir, path)
    before = read_topk(str(path))
    out = handle_topk_trim(
        {
            "model": {"source": "local", "path": tiny_model_dir},
            "files": [{"path": str(path), "text": "Something else entirely."}],
        },
        make_ctx(),
    )
    assert out["files"][0]["trimmed"] is False
    assert torch.equal(read_topk(str(path)).token_ids, before.token_ids)
