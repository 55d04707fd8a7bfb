"""Model loading: sources, cache, adapters and the typed errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from _helpers import make_lora_adapter, truncated_copy, write_gguf

from character_engine.errors import (
    CorruptFile,
    InvalidParams,
    ModelLoadFailed,
    ModelNotFound,
    UnsupportedArchitecture,
)
from character_engine.models.cache import MAX_CACHED_BASES, ModelCache, load_private
from character_engine.models.checks import validate_safetensors
from character_engine.models.loaders.gguf import gguf_architecture, gguf_architecture_supported
from character_engine.models.specs import default_model_path, parse_spec, spec_key
from character_engine.state import EngineState


@pytest.fixture
def cache(engine_state: EngineState) -> ModelCache:
    return engine_state.models


def test_local_model_info_and_cache(tiny_model_dir: str, cache: ModelCache) -> None:
    spec = {"source": "local", "path": tiny_model_dir}
    a = cache.load(spec)
    b = cache.load(spec)
    assert a.model is b.model  # served from the cache
    assert a.info["architecture"] == "LlamaForCausalLM" and a.info["has_chat_template"]
    assert a.info["parameters"] == sum(p.numel() for p in a.model.parameters())
    assert a.info["vocab_size"] == a.model.config.vocab_size
    assert a.tokenizer.padding_side == "left" and a.tokenizer.pad_token_id is not None
    assert a.key == spec_key(spec) == a.info["key"]
    fresh = load_private(spec)
    assert fresh.model is not a.model


def test_lru_keeps_at_most_two_bases(tiny_model_dir: str, tmp_path: Path, cache: ModelCache) -> None:
    dirs = [tiny_model_dir]
    for i in range(2):
        shutil.copytree(tiny_model_dir, tmp_path / f"m{i}")
        dirs.append(str(tmp_path / f"m{i}"))
    for d in dirs:
        cache.load({"source": "local", "path": d})
    keys = cache.keys()
    assert len(keys) == MAX_CACHED_BASES == 2
    assert spec_key({"source": "local", "path": dirs[0]}) not in keys
    assert cache.unload(keys[0]) is True
    assert cache.keys() == keys[1:]


def test_adapter_changes_outputs_and_base_stays_reachable(
    tiny_model_dir: str, tmp_path: Path, cache: ModelCache
) -> None:
    import torch

    adapter = make_lora_adapter(tiny_model_dir, tmp_path / "adapter")
    spec = {"source": "local", "path": tiny_model_dir}
    ids = torch.tensor([[5, 6, 7, 8, 9]])
    base = cache.load(spec)
    with base.activated() as m, torch.no_grad():
        before = m(input_ids=ids).logits
    tuned = cache.load(spec, adapter)
    assert tuned.adapter_name is not None and tuned.key.endswith(str(Path(adapter).resolve()))
    with tuned.activated() as m, torch.no_grad():
        with_adapter = m(input_ids=ids).logits
    base_again = cache.load(spec)
    with base_again.activated() as m, torch.no_grad():
        after = m(input_ids=ids).logits
    assert not torch.allclose(before, with_adapter, atol=1e-4)
    assert torch.allclose(before, after, atol=1e-6)  # the bare model is still the bare model
    assert cache.unload(tuned.key) is True
    private = load_private(spec, adapter)
    with private.activated() as m, torch.no_grad():
        assert torch.allclose(m(input_ids=ids).logits, with_adapter, atol=1e-5)


def test_missing_paths(tmp_path: Path, tiny_model_dir: str, cache: ModelCache) -> None:
    with pytest.raises(ModelNotFound) as info:
        cache.load({"source": "local", "path": str(tmp_path / "nope")})
    assert info.value.detail["path"] == str(tmp_path / "nope")
    with pytest.raises(ModelNotFound):
        cache.load({"source": "local", "path": tiny_model_dir}, str(tmp_path / "no-adapter"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadFailed) as info:
        cache.load({"source": "local", "path": str(tmp_path / "empty")})
    assert "config.json" in info.value.message


def test_truncated_safetensors_is_corrupt_file(
    tiny_model_dir: str, tmp_path: Path, cache: ModelCache
) -> None:
    broken = truncated_copy(tiny_model_dir, tmp_path / "broken")
    with pytest.raises(CorruptFile) as info:
        cache.load({"source": "local", "path": broken})
    assert info.value.detail["file"] == str(Path(broken) / "model.safetensors")
    validate_safetensors(Path(tiny_model_dir) / "model.safetensors")  # the intact one passes


def test_unknown_model_type_is_unsupported(tiny_model_dir: str, tmp_path: Path, cache: ModelCache) -> None:
    import json

    odd = tmp_path / "odd"
    shutil.copytree(tiny_model_dir, odd)
    config = json.loads((odd / "config.json").read_text())
    config["model_type"] = "quantum-llama-9000"
    config["architectures"] = ["QuantumLlamaForCausalLM"]
    (odd / "config.json").write_text(json.dumps(config))
    with pytest.raises(UnsupportedArchitecture) as info:
        cache.load({"source": "local", "path": str(odd)})
    assert info.value.detail["architecture"] == "quantum-llama-9000"


def test_gguf_architecture_checks(tmp_path: Path, cache: ModelCache) -> None:
    path = write_gguf(tmp_path / "m.gguf", "mamba-nonexistent")
    assert gguf_architecture(path) == "mamba-nonexistent"
    with pytest.raises(UnsupportedArchitecture) as info:
        cache.load({"source": "gguf", "path": path})
    assert info.value.detail["architecture"] == "mamba-nonexistent"
    assert gguf_architecture_supported("llama")
    assert gguf_architecture(default_model_path()) == "llama"


def test_spec_validation() -> None:
    with pytest.raises(InvalidParams) as info:
        parse_spec({"source": "local"})
    assert info.value.detail["param"] == "model.path"
    with pytest.raises(InvalidParams):
        parse_spec({"source": "hub", "repo_id": "no-slash"})
    assert spec_key({"source": "hub", "repo_id": "a/b"}) == "hub:a/b@main"
    assert parse_spec({"source": "default", "path": "ignored"}) == {"source": "default"}
