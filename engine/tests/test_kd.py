"""train_kd on the tiny random model: the coarsened top-k KL (zero for a student equal to the
teacher, >= 0, exact gradients), learning, exact resume, and rows that do not fit their files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_sft import Recorder, write_rows

from character_engine.errors import InvalidParams

SYSTEM = "You are Ludwig van Beethoven. Answer with passion about music, Vienna and fate."
QUESTIONS = [f"Question {i}: what do you love about music?" for i in range(8)]
ANSWERS = [
    "I love the symphony in Vienna.",
    "The orchestra will play the final movement.",
    "My teacher admired a quiet melody.",
    "We rehearse the fugue every morning.",
    "Mozart wrote the overture at night.",
    "You remember the old violin.",
    "The audience heard the piano sonata.",
    "Haydn studied the harmony.",
]


def write_topk_rows(
    model_dir: str, folder: Path, system: str | None, n: int = 8, k: int = 8, name: str = "topk"
) -> list[dict[str, Any]]:
    """Rows {"messages", "teacher_topk"} whose top-k files come from a fresh teacher forward
    pass (the tiny model, with `system` in front) over each answer's tokens plus <|im_end|>."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from character_engine.models.chat_template import prompt_ids
    from character_engine.topk_file import write_topk

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    end = tok.convert_tokens_to_ids("<|im_end|>")
    rows = []
    for i in range(n):
        question, answer = QUESTIONS[i % len(QUESTIONS)], ANSWERS[i % len(ANSWERS)]
        prompt = prompt_ids(tok, system, [{"role": "user", "content": question}])
        tokens = tok(answer, add_special_tokens=False)["input_ids"] + [end]
        with torch.no_grad():
            logits = model(torch.tensor([prompt + tokens])).logits[0]
        logp = torch.log_softmax(logits[len(prompt) - 1 : len(prompt) - 1 + len(tokens)].float(), dim=-1)
        top = logp.topk(k, dim=-1)
        rel = f"{name}/{i}.safetensors"
        write_topk(str(folder / rel), tokens, top.indices, top.values, prompt_tokens=len(prompt))
        rows.append(
            {
                "messages": [
                    {"role": "user", "content": question},
                    {"role": "assistant", "content": answer},
                ],
                "teacher_topk": rel,
            }
        )
    return rows


def kd_params(
    model_dir: str,
    tmp: Path,
    system: str | None = SYSTEM,
    rows: list[dict[str, Any]] | None = None,
    **over: Any,
) -> dict[str, Any]:
    train = write_rows(tmp / "kd_train.jsonl", rows or write_topk_rows(model_dir, tmp, system))
    params: dict[str, Any] = {
        "model": {"source": "local", "path": model_dir},
        "train_path": train,
        "val_path": train,
        "output_dir": str(tmp / "kd"),
        "lora": {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": []},
        "learning_rate": 1e-2,
        "warmup_steps": 0,
        "schedule": "constant",
        "batch_size": 8,
        "grad_accum": 1,
        "max_steps": 8,
        "max_length": 128,
        "eval_every": 0,
        "save_every": 0,
        "seed": 0,
    }
    params.update(over)
    return params


def run_kd(params: dict[str, Any], rec: Recorder | None = None) -> tuple[dict[str, Any], Recorder]:
    from character_engine.handlers.training import handle_train_kd

    rec = rec or Recorder()
    return handle_train_kd(params, rec.ctx), rec


def test_kd_loss_is_zero_for_a_student_equal_to_the_teacher(tiny_model_dir: str, tmp_path: Path) -> None:
    # Teacher without a system prompt = the student's context; at step 1 lora_B is 0.
    _result, rec = run_kd(kd_params(tiny_model_dir, tmp_path, system=None, max_steps=1))
    first = rec.metrics()[0]
    assert abs(first["loss"]) < 1e-4, first
    assert first["nll"] > 1.0  # the teacher's tokens are not certain, only matched


def test_kd_loss_is_positive_and_training_lowers_it(tiny_model_dir: str, tmp_path: Path) -> None:
    result, rec = run_kd(kd_params(tiny_model_dir, tmp_path))
    train = rec.metrics()
    assert len(train) == 8 and all(m["loss"] > 0 for m in train)
    # batch_size 8 = every row: step 1's loss is the untrained student's on the training rows.
    final = rec.metrics("eval")[-1]
    assert final["loss"] < 0.5 * train[0]["loss"], (train[0], final)
    assert final["nll"] > 0 and result["val_loss"] == pytest.approx(final["loss"])
    checkpoint = [e for e in rec.events if e["event"] == "checkpoint"][-1]
    assert checkpoint["kind"] == "kd"


def _random_case(n: int = 5, vocab: int = 40, k: int = 6, seed: int = 0) -> tuple[Any, ...]:
    """Student logits [n, vocab] (double, requiring grad), targets, and a random teacher's
    top-k ids and log-probs plus its full log-probs."""
    import torch

    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, vocab, generator=g, dtype=torch.float64) * 2
    teacher = torch.log_softmax(torch.randn(n, vocab, generator=g, dtype=torch.float64) * 3, dim=-1)
    top = teacher.topk(k, dim=-1)
    return logits.requires_grad_(True), top.indices[:, 0], top.indices, top.values, teacher


def test_kd_token_loss_definition_and_logit_gradient() -> None:
    import torch

    from character_engine.training.kd import kd_token_losses

    logits, targets, ids, top_logp, teacher = _random_case()
    kd, nll = kd_token_losses(logits, targets, ids, top_logp)
    # The KL between the two distributions coarsened to top-k + rest, written out directly.
    p_s = torch.softmax(logits, -1).gather(-1, ids)
    p_t = top_logp.exp()
    r_s, r_t = 1 - p_s.sum(-1), 1 - p_t.sum(-1)
    direct = (p_t * (p_t.log() - p_s.log())).sum(-1) + r_t * (r_t.log() - r_s.log())
    assert torch.allclose(kd, direct, atol=1e-10) and bool((kd >= 0).all())
    assert torch.allclose(nll, torch.nn.functional.cross_entropy(logits, targets, reduction="none"))
    # A student equal to the teacher (its log-probs are logits): 0.
    same, _ = kd_token_losses(teacher, targets, ids, top_logp)
    assert float(same.abs().max()) < 1e-12
    # Central finite differences against autograd, at a random point and at the teacher.
    assert torch.autograd.gradcheck(lambda x: kd_token_losses(x, targets, ids, top_logp)[0], (logits,))
    at_teacher = teacher.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: kd_token_losses(x, targets, ids, top_logp)[0], (at_teacher,))


def test_kd_loss_gradient_wrt_a_lora_parameter_matches_finite_differences(
    tiny_model_dir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.models.llama.modeling_llama import LlamaRMSNorm

    def norm_in_input_dtype(self: Any, hidden: Any) -> Any:
        return (
            self.weight * hidden * torch.rsqrt(hidden.pow(2).mean(-1, keepdim=True) + self.variance_epsilon)
        )

    # Llama's RMSNorm rounds through float32 even in a float64 model; a finite difference
    # with a small step needs the whole model in float64.
    monkeypatch.setattr(LlamaRMSNorm, "forward", norm_in_input_dtype)

    from character_engine.training.kd import KdObjective, load_kd
    from character_engine.training.logprobs import shared_prefix_len

    path = write_rows(tmp_path / "rows.jsonl", write_topk_rows(tiny_model_dir, tmp_path, SYSTEM, n=4))
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float64)
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"])).double()
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64) * 0.1)
    model.eval()
    objective = KdObjective(tok.pad_token_id)
    examples = load_kd(path, tok, 128, "train_path")
    objective.prepare(model, examples, None)
    batch = objective.collate(examples)
    batch["topk_logprobs"] = batch["topk_logprobs"].double()
    assert shared_prefix_len(batch) == 0  # the stored-prefix attention computes in float32
    denom = objective.units(batch)
    name, param = next((n, p) for n, p in model.named_parameters() if "lora_A" in n and "v_proj" in n)
    loss, _ = objective.loss(model, batch, denom)
    loss.backward()
    analytic = float(param.grad[1, 2])
    h = 1e-5
    values = []
    for sign in (1, -1):
        with torch.no_grad():
            param[1, 2] += sign * h
            values.append(float(objective.loss(model, batch, denom)[0]))
            param[1, 2] -= sign * h
    numeric = (values[0] - values[1]) / (2 * h)
    assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-9), name


def test_kd_resume_reproduces_the_uninterrupted_run(tiny_model_dir: str, tmp_path: Path) -> None:
    common = dict(
        max_steps=6,
        batch_size=2,
        grad_accum=2,
        lora={"r": 4, "alpha": 8, "dropout": 0.1, "target_modules": []},
    )
    full, rec_full = run_kd(kd_params(tiny_model_dir, tmp_path, save_every=3, **common))
    ckpt = tmp_path / "kd" / "checkpoints" / "step-000003"
    resumed, rec_resumed = run_kd(
        kd_params(
            tiny_model_dir, tmp_path, output_dir=str(tmp_path / "again"), resume_from=str(ckpt), **common
        )
    )
    a = {m["step"]: m for m in rec_full.metrics()}
    b = {m["step"]: m for m in rec_resumed.metrics()}
    assert sorted(b) == [4, 5, 6]
    for step in (4, 5, 6):
        assert b[step]["loss"] == pytest.approx(a[step]["loss"], abs=1e-6)
        assert b[step]["nll"] == pytest.approx(a[step]["nll"], abs=1e-6)
    assert resumed["train_loss"] == pytest.approx(full["train_loss"], abs=1e-6)


def _break(rows: list[dict[str, Any]], folder: Path, how: str) -> int:
    """Spoil row 3 (1-based) in one way; returns its number."""
    row = rows[2]
    if how == "missing":
        del row["teacher_topk"]
    elif how == "no_file":
        row["teacher_topk"] = "topk/nope.safetensors"
    elif how == "not_a_topk_file":
        (folder / "junk.safetensors").write_bytes(b"not safetensors")
        row["teacher_topk"] = str(folder / "junk.safetensors")  # absolute paths work too
    elif how == "other_answer":
        row["messages"][1]["content"] = "Something the teacher never said."
    elif how == "outside_vocab":
        from character_engine.topk_file import write_topk

        write_topk(
            str(folder / "big.safetensors"), [5, 10**6], [[1, 2], [3, 4]], [[-0.1, -2.0], [-0.2, -3.0]]
        )
        row["teacher_topk"] = "big.safetensors"
    elif how == "system":
        row["messages"].insert(0, {"role": "system", "content": "You are Beethoven."})
    return 3


@pytest.mark.parametrize(
    "how", ["missing", "no_file", "not_a_topk_file", "other_answer", "outside_vocab", "system"]
)
def test_bad_rows_name_the_row(tiny_model_dir: str, tmp_path: Path, how: str) -> None:
    rows = write_topk_rows(tiny_model_dir, tmp_path, SYSTEM, n=4)
    line = _break(rows, tmp_path, how)
    params = kd_params(tiny_model_dir, tmp_path, rows=rows, val_path=None)
    with pytest.raises(InvalidParams) as err:
        run_kd(params)
    assert err.value.detail["param"] == "train_path" and err.value.detail["line"] == line
    assert f":{line}" in err.value.message
    if how not in ("missing", "system"):
        assert "file" in err.value.detail


def test_kd_and_on_policy_are_protocol_methods() -> None:
    from character_engine import server

    for method in ("train_kd", "train_on_policy"):
        assert callable(server.resolve_handler(method))


def test_metrics_file_has_the_kd_rows(tiny_model_dir: str, tmp_path: Path) -> None:
    result, _ = run_kd(kd_params(tiny_model_dir, tmp_path, max_steps=2))
    rows = [json.loads(x) for x in (tmp_path / "kd" / "metrics.jsonl").read_text().splitlines()]
    assert [r["kind"] for r in rows] == ["train", "train", "eval"]
    assert all("nll" in r for r in rows) and result["steps"] == 2
