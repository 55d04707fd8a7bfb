"""Llama-architecture models and PEFT LoRA adapters to GGUF, for llama.cpp and Ollama.

llama.cpp's own converters (convert_hf_to_gguf.py, convert_lora_to_gguf.py) are not
installable from PyPI, so this is a small converter for the one family the engine trains
most (LlamaForCausalLM: SmolLM2, Llama 2/3, Mistral without sliding windows), written with
the `gguf` package and the same conventions:

- tensor names `token_embd`, `blk.N.attn_q` ... `output_norm`, `output` (absent when the
  embeddings are tied);
- the q and k projections permuted from Hugging Face's half-split rotary layout to GGML's
  interleaved one (LlamaModel.permute); a LoRA's B matrix of q/k gets the same row
  permutation, its A matrix none;
- a LoRA file has `general.type = adapter`, `adapter.type = lora`, `adapter.lora.alpha`
  and the tensors `<base tensor>.lora_a` (r x in) and `.lora_b` (out x r); llama.cpp
  scales B·A by alpha / r, as peft does (rsLoRA's alpha / sqrt(r) is folded into alpha).

Everything is written as float32 (exactly the weights the engine computes with); llama.cpp's
llama-quantize makes smaller files from it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UnsupportedArchitecture

SUPPORTED_MODEL_TYPES = ("llama", "mistral")
# Hugging Face module name (inside model.layers.N) -> GGUF tensor name (inside blk.N).
LAYER_TENSORS = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
    "input_layernorm": "attn_norm",
    "post_attention_layernorm": "ffn_norm",
}
GLOBAL_TENSORS = {"model.embed_tokens": "token_embd", "model.norm": "output_norm", "lm_head": "output"}
# Token types as llama.cpp numbers them (gguf.TokenType).
NORMAL, CONTROL, USER_DEFINED = 1, 3, 4


def check_architecture(config: dict[str, Any]) -> None:
    """UnsupportedArchitecture unless this converter handles the model."""
    model_type = str(config.get("model_type"))
    if model_type not in SUPPORTED_MODEL_TYPES or config.get("sliding_window"):
        raise UnsupportedArchitecture(
            f"GGUF export handles Llama-architecture models only, not '{model_type}'",
            architecture=model_type,
        )
    if config.get("attention_bias") or config.get("mlp_bias"):
        raise UnsupportedArchitecture(
            "GGUF export does not handle attention/MLP biases", architecture=model_type
        )
    rope = rope_parameters(config)
    if rope.get("rope_type", "default") != "default":
        raise UnsupportedArchitecture(
            f"GGUF export does not handle rope scaling '{rope.get('rope_type')}'", architecture=model_type
        )


def rope_parameters(config: dict[str, Any]) -> dict[str, Any]:
    """transformers 5 nests rope_theta in rope_parameters; 4.x keeps it at the top level."""
    rope = dict(config.get("rope_parameters") or config.get("rope_scaling") or {})
    rope.setdefault("rope_theta", config.get("rope_theta", 10000.0))
    return rope


def head_dim(config: dict[str, Any]) -> int:
    return int(config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"])


def permute(weights: np.ndarray, n_head: int) -> np.ndarray:
    """Rows of a q/k projection from the half-split rotary layout to GGML's interleaved one."""
    rows = weights.shape[0]
    return (
        weights.reshape(n_head, 2, rows // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def _writer(path: Path, name: str) -> Any:
    import gguf

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name(name)
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    return writer


def _add_hyperparameters(writer: Any, config: dict[str, Any]) -> None:
    import gguf

    writer.add_type(gguf.GGUFType.MODEL)
    writer.add_block_count(int(config["num_hidden_layers"]))
    writer.add_context_length(int(config.get("max_position_embeddings", 2048)))
    writer.add_embedding_length(int(config["hidden_size"]))
    writer.add_feed_forward_length(int(config["intermediate_size"]))
    writer.add_head_count(int(config["num_attention_heads"]))
    writer.add_head_count_kv(int(config.get("num_key_value_heads") or config["num_attention_heads"]))
    writer.add_rope_freq_base(float(rope_parameters(config)["rope_theta"]))
    writer.add_layer_norm_rms_eps(float(config.get("rms_norm_eps", 1e-6)))
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_vocab_size(int(config["vocab_size"]))
    writer.add_rope_dimension_count(head_dim(config))
    writer.add_key_length(head_dim(config))
    writer.add_value_length(head_dim(config))


def _gguf_name(hf_name: str) -> tuple[str, str] | None:
    """('blk.3.attn_q', '.weight') for 'model.layers.3.self_attn.q_proj.weight'; None if unknown."""
    stem, _, suffix = hf_name.rpartition(".")
    if stem in GLOBAL_TENSORS:
        return GLOBAL_TENSORS[stem], "." + suffix
    parts = stem.split(".")
    if len(parts) >= 4 and parts[0] == "model" and parts[1] == "layers" and parts[2].isdigit():
        mapped = LAYER_TENSORS.get(".".join(parts[3:]))
        if mapped:
            return f"blk.{parts[2]}.{mapped}", "." + suffix
    return None


def _permute_for(gguf_name: str, config: dict[str, Any]) -> int | None:
    """The head count to permute this tensor's rows with (q: heads, k: kv heads), else None."""
    if gguf_name.endswith(".attn_q"):
        return int(config["num_attention_heads"])
    if gguf_name.endswith(".attn_k"):
        return int(config.get("num_key_value_heads") or config["num_attention_heads"])
    return None


def _load_safetensors(folder: Path) -> dict[str, np.ndarray]:
    import torch
    from safetensors import safe_open

    tensors: dict[str, np.ndarray] = {}
    for file in sorted(folder.glob("*.safetensors")):
        with safe_open(str(file), framework="pt") as fh:
            for key in fh.keys():  # noqa: SIM118 - safe_open has no __iter__
                tensors[key] = fh.get_tensor(key).to(torch.float32).numpy()
    return tensors


def write_model_gguf(hf_dir: Path, out: Path, name: str, tokenizer_gguf: str | None = None) -> None:
    """The Hugging Face folder hf_dir (config.json, *.safetensors, tokenizer) as one F32 GGUF.
    The tokenizer comes from tokenizer_gguf's metadata when the model came from a GGUF file
    (exactly what that file's users tokenize with), else from hf_dir's tokenizer.json."""
    config = json.loads((hf_dir / "config.json").read_text(encoding="utf-8"))
    check_architecture(config)
    tensors = _load_safetensors(hf_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = _writer(out, name)
    _add_hyperparameters(writer, config)
    if tokenizer_gguf:
        copy_tokenizer_fields(tokenizer_gguf, writer)
    else:
        add_hf_tokenizer(hf_dir, config, writer)
    for hf_name, data in tensors.items():
        mapped = _gguf_name(hf_name)
        if mapped is None:
            raise UnsupportedArchitecture(f"GGUF export: unexpected tensor {hf_name}", architecture="llama")
        base, suffix = mapped
        if base == "output" and config.get("tie_word_embeddings"):
            continue  # llama.cpp reuses token_embd when output is absent
        heads = _permute_for(base, config)
        writer.add_tensor(base + suffix, permute(data, heads) if heads else data)
    _finish(writer)


def write_lora_gguf(adapter_dir: Path, base_config: dict[str, Any], out: Path, name: str) -> None:
    """A PEFT LoRA adapter folder as a GGUF LoRA for llama.cpp's --lora and Ollama's ADAPTER."""
    check_architecture(base_config)
    cfg = json.loads((adapter_dir / "adapter_config.json").read_text(encoding="utf-8"))
    if cfg.get("peft_type", "LORA") != "LORA" or cfg.get("use_dora"):
        raise UnsupportedArchitecture(
            "GGUF LoRA export handles plain LoRA adapters only", architecture="llama"
        )
    if cfg.get("rank_pattern") or cfg.get("alpha_pattern"):
        raise UnsupportedArchitecture("GGUF LoRA export needs one rank and alpha for all modules")
    rank, alpha = int(cfg["r"]), float(cfg["lora_alpha"])
    # llama.cpp scales by alpha / r; rsLoRA scales by alpha / sqrt(r): fold the difference into alpha.
    gguf_alpha = alpha * math.sqrt(rank) if cfg.get("use_rslora") else alpha
    pairs: dict[str, dict[str, np.ndarray]] = {}
    for key, data in _load_safetensors(adapter_dir).items():
        hf_key = key.removeprefix("base_model.model.")
        for part in ("lora_A", "lora_B"):
            marker = f".{part}."
            if marker in hf_key:
                module = hf_key.split(marker)[0]
                mapped = _gguf_name(module + ".weight")
                if mapped is None or mapped[0] in ("token_embd", "output"):
                    raise UnsupportedArchitecture(f"GGUF LoRA export: unexpected module {module}")
                pairs.setdefault(mapped[0], {})[part] = data
                break
        else:
            raise UnsupportedArchitecture(f"GGUF LoRA export: unexpected tensor {key}")
    import gguf

    out.parent.mkdir(parents=True, exist_ok=True)
    writer = _writer(out, name)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, gguf_alpha)
    for base in sorted(pairs):
        a, b = pairs[base]["lora_A"], pairs[base]["lora_B"]
        heads = _permute_for(base, base_config)
        writer.add_tensor(base + ".weight.lora_a", a)
        writer.add_tensor(base + ".weight.lora_b", permute(b, heads) if heads else b)
    _finish(writer)


def _finish(writer: Any) -> None:
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def copy_tokenizer_fields(path: str, writer: Any) -> None:
    """Every tokenizer.* field of an existing GGUF file, unchanged."""
    from gguf import GGUFReader, GGUFValueType

    reader = GGUFReader(path)
    for key, field in reader.fields.items():
        if not key.startswith("tokenizer."):
            continue
        value = field.contents()
        if field.types[0] == GGUFValueType.ARRAY:
            writer.add_key_value(key, value, GGUFValueType.ARRAY, sub_type=field.types[-1])
        else:
            writer.add_key_value(key, value, field.types[0])


def pre_tokenizer_name(tokenizer_json: dict[str, Any]) -> str:
    """llama.cpp's name for a byte-level BPE pre-tokenizer: 'gpt-2' for ByteLevel alone,
    'smollm' for single digits + ByteLevel, else 'default' (llama.cpp's own guess)."""
    pre = tokenizer_json.get("pre_tokenizer") or {}
    steps = pre.get("pretokenizers") if pre.get("type") == "Sequence" else [pre]
    kinds = [(s or {}).get("type") for s in steps or []]
    if kinds == ["ByteLevel"] and steps[0].get("use_regex", True):
        return "gpt-2"
    if (
        kinds == ["Digits", "ByteLevel"]
        and steps[0].get("individual_digits")
        and steps[1].get("use_regex", True)
    ):
        return "smollm"
    return "default"


def add_hf_tokenizer(hf_dir: Path, config: dict[str, Any], writer: Any) -> None:
    """A byte-level BPE tokenizer.json as llama.cpp's 'gpt2' tokenizer model."""
    import gguf

    path = hf_dir / "tokenizer.json"
    if not path.is_file():
        raise UnsupportedArchitecture("GGUF export needs a tokenizer.json (byte-level BPE)")
    data = json.loads(path.read_text(encoding="utf-8"))
    model = data.get("model") or {}
    if model.get("type") != "BPE":
        raise UnsupportedArchitecture(f"GGUF export handles BPE tokenizers only, not {model.get('type')}")
    vocab: dict[str, int] = dict(model.get("vocab") or {})
    added = {t["content"]: t for t in data.get("added_tokens") or []}
    for content, token in added.items():
        vocab[content] = int(token["id"])
    by_id = {i: t for t, i in vocab.items()}
    size = max(int(config.get("vocab_size") or 0), max(by_id) + 1)
    tokens, types = [], []
    for i in range(size):
        token = by_id.get(i)
        if token is None:
            tokens.append(f"[PAD{i}]")
            types.append(USER_DEFINED)
        elif token in added:
            tokens.append(token)
            types.append(CONTROL if added[token].get("special") else USER_DEFINED)
        else:
            tokens.append(token)
            types.append(NORMAL)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(pre_tokenizer_name(data))
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    special = gguf.SpecialVocab(hf_dir, load_merges=True, n_vocab=size)
    special.add_to_gguf(writer, quiet=True)
