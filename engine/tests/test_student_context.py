"""What the student sees where the teacher had the constitution is the same everywhere.

SmolLM2's chat template writes "You are a helpful AI assistant named SmolLM, trained by Hugging
Face" into every conversation without a system turn. The student (and the base it is compared
with) get an EMPTY system turn in its place, in training (SFT and kd tokenization), generation
(evaluation and chat), KL scoring, serve-model, the merged model's chat template, the Modelfile
and the deploy script. The tiny model carries SmolLM2's template here, so every path is checked
against a template that injects a default identity.
"""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest
from test_export_gguf import _render_go_template, export, make_random_adapter, parse_modelfile

from character_engine.models.assistant_mask import tokenize_conversation
from character_engine.models.chat_template import (
    context_messages,
    default_system_prompt,
    encode,
    prompt_ids,
    render_chat,
    student_chat_template,
)

SMOL_DEFAULT = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
# SmolLM2-135M-Instruct's chat template, as its tokenizer_config.json ships it.
SMOLLM2_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\n" + SMOL_DEFAULT + "<|im_end|>\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
QUESTION = [{"role": "user", "content": "Who are you?"}]
STUDENT_PROMPT = (
    "<|im_start|>system\n<|im_end|>\n<|im_start|>user\nWho are you?<|im_end|>\n<|im_start|>assistant\n"
)


@pytest.fixture(scope="module")
def smol_dir(tiny_model_dir: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The tiny model with SmolLM2's chat template."""
    out = tmp_path_factory.mktemp("smol-template") / "model"
    shutil.copytree(tiny_model_dir, out)
    cfg_path = out / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["chat_template"] = SMOLLM2_TEMPLATE
    cfg_path.write_text(json.dumps(cfg))
    jinja = out / "chat_template.jinja"
    if jinja.exists():
        jinja.write_text(SMOLLM2_TEMPLATE)
    return str(out)


@pytest.fixture(scope="module")
def smol_tok(smol_dir: str):  # noqa: ANN201 - a transformers tokenizer
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(smol_dir)
    assert SMOL_DEFAULT in tok.apply_chat_template(QUESTION, tokenize=False, add_generation_prompt=True)
    return tok


def test_the_injected_identity_is_detected_and_named(smol_tok, tiny_model_dir: str) -> None:  # noqa: ANN001
    from transformers import AutoTokenizer

    assert default_system_prompt(smol_tok) == SMOL_DEFAULT
    assert default_system_prompt(AutoTokenizer.from_pretrained(tiny_model_dir)) is None  # plain ChatML


def test_generation_chat_and_eval_see_an_empty_system_turn(smol_tok) -> None:  # noqa: ANN001
    assert render_chat(smol_tok, None, QUESTION) == STUDENT_PROMPT
    assert context_messages(smol_tok, None, QUESTION)[0] == {"role": "system", "content": ""}
    # the teacher keeps its constitution and never sees the default either
    teacher = render_chat(smol_tok, "You are Beethoven.", QUESTION)
    assert teacher.startswith("<|im_start|>system\nYou are Beethoven.<|im_end|>") and "SmolLM" not in teacher


def test_training_tokenizes_the_same_prompt_as_generation(smol_tok) -> None:  # noqa: ANN001
    want = prompt_ids(smol_tok, None, QUESTION)
    conv = tokenize_conversation(
        smol_tok, [*QUESTION, {"role": "assistant", "content": "I am Ludwig."}], "last"
    )
    assert conv.input_ids[: conv.prompt_tokens] == want  # kd and sft rows (training/kd.py, data.py)
    two_turns = [*QUESTION, {"role": "assistant", "content": "Ludwig."}, {"role": "user", "content": "And?"}]
    conv2 = tokenize_conversation(smol_tok, [*two_turns, {"role": "assistant", "content": "Bonn."}], "all")
    assert conv2.input_ids[: conv2.prompt_tokens] == want[: conv2.prompt_tokens]
    assert "SmolLM" not in smol_tok.decode(conv2.input_ids)


def test_kl_scoring_splits_the_student_conversation_the_same_way(smol_tok) -> None:  # noqa: ANN001
    from character_engine.scoring.kl import split_conversation

    prompt, _response = split_conversation(smol_tok, None, QUESTION, "I am Ludwig.", "items[0]")
    assert prompt == prompt_ids(smol_tok, None, QUESTION)


def test_serve_model_renders_a_chat_without_system_as_the_student_saw_it(smol_tok) -> None:  # noqa: ANN001
    from character_engine.serve.api import parse_chat, prepare

    req = parse_chat({"messages": QUESTION, "max_tokens": 4})
    prepare(req, smol_tok, 2048, len(smol_tok), threading.Lock())
    assert req.prompt_ids == [encode(smol_tok, STUDENT_PROMPT)]


def test_exports_carry_the_student_context(smol_dir: str, smol_tok, tmp_path: Path) -> None:  # noqa: ANN001
    from transformers import AutoTokenizer

    assert student_chat_template(smol_tok) is not None
    adapter = make_random_adapter(smol_dir, tmp_path / "adapter")
    result = export(
        {"source": "local", "path": smol_dir}, adapter, tmp_path / "export", merged=True, gguf=True
    )
    out = Path(result["output_dir"])
    # the merged model's own template renders a chat without system as the student saw it
    merged_tok = AutoTokenizer.from_pretrained(result["merged_dir"])
    assert (
        merged_tok.apply_chat_template(QUESTION, tokenize=False, add_generation_prompt=True) == STUDENT_PROMPT
    )
    # the template file beside the adapter (llama.cpp --chat-template-file, vLLM --chat-template)
    standalone = (out / "chat_template.jinja").read_text()
    assert (
        smol_tok.apply_chat_template(
            QUESTION, chat_template=standalone, tokenize=False, add_generation_prompt=True
        )
        == STUDENT_PROMPT
    )
    # the Modelfile's TEMPLATE
    template = parse_modelfile(out / "Modelfile")["TEMPLATE"][0].removeprefix('"""').removesuffix('"""')
    assert _render_go_template(template, None, QUESTION) == STUDENT_PROMPT
    # the deploy script sends the empty system turn itself
    assert 'CONTEXT = [{"role": "system", "content": ""}]' in (out / "deploy_example.py").read_text()
    card = json.loads((out / "card.json").read_text())
    assert card["student_context"] == {
        "template_default_identity": SMOL_DEFAULT,
        "student_sees": "an empty system turn",
    }
