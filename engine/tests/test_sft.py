"""LoRA SFT on the tiny random model: loss masks, learning, exact resume, cancel, validation."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from character_engine.context import RequestContext
from character_engine.errors import InvalidParams
from character_engine.models.assistant_mask import IGNORE_INDEX, TemplateError, tokenize_conversation
from character_engine.state import EngineState

CONVERSATION = [
    {"role": "system", "content": "You are Beethoven."},
    {"role": "user", "content": "Who are you?"},
    {"role": "assistant", "content": "I am Ludwig, a composer from Bonn."},
    {"role": "user", "content": "And music?"},
    {"role": "assistant", "content": "Music is everything.\nTruly!"},
]


def write_rows(path: Path, rows: list[dict[str, Any]]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def sft_rows(n: int = 8) -> list[dict[str, Any]]:
    return [
        {
            "messages": [
                {"role": "user", "content": f"Question {i}: what do you love?"},
                {"role": "assistant", "content": f"I love the symphony number {i} in Vienna."},
            ]
        }
        for i in range(n)
    ]


def base_params(model_dir: str, tmp: Path, **over: Any) -> dict[str, Any]:
    train = write_rows(tmp / "train.jsonl", sft_rows())
    val = write_rows(tmp / "val.jsonl", sft_rows(2))
    params: dict[str, Any] = {
        "model": {"source": "local", "path": model_dir},
        "train_path": train,
        "val_path": val,
        "output_dir": str(tmp / "out"),
        "lora": {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": []},
        "learning_rate": 1e-2,
        "warmup_steps": 2,
        "schedule": "linear",
        "batch_size": 4,
        "grad_accum": 1,
        "max_steps": 12,
        "max_length": 128,
        "eval_every": 0,
        "save_every": 0,
        "seed": 0,
    }
    params.update(over)
    return params


class Recorder:
    """A RequestContext whose events land in a list; can cancel after a given step."""

    def __init__(self, cancel_after_step: int | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.cancel_after_step = cancel_after_step
        self.ctx = RequestContext("test", self._emit, EngineState())

    def _emit(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        if (
            self.cancel_after_step is not None
            and event.get("event") == "metric"
            and event.get("kind") == "train"
            and event["step"] >= self.cancel_after_step
        ):
            self.ctx.cancel_event.set()

    def metrics(self, kind: str = "train") -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == "metric" and e.get("kind") == kind]


def run_sft(params: dict[str, Any], rec: Recorder | None = None) -> tuple[dict[str, Any], Recorder]:
    from character_engine.handlers.training import handle_train_sft

    rec = rec or Recorder()
    return handle_train_sft(params, rec.ctx), rec


# ----------------------------------------------------------------------------- loss masks


def _labelled_text(tok: Any, labels: list[int]) -> str:
    return tok.decode([t for t in labels if t != IGNORE_INDEX], skip_special_tokens=False)


@pytest.mark.parametrize("with_system", [True, False])
def test_mask_covers_exactly_assistant_tokens(tiny_model_dir: str, with_system: bool) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    msgs = CONVERSATION if with_system else CONVERSATION[1:]
    out = tokenize_conversation(tok, msgs)
    assert _labelled_text(tok, out.labels) == (
        "I am Ludwig, a composer from Bonn.<|im_end|>Music is everything.\nTruly!<|im_end|>"
    )
    # The ids are the template's own tokenization, and every non-assistant token is masked.
    full = tok.apply_chat_template(msgs, tokenize=False)
    assert tok.decode(out.input_ids) == full
    masked = [i for i, t in zip(out.input_ids, out.labels, strict=True) if t == IGNORE_INDEX]
    masked_text = tok.decode(masked)
    assert "Who are you?" in masked_text and "Ludwig" not in masked_text
    # The prompt part is exactly the generation-prompt rendering of the first user turn(s).
    first_prompt = tok.apply_chat_template(
        msgs[: msgs.index(CONVERSATION[2])], add_generation_prompt=True, tokenize=False
    )
    assert tok.decode(out.input_ids[: out.prompt_tokens]) == first_prompt
    last = tokenize_conversation(tok, msgs, train_on="last")
    assert _labelled_text(tok, last.labels) == "Music is everything.\nTruly!<|im_end|>"


def test_mask_with_generation_markers_template(tiny_model_dir: str) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    tok.chat_template = (
        "{% for m in messages %}{% if m['role'] == 'assistant' %}"
        "{{ '<|im_start|>assistant\n' }}{% generation %}{{ m['content'] + '<|im_end|>' }}{% endgeneration %}{{ '\n' }}"
        "{% else %}{{ '<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n' }}{% endif %}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
    )
    out = tokenize_conversation(tok, CONVERSATION)
    assert _labelled_text(tok, out.labels) == (
        "I am Ludwig, a composer from Bonn.<|im_end|>Music is everything.\nTruly!<|im_end|>"
    )


def test_mask_rejects_template_that_rewrites_content(tiny_model_dir: str) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    tok.chat_template = (
        "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\n' + m['content'] | upper + '<|im_end|>\n' }}"
        "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
    )
    with pytest.raises(TemplateError, match="content"):
        tokenize_conversation(tok, CONVERSATION)


def test_mask_on_embedded_smollm2_tokenizer() -> None:
    from transformers import AutoTokenizer

    from character_engine.models.specs import default_model_path

    path = default_model_path()
    tok = AutoTokenizer.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path))
    out = tokenize_conversation(tok, CONVERSATION[1:])  # the template adds its default system
    assert _labelled_text(tok, out.labels) == (
        "I am Ludwig, a composer from Bonn.<|im_end|>Music is everything.\nTruly!<|im_end|>"
    )
    # the student's context: an empty system turn where SmolLM2's template injects "You are SmolLM"
    prompt = tok.decode(out.input_ids[: out.prompt_tokens])
    assert "SmolLM" not in prompt and prompt.startswith("<|im_start|>system\n<|im_end|>\n")


# ----------------------------------------------------------------------------- training


def test_sft_loss_decreases_and_writes_complete_checkpoint(tiny_model_dir: str, tmp_path: Path) -> None:
    params = base_params(tiny_model_dir, tmp_path, max_steps=20, eval_every=10)
    result, rec = run_sft(params)
    losses = [m["loss"] for m in rec.metrics()]
    assert len(losses) == 20 and result["steps"] == 20 and result["cancelled"] is False
    assert losses[-1] < 0.7 * losses[0], losses
    evals = rec.metrics("eval")
    assert [e["step"] for e in evals] == [10, 20]
    assert evals[-1]["loss"] < evals[0]["loss"]
    assert result["val_loss"] == pytest.approx(evals[-1]["loss"])
    for m in rec.metrics():
        assert m["lr"] > 0 and m["grad_norm"] >= 0 and m["tokens_per_s"] > 0 and m["epoch"] > 0
    rows = [json.loads(x) for x in (tmp_path / "out" / "metrics.jsonl").read_text().splitlines()]
    assert len([r for r in rows if r["kind"] == "train"]) == 20
    ckpt = Path(result["final_checkpoint"])
    assert ckpt.name == "step-000020"
    for f in (
        "adapter_model.safetensors",
        "adapter_config.json",
        "optimizer.pt",
        "scheduler.pt",
        "rng_state.pt",
    ):
        assert (ckpt / f).is_file(), f
    state = json.loads((ckpt / "trainer_state.json").read_text())
    assert (
        state["step"] == 20 and state["data_hash"] == result["data_hash"] and len(result["data_hash"]) == 64
    )
    assert state["config"]["lora"]["r"] == 8
    assert not [p for p in ckpt.parent.iterdir() if p.name.startswith(".")]  # no temp folders left
    progress = [e for e in rec.events if e["event"] == "progress" and e["phase"] == "train"]
    assert progress[-1]["done"] == 20 and progress[-1]["total"] == 20


def test_resume_reproduces_next_step_loss(tiny_model_dir: str, tmp_path: Path) -> None:
    # dropout > 0 and grad_accum > 1: resume must restore RNG state and the data position.
    common = dict(
        max_steps=6,
        batch_size=2,
        grad_accum=2,
        lora={"r": 4, "alpha": 8, "dropout": 0.1, "target_modules": []},
    )
    full, rec_full = run_sft(base_params(tiny_model_dir, tmp_path, save_every=3, **common))
    ckpt3 = tmp_path / "out" / "checkpoints" / "step-000003"
    assert ckpt3.is_dir()
    resumed_params = base_params(
        tiny_model_dir, tmp_path, output_dir=str(tmp_path / "resumed"), resume_from=str(ckpt3), **common
    )
    resumed, rec_resumed = run_sft(resumed_params)
    a = {m["step"]: m for m in rec_full.metrics()}
    b = {m["step"]: m for m in rec_resumed.metrics()}
    assert sorted(b) == [4, 5, 6]
    for step in (4, 5, 6):
        assert b[step]["loss"] == pytest.approx(a[step]["loss"], abs=1e-5)
        assert b[step]["lr"] == pytest.approx(a[step]["lr"], abs=1e-12)
    assert resumed["train_loss"] == pytest.approx(full["train_loss"], abs=1e-5)


def test_resume_refuses_other_data(tiny_model_dir: str, tmp_path: Path) -> None:
    run_sft(base_params(tiny_model_dir, tmp_path, max_steps=2))
    ckpt = tmp_path / "out" / "checkpoints" / "step-000002"
    other = tmp_path / "other"
    other.mkdir()
    params = base_params(tiny_model_dir, other, resume_from=str(ckpt))
    write_rows(other / "train.jsonl", sft_rows(7))
    with pytest.raises(InvalidParams) as err:
        run_sft(params)
    assert err.value.detail["param"] == "resume_from"


def test_cancel_saves_loadable_checkpoint(tiny_model_dir: str, tmp_path: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    rec = Recorder(cancel_after_step=3)
    result, _ = run_sft(base_params(tiny_model_dir, tmp_path, max_steps=50), rec)
    assert result["cancelled"] is True and result["steps"] == 3
    assert Path(result["final_checkpoint"]).name == "step-000003"
    checkpoints = [e for e in rec.events if e["event"] == "checkpoint"]
    assert checkpoints[-1]["path"] == result["final_checkpoint"]
    # The event carries what trainer_state.json records, so clients need not read the file.
    state = json.loads(Path(result["final_checkpoint"], "trainer_state.json").read_text())
    last = checkpoints[-1]
    assert last["data_hash"] == result["data_hash"] == state["data_hash"]
    assert (last["kind"], last["step"], last["total_steps"]) == ("sft", 3, state["total_steps"])
    assert (
        last["epoch"] == state["epoch"] and last["train_loss"] == state["last_loss"] == result["train_loss"]
    )
    assert last["val_loss"] is None  # no evaluation ran before the cancel
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    model = PeftModel.from_pretrained(base, result["final_checkpoint"])
    assert any("lora_A" in n for n, _ in model.named_parameters())
    # ... and training can continue from it.
    more, rec2 = run_sft(
        base_params(tiny_model_dir, tmp_path, max_steps=5, resume_from=result["final_checkpoint"])
    )
    assert more["steps"] == 5 and [m["step"] for m in rec2.metrics()] == [4, 5]


def test_init_adapter_continues_training(tiny_model_dir: str, tmp_path: Path) -> None:
    first, _ = run_sft(base_params(tiny_model_dir, tmp_path, max_steps=15, schedule="constant"))
    second, rec = run_sft(
        base_params(
            tiny_model_dir,
            tmp_path,
            output_dir=str(tmp_path / "more"),
            init_adapter=first["final_checkpoint"],
            max_steps=2,
        )
    )
    fresh, rec_fresh = run_sft(
        base_params(tiny_model_dir, tmp_path, output_dir=str(tmp_path / "fresh"), max_steps=1)
    )
    assert rec.metrics()[0]["loss"] < rec_fresh.metrics()[0]["loss"] - 1.0
    assert second["steps"] == 2


@pytest.mark.parametrize(
    ("override", "param"),
    [
        ({"lora": {"r": 0, "alpha": 16, "dropout": 0.0, "target_modules": []}}, "lora.r"),
        ({"lora": {"r": 4, "alpha": -1, "dropout": 0.0, "target_modules": []}}, "lora.alpha"),
        ({"lora": {"r": 4, "alpha": 8, "dropout": 1.0, "target_modules": []}}, "lora.dropout"),
        (
            {"lora": {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["nope_proj"]}},
            "lora.target_modules",
        ),
        ({"learning_rate": -1e-4}, "learning_rate"),
        ({"batch_size": 0}, "batch_size"),
        ({"schedule": "exponential"}, "schedule"),
        ({"max_length": 12}, "max_length"),
        ({"train_path": "/nonexistent/train.jsonl"}, "train_path"),
    ],
)
def test_invalid_hyperparameters_name_the_param(
    tiny_model_dir: str, tmp_path: Path, override: dict[str, Any], param: str
) -> None:
    with pytest.raises(InvalidParams) as err:
        run_sft(base_params(tiny_model_dir, tmp_path, **override))
    assert err.value.detail["param"] == param
    if param == "max_length":
        assert err.value.detail["example"] == 1


def test_kill_mid_training_leaves_last_checkpoint_loadable(tiny_model_dir: str, tmp_path: Path) -> None:
    import signal

    from _helpers import EngineProcess
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from character_engine.training.checkpoints import REQUIRED_FILES, latest_checkpoint

    engine = EngineProcess()
    try:
        rid = engine.send("train_sft", base_params(tiny_model_dir, tmp_path, max_steps=100_000, save_every=2))
        while True:
            msg = engine.next(timeout=180)
            assert "error" not in msg and "result" not in msg, msg
            if msg.get("id") == rid and msg.get("event") == "checkpoint" and msg["step"] >= 4:
                break
        engine.proc.send_signal(signal.SIGKILL)  # possibly mid-save of the next checkpoint
        engine.proc.wait(timeout=30)
    finally:
        if engine.proc.poll() is None:
            engine.proc.kill()
            engine.proc.wait()
    last = latest_checkpoint(str(tmp_path / "out"))
    assert last is not None
    for name in REQUIRED_FILES:
        assert Path(last, name).is_file(), name
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), last)
    assert any("lora_B" in n for n, _ in model.named_parameters())
    # Every step-* folder is complete; half-written saves only ever live under hidden temp names.
    for folder in (tmp_path / "out" / "checkpoints").iterdir():
        if folder.name.startswith("step-"):
            assert all((folder / f).is_file() for f in REQUIRED_FILES), folder


SHARED_SYSTEM = "You are Ludwig van Beethoven. Answer as the composer, in the first person, with feeling."


def test_shared_prefix_training_gives_the_same_loss_and_gradients(
    tiny_model_dir: str, tmp_path: Path
) -> None:
    """Rows that open identically (template + system prompt) run that prefix once per batch;
    log-probabilities and LoRA gradients match the plain batch."""
    import torch

    from character_engine import prefix_attention
    from character_engine.models.cache import load_private
    from character_engine.training.config import parse_config
    from character_engine.training.data import collate, load_sft, pad_id_of
    from character_engine.training.logprobs import label_logprobs, shared_prefix_len
    from character_engine.training.lora import attach_lora

    answers = [
        "Yes.",
        "Music is a higher revelation than all wisdom.",
        "Vienna, always Vienna, my dear friend.",
    ]
    rows = [
        {
            "messages": [
                {"role": "system", "content": SHARED_SYSTEM},
                {"role": "user", "content": q},
                {"role": "assistant", "content": a},
            ]
        }
        for q, a in zip(["Hi?", "What is music to you?", "Where do you live now?"], answers, strict=True)
    ]
    path = write_rows(tmp_path / "shared.jsonl", rows)
    cfg = parse_config(dict(base_params(tiny_model_dir, tmp_path), train_path=path))
    loaded = load_private(cfg.model)
    model = attach_lora(loaded.model, cfg, None)
    model.train()
    torch.manual_seed(0)
    for name, p in model.named_parameters():
        if "lora_B" in name:  # B starts at zero, which would make every A gradient zero
            p.data.normal_(0.0, 0.5)
    batch = collate(load_sft(path, loaded.tokenizer, 128, "train_path"), pad_id_of(loaded.tokenizer))
    assert batch["attention_mask"].sum(dim=1).unique().numel() == 3  # padded rows of three lengths
    assert shared_prefix_len(batch) >= 16

    runs = []
    for share in (True, False):
        model.zero_grad()
        logps, rows_idx = label_logprobs(model, batch, share_prefix=share)
        (-logps.sum()).backward()
        grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
        runs.append((logps.detach(), rows_idx, grads))
        if share:
            assert model.config._attn_implementation == prefix_attention.NAME
    (lp_a, rows_a, g_a), (lp_b, rows_b, g_b) = runs
    assert torch.equal(rows_a, rows_b)
    assert torch.allclose(lp_a, lp_b, atol=1e-4)
    assert g_a.keys() == g_b.keys() and len(g_a) > 0
    for name in g_a:
        assert torch.allclose(g_a[name], g_b[name], rtol=1e-3, atol=1e-5), name


def test_shared_prefix_stops_before_the_first_label() -> None:
    import torch

    from character_engine.training.logprobs import shared_prefix_len

    ids = torch.tensor([[1] * 20 + [5, 6], [1] * 20 + [7, 8]])
    labels = torch.full_like(ids, IGNORE_INDEX)
    mask = torch.ones_like(ids)
    assert shared_prefix_len({"input_ids": ids, "labels": labels, "attention_mask": mask}) == 20
    labels[1, 12] = 1  # hidden state 11 predicts it, so the prefix must end at 11
    assert shared_prefix_len({"input_ids": ids, "labels": labels, "attention_mask": mask}) == 11
    one = {"input_ids": ids[:1], "labels": labels[:1], "attention_mask": mask[:1]}
    assert shared_prefix_len(one) == 0


def test_batches_are_length_buckets_and_the_first_epoch_opens_with_the_biggest() -> None:
    from character_engine.training.data import epoch_batches, micro_batch_at

    lengths = [5, 90, 12, 40, 41, 7, 88, 13, 60, 6, 61, 14]
    for epoch in range(3):
        batches = epoch_batches(lengths, 3, seed=4, epoch=epoch)
        assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
        spans = [max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches]
        assert max(spans) <= 29  # neighbours in length order share a batch
        assert batches == epoch_batches(lengths, 3, seed=4, epoch=epoch)  # a pure function
    assert set(epoch_batches(lengths, 3, seed=4, epoch=0)[0]) == {1, 6, 10}  # 90, 88, 61
    assert micro_batch_at(lengths, 3, 4, 0) == epoch_batches(lengths, 3, 4, 0)[0]
    assert micro_batch_at(lengths, 3, 4, 5) == epoch_batches(lengths, 3, 4, 1)[1]


def test_tensorboard_mirror_is_readable_by_tensorboard(tiny_model_dir: str, tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    params = base_params(tiny_model_dir, tmp_path, max_steps=4, eval_every=2)
    assert not (tmp_path / "out" / "tensorboard").exists()
    result, rec = run_sft({**params, "tensorboard": True})
    acc = EventAccumulator(str(tmp_path / "out" / "tensorboard"))
    acc.Reload()
    train = [e.value for e in acc.Scalars("train/loss")]
    assert [e.step for e in acc.Scalars("train/loss")] == [1, 2, 3, 4]
    assert train == pytest.approx([m["loss"] for m in rec.metrics()], rel=1e-6)
    assert [e.step for e in acc.Scalars("eval/loss")] == [2, 4]
    assert "train/lr" in acc.Tags()["scalars"]


def test_tensorboard_flag_must_be_a_boolean(tiny_model_dir: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidParams, match="tensorboard"):
        run_sft({**base_params(tiny_model_dir, tmp_path, max_steps=1), "tensorboard": "yes"})
