"""GGUF export, the Ollama Modelfile and the merged model's transformers-4 files.

The GGUF files are loaded back in the engine ({source: 'gguf'}, transformers' GGUF reader,
which undoes the converter's q/k permutation): the merged GGUF, and the base GGUF with the
GGUF LoRA applied as llama.cpp's --lora applies it (_gguf_lora.py), both give the engine's
greedy tokens for base + adapter. The converter's tensors were also compared with llama.cpp's
own convert_hf_to_gguf.py / convert_lora_to_gguf.py (identical; see the engine README)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from _gguf_lora import apply_lora

from character_engine.context import RequestContext
from character_engine.state import EngineState

QUESTION = [{"role": "user", "content": "Question 3: what do you love?"}]
N_TOKENS = 12


def make_random_adapter(base: str, out: Path, scale: float = 1.0, gguf_file: str | None = None) -> str:
    """A LoRA whose B is not zero (a fresh peft LoRA is a no-op), seeded."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    kwargs = {"gguf_file": gguf_file} if gguf_file else {}
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32, **kwargs)
    torch.manual_seed(0)
    cfg = LoraConfig(
        r=4,
        lora_alpha=8,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        task_type="CAUSAL_LM",
        init_lora_weights=False,
    )
    peft_model = get_peft_model(model, cfg)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_" in name:
                param.mul_(scale)
    peft_model.save_pretrained(str(out))
    return str(out)


def export(spec: dict, adapter: str, out: Path, **flags: bool) -> dict:
    from character_engine.handlers.export import handle_export_adapter

    params = {"model": spec, "adapter": adapter, "output_dir": str(out), "card": {"title": "Test"}, **flags}
    return handle_export_adapter(params, RequestContext("x", lambda _e: None, EngineState()))


def engine_greedy(state: EngineState, spec: dict, adapter: str | None = None, n: int = N_TOKENS) -> str:
    from character_engine.generation.decode_loop import generate_items
    from character_engine.generation.sampling import Sampling

    loaded = state.models.load(spec, adapter)
    outputs, _ = generate_items(
        loaded, [{"messages": QUESTION}], Sampling(0.0, 1.0, n, 0), prefixes=state.prefixes
    )
    return outputs[0].text


@pytest.fixture(scope="module")
def tiny_export(tiny_model_dir: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    tmp = tmp_path_factory.mktemp("gguf-export")
    adapter = make_random_adapter(tiny_model_dir, tmp / "adapter")
    spec = {"source": "local", "path": tiny_model_dir}
    return export(spec, adapter, tmp / "export", merged=True, gguf=True), adapter


def test_merged_gguf_and_gguf_lora_give_the_engines_greedy_text(
    tiny_model_dir: str, tiny_export: tuple[dict, str], tmp_path: Path, engine_state: EngineState
) -> None:
    from character_engine.export.gguf_convert import write_model_gguf

    result, adapter = tiny_export
    spec = {"source": "local", "path": tiny_model_dir}
    expected = engine_greedy(engine_state, spec, adapter)
    assert expected != engine_greedy(engine_state, spec)  # the adapter changes the answer
    # the merged model as GGUF
    assert engine_greedy(engine_state, {"source": "gguf", "path": result["gguf_model"]}) == expected
    # the base as GGUF + the GGUF LoRA, applied as llama.cpp applies --lora
    base_gguf = tmp_path / "base.gguf"
    write_model_gguf(Path(tiny_model_dir), base_gguf, "tiny base")
    assert engine_greedy(engine_state, {"source": "gguf", "path": str(base_gguf)}) == engine_greedy(
        engine_state, spec
    )
    applied = apply_lora(str(base_gguf), result["gguf_lora"], tmp_path / "applied.gguf")
    assert applied == {"changed": 8, "lora_tensors": 8}  # q, k, v, o in 2 layers
    assert engine_greedy(engine_state, {"source": "gguf", "path": str(tmp_path / "applied.gguf")}) == expected


def test_gguf_lora_metadata(tiny_export: tuple[dict, str]) -> None:
    from gguf import GGUFReader

    reader = GGUFReader(tiny_export[0]["gguf_lora"])
    fields = {k: f.contents() for k, f in reader.fields.items() if not k.startswith("GGUF.")}
    assert fields["general.architecture"] == "llama" and fields["general.type"] == "adapter"
    assert fields["adapter.type"] == "lora" and fields["adapter.lora.alpha"] == 8.0
    names = {t.name for t in reader.tensors}
    assert "blk.0.attn_q.weight.lora_a" in names and "blk.1.attn_output.weight.lora_b" in names
    lora_a = next(t for t in reader.tensors if t.name == "blk.0.attn_k.weight.lora_a")
    assert list(lora_a.shape) == [64, 4]  # GGML order: ne0 = n_embd (in), ne1 = r


def _render_go_template(template: str, system: str | None, messages: list[dict]) -> str:
    """The subset of Go's text/template the exported TEMPLATE uses."""
    tokens = re.split(r"({{.*?}})", template)

    def run(i: int, scope: dict) -> tuple[str, int]:
        out = ""
        while i < len(tokens):
            tok = tokens[i]
            action = tok[2:-2].strip() if tok.startswith("{{") else None
            if action is None:
                out += tok
            elif action == "end":
                return out, i
            elif action == "if not .System":
                body, i = run(i + 1, scope)
                out += body if not system else ""
            elif action == "range .Messages":
                start = i + 1
                for message in messages:
                    body, i = run(start, {".Role": message["role"], ".Content": message["content"]})
                    out += body
                if not messages:
                    _, i = run(start, {})
            elif action in scope:
                out += scope[action]
            else:
                raise AssertionError(f"unexpected template action {action!r}")
            i += 1
        return out, i

    return run(0, {})[0]


def parse_modelfile(path: Path) -> dict[str, list[str]]:
    """Instruction -> arguments; a triple-quoted argument may span lines (Ollama's syntax)."""
    found: dict[str, list[str]] = {}
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        instruction, _, arg = line.partition(" ")
        if arg.startswith('"""'):
            while arg.count('"""') < 2:
                arg += "\n" + next(lines)
        found.setdefault(instruction.upper(), []).append(arg)
    assert set(found) <= {"FROM", "ADAPTER", "TEMPLATE", "PARAMETER", "SYSTEM", "LICENSE", "MESSAGE"}
    return found


def test_modelfile_is_valid(tiny_model_dir: str, tiny_export: tuple[dict, str]) -> None:
    from transformers import AutoTokenizer

    modelfile = Path(tiny_export[0]["modelfile"])
    found = parse_modelfile(modelfile)
    assert len(found["FROM"]) == 1 and len(found["ADAPTER"]) == 1
    assert Path(found["FROM"][0]) == Path(tiny_model_dir)  # the base the adapter was trained on
    adapter = modelfile.parent / found["ADAPTER"][0]
    assert found["ADAPTER"][0].startswith("./") and adapter.is_file() and adapter.read_bytes()[:4] == b"GGUF"
    assert found["PARAMETER"] == ['stop "<|im_end|>"']
    template = found["TEMPLATE"][0].removeprefix('"""').removesuffix('"""')
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    for conversation in (QUESTION, [*QUESTION, {"role": "assistant", "content": "A."}, *QUESTION]):
        expected = tok.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
        assert _render_go_template(template, None, conversation) == expected


def test_modelfile_replaces_a_templates_default_system_message_with_an_empty_turn() -> None:
    from character_engine.export.modelfile import chatml_template, render_modelfile
    from character_engine.models.chat_template import default_system_prompt

    class SmolLikeTokenizer:
        """SmolLM2's template: a default system turn when the conversation has none."""

        chat_template = "smol-like"

        def apply_chat_template(self, messages: list[dict], **_kw: object) -> str:
            has_system = bool(messages) and messages[0]["role"] == "system"
            head = "" if has_system else "<|im_start|>system\nYou are SmolLM<|im_end|>\n"
            turns = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
            return head + turns + "<|im_start|>assistant\n"

    tok = SmolLikeTokenizer()
    # One detection for every path (models/chat_template.py), the Modelfile's included.
    assert default_system_prompt(tok) == "You are SmolLM"
    template = chatml_template("You are SmolLM")
    assert f'TEMPLATE """{template}"""' in render_modelfile("/m/base.gguf", None, "/m", tok, "t")
    # the student's context: an empty system turn, never the default
    with_default = tok.apply_chat_template(QUESTION)
    assert _render_go_template(template, None, QUESTION) == with_default.replace("You are SmolLM", "")
    assert "You are SmolLM" not in _render_go_template(template, "Be brief", QUESTION)


def test_merged_model_files_read_like_transformers_4(tiny_export: tuple[dict, str]) -> None:
    merged = Path(tiny_export[0]["merged_dir"])
    config = json.loads((merged / "config.json").read_text())
    # transformers 4.x reads rope_theta at the top level (else its default, 10000)
    assert config["rope_theta"] == config["rope_parameters"]["rope_theta"]
    assert config["torch_dtype"] == "float32" and "rope_scaling" in config
    tok = json.loads((merged / "tokenizer_config.json").read_text())
    assert tok["tokenizer_class"] == "PreTrainedTokenizerFast"  # 4.x has no TokenizersBackend
    assert "<|im_start|>" in tok["chat_template"]  # 4.4x does not read chat_template.jinja
    assert not {"backend", "is_local", "local_files_only"} & set(tok)
    assert isinstance(tok.get("additional_special_tokens", []), list)
    assert tok["model_input_names"] == ["input_ids", "attention_mask"]  # 4.x adds token_type_ids
    merges = json.loads((merged / "tokenizer.json").read_text())["model"]["merges"]
    assert all(isinstance(m, str) and m.count(" ") == 1 for m in merges)  # tokenizers < 0.20
    assert not isinstance(tok.get("extra_special_tokens", {}), list)
    base_cfg = json.loads((merged.parent / "base" / "config.json").read_text())
    assert base_cfg["rope_theta"] == config["rope_theta"] and "model.safetensors" not in {
        p.name for p in (merged.parent / "base").iterdir()
    }
    # and transformers 5 still loads it
    from transformers import AutoModelForCausalLM, AutoTokenizer

    assert type(AutoTokenizer.from_pretrained(str(merged))).__name__ in (
        "TokenizersBackend",
        "PreTrainedTokenizerFast",
    )
    model = AutoModelForCausalLM.from_pretrained(str(merged))
    assert model.config.rope_parameters["rope_theta"] == config["rope_theta"]


def test_export_on_a_gguf_base_is_self_contained_and_names_its_architecture(
    tiny_model_dir: str, tmp_path: Path
) -> None:
    """Issue 18 #14: a config read from a GGUF file has no `architectures`, which llama.cpp's
    convert_lora_to_gguf.py --base needs; the Modelfile's FROM named the base where it lay on the
    exporting machine (for the embedded model, inside the clone's venv)."""
    from character_engine.export.gguf_convert import write_model_gguf

    models = tmp_path / "elsewhere"
    models.mkdir()
    base_gguf = models / "tiny.gguf"
    write_model_gguf(Path(tiny_model_dir), base_gguf, "tiny base")
    adapter = make_random_adapter(tiny_model_dir, tmp_path / "adapter")
    result = export({"source": "gguf", "path": str(base_gguf)}, adapter, tmp_path / "export", gguf=True)
    out = Path(result["output_dir"])

    config = json.loads((out / "base" / "config.json").read_text(encoding="utf-8"))
    assert config["architectures"] == ["LlamaForCausalLM"]

    found = parse_modelfile(out / "Modelfile")
    assert found["FROM"] == ["./gguf/base/tiny.gguf"] and found["ADAPTER"] == ["./gguf/adapter.gguf"]
    bundled = out / "gguf" / "base" / "tiny.gguf"
    assert result["base_gguf"] == str(bundled)
    assert bundled.read_bytes() == base_gguf.read_bytes()
    assert str(models) not in (out / "Modelfile").read_text(encoding="utf-8")
    # the hub push leaves the copy out (it is the base, not the adapter)
    from character_engine.export.push import LEFT_OUT

    assert "gguf/base/*" in LEFT_OUT
