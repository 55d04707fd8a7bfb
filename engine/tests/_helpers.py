"""Helpers for the engine core tests: a protocol client over a real subprocess, a
"sharp" tiny random model (larger weights, so greedy decoding is not degenerate), a
tiny LoRA adapter and a tiny GGUF file. Every model here is random: mechanics only."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from character_engine.context import RequestContext

ENGINE_DIR = Path(__file__).resolve().parents[1]
# The `make_ctx` fixture (conftest.py): make_ctx(emit=None, request_id="t") -> RequestContext.
MakeCtx = Callable[..., "RequestContext"]
# Tests share a small machine with other work; one torch thread avoids spin-wait
# contention (tiny models run many times faster). See devices.select_device.
os.environ.setdefault("CHARACTER_ENGINE_THREADS", "1")


class EngineProcess:
    """`python -m character_engine` as a child; every stdout line must be protocol JSON."""

    def __init__(self, argv: list[str] | None = None) -> None:
        env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, *(argv or ["-m", "character_engine"])],
            cwd=ENGINE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.raw_stdout: list[bytes] = []
        self.stderr: list[bytes] = []
        threading.Thread(target=self._read_out, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()
        self._n = 0

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.raw_stdout.append(raw)
            self.lines.put(json.loads(raw))  # raises (and the test fails) on a non-JSON stdout line

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            self.stderr.append(raw)

    def send_raw(self, line: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line)
        self.proc.stdin.flush()

    def send(self, method: str, params: dict[str, Any] | None = None, req_id: str | None = None) -> str:
        self._n += 1
        rid = req_id or f"r{self._n}"
        self.send_raw((json.dumps({"id": rid, "method": method, "params": params or {}}) + "\n").encode())
        return rid

    def next(self, timeout: float = 120) -> dict[str, Any]:
        return self.lines.get(timeout=timeout)

    def wait_for(self, rid: str | None, timeout: float = 180) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The final reply for rid plus the events seen for it on the way."""
        events = []
        deadline = time.monotonic() + timeout
        while True:
            msg = self.next(max(0.1, deadline - time.monotonic()))
            if msg.get("id") != rid:
                continue
            if "event" in msg:
                events.append(msg)
                continue
            return msg, events

    def call(
        self, method: str, params: dict[str, Any] | None = None, timeout: float = 180
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        return self.wait_for(self.send(method, params), timeout)

    def close(self) -> int:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return int(self.proc.returncode)


def make_sharp_model(src: str, dest: Path, seed: int = 1, std: float = 0.3) -> str:
    """Copy of the tiny random model with larger random weights: its greedy output varies
    from token to token, which a prefix-cache equivalence test needs."""
    import torch
    from transformers import AutoModelForCausalLM

    shutil.copytree(src, dest)
    model = AutoModelForCausalLM.from_pretrained(str(dest))
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.copy_(torch.randn(p.shape, generator=g) * std)
    model.save_pretrained(str(dest))
    return str(dest)


def make_lora_adapter(model_dir: str, dest: Path, seed: int = 0) -> str:
    """A random (non-zero) LoRA adapter for the tiny model, saved in PEFT format."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir)
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:  # lora_B starts at zero; make the adapter actually change outputs
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    peft_model.save_pretrained(str(dest))
    return str(dest)


def write_gguf(path: Path, architecture: str) -> str:
    """A minimal GGUF file declaring `architecture` (one small tensor)."""
    import numpy as np
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), architecture)
    writer.add_block_count(1)
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return str(path)


def truncated_copy(model_dir: str, dest: Path) -> str:
    """A copy of the model folder whose model.safetensors lost its second half."""
    shutil.copytree(model_dir, dest)
    weights = dest / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    return str(dest)
