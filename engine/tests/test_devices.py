"""The engine's numerics on every device torch can use here (cpu always; cuda and mps when
present), each in the dtype the engine computes in there (devices.dtype_for): the single-copy
prefix attention against SDPA over the copied prefix, shared-prefix training against the plain
batch (log-probs and LoRA gradients), and prefix-cached greedy decoding against uncached.
On a machine without a GPU only the cpu cases run; scripts/gpu-check.sh runs this file (and
the tiny-model suite) on each GPU device."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _helpers import make_sharp_model
from test_generation import QUESTIONS, SYSTEM, _reference_attention
from test_sft import SHARED_SYSTEM, base_params, write_rows

from character_engine.devices import available_devices, dtype_for

DEVICES = available_devices()
# Absolute tolerance of a half-precision result against the float32 reference: bf16 keeps
# 8 bits of mantissa (~4e-3 relative), and a softmax over ~20 keys compounds a few of those.
HALF_ATOL = 3e-2


def tolerance(dtype: str) -> float:
    return 1e-5 if dtype == "float32" else HALF_ATOL


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("q_len", [1, 5])
def test_prefix_attention_matches_sdpa_on_the_device(device: str, q_len: int) -> None:
    import torch

    from character_engine import prefix_attention

    dtype = getattr(torch, dtype_for(device))
    torch.manual_seed(0)
    b, hq, hkv, d, plen, own = 3, 6, 2, 16, 13, 7
    pk, pv = torch.randn(hkv, plen, d), torch.randn(hkv, plen, d)
    query = torch.randn(b, hq, q_len, d)
    key, value = torch.randn(b, hkv, own, d), torch.randn(b, hkv, own, d)
    visible = torch.ones(b, 1, q_len, plen + own, dtype=torch.bool)
    visible[1, :, :, plen : plen + 2] = False  # left padding of row 1
    for i in range(q_len):
        visible[:, :, i, plen + own - q_len + i + 1 :] = False

    class Layer:
        layer_idx = 0

    def on(t: Any) -> Any:
        return t.to(device=device, dtype=dtype)

    with prefix_attention.active_prefix([(on(pk), on(pv))]):
        got, _ = prefix_attention.prefix_attention(
            Layer(), on(query), on(key), on(value), visible.to(device), scaling=0.25
        )
    full_k = torch.cat([pk.expand(b, -1, -1, -1), key], dim=2)
    full_v = torch.cat([pv.expand(b, -1, -1, -1), value], dim=2)
    want = _reference_attention(query, full_k, full_v, visible, 0.25)  # float32 on the cpu
    assert got.device.type == device and got.dtype == dtype
    assert torch.allclose(got.float().cpu(), want, atol=tolerance(dtype_for(device)))


def _model_on(path: str, device: str, dtype: str) -> Any:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from character_engine.models.loaded import LoadedModel

    model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype)).to(device).eval()
    tok = AutoTokenizer.from_pretrained(path)
    tok.padding_side = "left"
    return LoadedModel(model=model, tokenizer=tok, info={"key": path}, key=path)


@pytest.mark.parametrize("device", DEVICES)
def test_shared_prefix_training_matches_the_plain_batch_on_the_device(
    device: str, tiny_model_dir: str, tmp_path: Path
) -> None:
    import torch

    from character_engine.training.config import parse_config
    from character_engine.training.data import collate, load_sft, pad_id_of
    from character_engine.training.logprobs import label_logprobs, shared_prefix_len
    from character_engine.training.lora import attach_lora

    rows = [
        {
            "messages": [
                {"role": "system", "content": SHARED_SYSTEM},
                {"role": "user", "content": q},
                {"role": "assistant", "content": a},
            ]
        }
        for q, a in [
            ("Hi?", "Yes."),
            ("What is music?", "A higher revelation than wisdom."),
            ("Where?", "Vienna."),
        ]
    ]
    path = write_rows(tmp_path / "shared.jsonl", rows)
    cfg = parse_config(dict(base_params(tiny_model_dir, tmp_path), train_path=path))
    dtype = dtype_for(device)
    loaded = _model_on(tiny_model_dir, device, dtype)
    model = attach_lora(loaded.model, cfg, None).train()
    torch.manual_seed(0)
    for name, p in model.named_parameters():
        if "lora_B" in name:  # nonzero B, so A's gradients are not all zero
            p.data.normal_(0.0, 0.5)
    batch = collate(load_sft(path, loaded.tokenizer, 128, "train_path"), pad_id_of(loaded.tokenizer))
    assert shared_prefix_len(batch) >= 16
    batch = {k: v.to(device) for k, v in batch.items()}
    runs = []
    for share in (True, False):
        model.zero_grad()
        logps, _ = label_logprobs(model, batch, share_prefix=share)
        (-logps.float().sum()).backward()
        grads = {n: p.grad.float().cpu() for n, p in model.named_parameters() if p.requires_grad}
        runs.append((logps.detach().float().cpu(), grads))
    (lp_a, g_a), (lp_b, g_b) = runs
    assert torch.isfinite(lp_a).all()
    atol = 1e-4 if dtype == "float32" else 5e-2
    assert torch.allclose(lp_a, lp_b, atol=atol)
    for name in g_a:
        scale = float(g_b[name].abs().max()) or 1.0
        assert float((g_a[name] - g_b[name]).abs().max()) <= (1e-3 if dtype == "float32" else 5e-2) * scale, (
            name
        )


@pytest.mark.parametrize("device", DEVICES)
def test_prefix_cached_greedy_decoding_matches_uncached_on_the_device(
    device: str, tiny_model_dir: str, tmp_path: Path
) -> None:
    """In float32 the cached and uncached paths must agree token for token (the same
    arithmetic on the device's kernels); half precision is covered by the two tests above."""
    from character_engine.generation.decode_loop import generate_items
    from character_engine.generation.sampling import Sampling
    from character_engine.state import EngineState

    sharp = make_sharp_model(tiny_model_dir, tmp_path / "sharp")
    loaded = _model_on(sharp, device, "float32")
    greedy = Sampling(temperature=0.0, top_p=1.0, max_new_tokens=12, seed=0)
    items = [{"system": SYSTEM, "messages": [{"role": "user", "content": q}]} for q in QUESTIONS]
    cached, _ = generate_items(loaded, items, greedy, prefixes=EngineState().prefixes, batch_size=5)
    plain, _ = generate_items(loaded, items, greedy, prefixes=None, batch_size=1)
    assert [o.text for o in cached] == [o.text for o in plain]
    assert all(o.completion_tokens > 0 for o in cached)
