"""What llama.cpp's --lora does to a GGUF base, done with the gguf package's own reader so a
test can load the result in the engine: every tensor `T.lora_a` / `T.lora_b` of a GGUF LoRA
adds (alpha / r) * B @ A to the base tensor T, in GGUF's layout (q/k rows already permuted
by the converter). The base may be quantized; it is dequantized first (as transformers does)
and the result is written as F32."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _field_value(field) -> object:
    return field.contents()


def apply_lora(base_gguf: str, lora_gguf: str, out: Path) -> dict[str, int]:
    """Writes base + LoRA to out; returns how many tensors the LoRA changed."""
    import gguf
    from gguf import GGUFReader, GGUFValueType
    from gguf.quants import dequantize

    lora = GGUFReader(lora_gguf)
    assert _field_value(lora.fields["general.type"]) == "adapter"
    assert _field_value(lora.fields["adapter.type"]) == "lora"
    alpha = float(_field_value(lora.fields["adapter.lora.alpha"]))
    pairs: dict[str, dict[str, np.ndarray]] = {}
    for t in lora.tensors:
        base_name, _, part = t.name.rpartition(".")
        pairs.setdefault(base_name, {})[part] = np.array(t.data, dtype=np.float32)

    base = GGUFReader(base_gguf)
    arch = _field_value(base.fields["general.architecture"])
    writer = gguf.GGUFWriter(str(out), str(arch))
    for key, field in base.fields.items():
        if key.startswith("GGUF.") or key in ("general.architecture", "general.file_type"):
            continue
        value = field.contents()
        if field.types[0] == GGUFValueType.ARRAY:
            writer.add_key_value(key, value, GGUFValueType.ARRAY, sub_type=field.types[-1])
        else:
            writer.add_key_value(key, value, field.types[0])
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    changed = 0
    for t in base.tensors:
        data = dequantize(t.data, t.tensor_type).astype(np.float32).reshape(tuple(reversed(t.shape.tolist())))
        pair = pairs.get(t.name)
        if pair is not None:
            a, b = pair["lora_a"], pair["lora_b"]  # (r, in), (out, r)
            data = data + (alpha / a.shape[0]) * (b @ a)
            changed += 1
        writer.add_tensor(t.name, np.ascontiguousarray(data))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return {"changed": changed, "lora_tensors": len(pairs)}
