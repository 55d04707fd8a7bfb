"""Export: the adapter folder loads with peft and generates exactly like the engine path;
the merged model matches; the card and deploy example describe how to load the base."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from _helpers import MakeCtx

from character_engine.context import RequestContext
from character_engine.errors import InvalidParams, ModelLoadFailed
from character_engine.state import EngineState

QUESTION = [{"role": "user", "content": "Question 3: what do you love?"}]


@pytest.fixture(scope="module")
def trained_adapter(tiny_model_dir: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    from test_sft import base_params, run_sft

    tmp = tmp_path_factory.mktemp("export-train")
    result, _ = run_sft(base_params(tiny_model_dir, tmp, max_steps=15))
    return result["final_checkpoint"]


def export(tiny_model_dir: str, adapter: str, out: Path, merged: bool) -> dict:
    from character_engine.handlers.export import handle_export_adapter

    events: list[dict] = []
    card = {
        "title": "Beethoven (tiny test)",
        "data": {"train_rows": 8, "teacher": "tiny random model"},
        "metrics": {"val_loss": 2.5, "judge_win_rate": 0.5},
        "persona": "beethoven",
    }
    params = {
        "model": {"source": "local", "path": tiny_model_dir},
        "adapter": adapter,
        "output_dir": str(out),
    }
    params.update({"merged": merged, "card": card})
    return handle_export_adapter(params, RequestContext("x", events.append, EngineState()))


def peft_greedy_ids(tiny_model_dir: str, adapter_dir: str, n: int = 12) -> list[int]:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(tiny_model_dir), adapter_dir
    ).eval()
    ids = tok.apply_chat_template(QUESTION, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=n, do_sample=False, min_new_tokens=n)
    return out[0, ids["input_ids"].shape[1] :].tolist()


def test_export_adapter_matches_engine_generation(
    tiny_model_dir: str, trained_adapter: str, tmp_path: Path, engine_state: EngineState
) -> None:
    from character_engine.generation.decode_loop import generate_items
    from character_engine.generation.sampling import Sampling

    result = export(tiny_model_dir, trained_adapter, tmp_path / "export", merged=True)
    out = Path(result["output_dir"])
    names = {Path(f).name for f in result["files"]}
    assert {"adapter_model.safetensors", "adapter_config.json", "README.md", "deploy_example.py"} <= names
    assert not (out / "optimizer.pt").exists()  # training state stays out of the export

    # Greedy tokens: peft loading the exported folder == the engine's own generation path.
    exported_ids = peft_greedy_ids(tiny_model_dir, str(out), n=12)
    models, prefixes = engine_state.models, engine_state.prefixes
    loaded = models.load({"source": "local", "path": tiny_model_dir}, str(out))
    outputs, _ = generate_items(
        loaded, [{"messages": QUESTION}], Sampling(temperature=0.0, max_new_tokens=12), prefixes=prefixes
    )
    tok = loaded.tokenizer
    engine_text = outputs[0].text
    assert engine_text == tok.decode(exported_ids[: outputs[0].completion_tokens], skip_special_tokens=True)
    # The adapter changes the model (it is not a no-op export).
    bare, _ = generate_items(
        models.load({"source": "local", "path": tiny_model_dir}),
        [{"messages": QUESTION}],
        Sampling(0.0, 1.0, 12, 0),
        prefixes=prefixes,
    )
    assert bare[0].text != engine_text

    # The merged model gives the same greedy tokens as base + adapter.
    import torch
    from transformers import AutoModelForCausalLM

    merged = AutoModelForCausalLM.from_pretrained(result["merged_dir"]).eval()
    ids = tok.apply_chat_template(QUESTION, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        m_out = merged.generate(**ids, max_new_tokens=12, min_new_tokens=12, do_sample=False)
    assert m_out[0, ids["input_ids"].shape[1] :].tolist() == exported_ids
    assert any(Path(f).name.endswith(".safetensors") for f in result["files"] if "merged" in f)


def test_card_and_deploy_example(tiny_model_dir: str, trained_adapter: str, tmp_path: Path) -> None:
    result = export(tiny_model_dir, trained_adapter, tmp_path / "export", merged=False)
    out = Path(result["output_dir"])
    assert result["merged_dir"] is None and not (out / "merged").exists()
    card = (out / "README.md").read_text()
    assert "Beethoven (tiny test)" in card and "judge_win_rate" in card and "train_rows" in card
    assert "learning_rate" in card and "data_hash" in card and tiny_model_dir in card
    meta = json.loads((out / "card.json").read_text())
    assert meta["lora"]["r"] == 8 and meta["base"]["source"] == "local"
    assert json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"] == tiny_model_dir
    run = subprocess.run(
        [sys.executable, str(out / "deploy_example.py"), "What do you love?"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "system" not in (out / "deploy_example.py").read_text().split("def answer")[1].split("return")[
        0
    ].replace("no system prompt", "")


def test_gguf_base_is_recorded_in_card() -> None:
    from character_engine.export import base_description, render_card, render_deploy_example

    base = base_description({"source": "default"})
    assert base["gguf_file"].endswith(".gguf") and base["hub_repo"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    card = render_card(base, {"r": 16}, {}, {})
    assert "gguf_file=" in card and "dequantised" in card
    script = render_deploy_example(base)
    assert f"GGUF_FILE = {base['gguf_file']!r}" in script
    compile(script, "deploy_example.py", "exec")


def test_export_rejects_bad_params(tiny_model_dir: str, tmp_path: Path, make_ctx: MakeCtx) -> None:
    with pytest.raises(ModelLoadFailed):
        export(tiny_model_dir, str(tmp_path), tmp_path / "o", merged=False)
    from character_engine.handlers.export import handle_export_adapter

    with pytest.raises(InvalidParams) as err:
        handle_export_adapter(
            {"model": {"source": "default"}, "adapter": 3, "output_dir": "x"}, make_ctx(print)
        )
    assert err.value.detail["param"] == "adapter"
