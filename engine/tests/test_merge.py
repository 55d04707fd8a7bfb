"""merge_adapters on the tiny random model: the merged adapter's update equals the weighted
sum of its parents' updates, in the weights and in the logits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from character_engine.errors import InvalidParams


def _random_adapter(model_dir: str, out: Path, r: int, alpha: float, seed: int, targets: list[str]) -> str:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    cfg = LoraConfig(r=r, lora_alpha=alpha, target_modules=targets, lora_dropout=0.0, init_lora_weights=False)
    model = get_peft_model(base, cfg)
    with torch.no_grad():  # B is zero after the default init: make both factors non-trivial
        for name, p in model.named_parameters():
            if "lora_" in name:
                p.copy_(torch.randn_like(p) * 0.2)
    model.save_pretrained(str(out))
    return str(out)


def _deltas(adapter_dir: str) -> dict[str, Any]:
    """module -> s * B @ A as PEFT computes it when it merges an adapter into the base."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(
        json.loads((Path(adapter_dir) / "adapter_config.json").read_text())["base_model_name_or_path"],
        dtype=torch.float32,
    )
    before = {n: p.detach().clone() for n, p in base.named_parameters()}
    merged = PeftModel.from_pretrained(base, adapter_dir).merge_and_unload()
    return {
        n: p.detach() - before[n]
        for n, p in merged.named_parameters()
        if not torch.equal(p.detach(), before[n])
    }


def _logits(model_dir: str, adapter_dir: str | None, ids: Any, weights: dict[str, Any] | None = None) -> Any:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    if weights:
        with torch.no_grad():
            params = dict(model.named_parameters())
            for name, delta in weights.items():
                params[name].add_(delta)
    if adapter_dir:
        model = PeftModel.from_pretrained(model, adapter_dir)
    model.eval()
    with torch.no_grad():
        return model(input_ids=ids).logits


def test_merged_adapter_equals_the_weighted_sum(tiny_model_dir: str, tmp_path: Path, make_ctx: Any) -> None:
    import torch

    from character_engine.handlers.merge import handle_merge_adapters

    # Different ranks, alphas and (partly) different modules, as DPO and SFT may have.
    dpo = _random_adapter(tiny_model_dir, tmp_path / "dpo", 4, 8, 1, ["q_proj", "v_proj"])
    sft = _random_adapter(
        tiny_model_dir, tmp_path / "sft", 8, 32, 2, ["q_proj", "k_proj", "v_proj", "o_proj"]
    )
    w_dpo, w_sft = 0.7, 0.4
    events: list[dict[str, Any]] = []
    result = handle_merge_adapters(
        {
            "adapters": [{"path": dpo, "weight": w_dpo}, {"path": sft, "weight": w_sft}],
            "output_dir": str(tmp_path / "merged"),
        },
        make_ctx(events.append),
    )
    merged = result["output_dir"]
    assert result["rank"] == 12  # q and v: 4 + 8; k and o keep SFT's 8 (rank_pattern)
    lineage = json.loads((Path(merged) / "merge.json").read_text())
    assert [p["weight"] for p in lineage["parents"]] == [w_dpo, w_sft]
    assert any(e["event"] == "progress" for e in events)

    d_dpo, d_sft, d_merged = _deltas(dpo), _deltas(sft), _deltas(merged)
    assert set(d_merged) == set(d_dpo) | set(d_sft)
    assert any(n not in d_dpo for n in d_merged)  # k/o: only SFT's term
    for name, delta in d_merged.items():
        expected = w_dpo * d_dpo.get(name, torch.zeros_like(delta)) + w_sft * d_sft.get(
            name, torch.zeros_like(delta)
        )
        assert torch.allclose(delta, expected, atol=1e-5), name
        assert delta.abs().max() > 1e-3  # not trivially zero

    # The logits of base + merged adapter equal those of the base with the summed updates added.
    ids = torch.tensor([[1, 5, 9, 17, 33, 2]])
    summed = {n: w_dpo * d_dpo.get(n, 0) + w_sft * d_sft.get(n, 0) for n in d_merged}
    via_adapter = _logits(tiny_model_dir, merged, ids)
    via_weights = _logits(tiny_model_dir, None, ids, summed)
    assert torch.allclose(via_adapter, via_weights, atol=1e-4)
    # ... and differ from either parent alone (the test can fail).
    assert not torch.allclose(via_adapter, _logits(tiny_model_dir, sft, ids), atol=1e-3)


def test_merge_refuses_bad_input(tiny_model_dir: str, tmp_path: Path, make_ctx: Any) -> None:
    from character_engine.handlers.merge import handle_merge_adapters

    one = _random_adapter(tiny_model_dir, tmp_path / "one", 4, 8, 1, ["q_proj"])
    with pytest.raises(InvalidParams) as e:
        handle_merge_adapters({"adapters": [{"path": one}], "output_dir": str(tmp_path / "m")}, make_ctx())
    assert e.value.detail["param"] == "adapters"
    with pytest.raises(InvalidParams) as e:
        handle_merge_adapters(
            {"adapters": [{"path": one}, {"path": one, "weight": "x"}], "output_dir": str(tmp_path / "m")},
            make_ctx(),
        )
    assert e.value.detail["param"] == "adapters[1].weight"
