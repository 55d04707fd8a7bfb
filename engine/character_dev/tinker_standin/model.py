"""The stand-in's model work: a local HF model with a LoRA adapter, the log-probs of target
tokens (1-D or [T, K] targets, as the SDK's TensorData allows), and sampling with optional
top-k log-probs. Everything runs on the CPU in float32."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

# The modules Tinker's train_attn / train_mlp / train_unembed switches cover.
ATTN = ("q_proj", "k_proj", "v_proj", "o_proj")
MLP = ("gate_proj", "up_proj", "down_proj")
UNEMBED = ("lm_head",)
# The SDK does not say; the downloaded adapter_config.json is what counts (see __init__).
# TINKER_STANDIN_LORA_ALPHA overrides it, so a test can line the stand-in up with a local run.
LORA_ALPHA = 32


def lora_alpha() -> float:
    return float(os.environ.get("TINKER_STANDIN_LORA_ALPHA") or LORA_ALPHA)


def resolve_model(name: str) -> str:
    """The local folder of a base model name (TINKER_STANDIN_MODELS)."""
    import tinker

    models = json.loads(os.environ.get("TINKER_STANDIN_MODELS", "{}"))
    if name not in models:
        raise _bad_request(tinker, f"base model {name!r} is not available (known: {sorted(models)})")
    return str(models[name])


def _bad_request(tinker: Any, message: str) -> Exception:
    import httpx

    request = httpx.Request("POST", "http://tinker-standin.invalid/api")
    return tinker.BadRequestError(message, response=httpx.Response(400, request=request), body=None)


def targets_for(base: Any, train_attn: bool, train_mlp: bool, train_unembed: bool) -> list[str]:
    wanted = (ATTN if train_attn else ()) + (MLP if train_mlp else ()) + (UNEMBED if train_unembed else ())
    present = {name.rsplit(".", 1)[-1] for name, _ in base.named_modules()}
    return [t for t in wanted if t in present]


@dataclass
class Loaded:
    model: Any  # a PeftModel (training) or a plain/Peft model (sampling)
    tokenizer: Any
    base_model: str
    targets: tuple[str, ...] = ()


def load(
    base_model: str, rank: int, switches: tuple[bool, bool, bool], seed: int, adapter: str | None
) -> Loaded:
    """A trainable LoRA model: a fresh adapter (rank; switches = train_attn, train_mlp,
    train_unembed; seed) or the one saved in `adapter`."""
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = resolve_model(base_model)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    base = AutoModelForCausalLM.from_pretrained(folder, torch_dtype=torch.float32)
    targets = targets_for(base, *switches)
    if adapter:
        model = PeftModel.from_pretrained(base, adapter, is_trainable=True)
    else:
        torch.manual_seed(seed)
        config = LoraConfig(
            r=rank,
            lora_alpha=lora_alpha(),
            lora_dropout=0.0,
            target_modules=targets,
            bias="none",
            task_type="CAUSAL_LM",
        )
        model = get_peft_model(base, config)
    model.train()
    return Loaded(model, tokenizer, base_model, tuple(targets))


def load_for_sampling(base_model: str, adapter: str | None) -> Loaded:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = resolve_model(base_model)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, torch_dtype=torch.float32)
    if adapter:
        model = PeftModel.from_pretrained(model, adapter)
    model.eval()
    return Loaded(model, tokenizer, base_model)


def target_logprobs(model: Any, ids: list[int], targets: Any) -> Any:
    """log p(targets[t] | ids[:t+1]) for every position t; targets [T] or [T, K]."""
    import torch

    logits = model(input_ids=torch.tensor([ids])).logits[0].float()
    logp = torch.log_softmax(logits, dim=-1)
    if targets.dim() == 1:
        return logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return logp.gather(-1, targets)


def stop_ids(model: Any, tokenizer: Any, stop: Any) -> set[int]:
    """stop=None: the model's EOS (the SDK's implicit EOS stopping); a list of ints: those."""
    if stop is None:
        ids = {int(tokenizer.eos_token_id)} if tokenizer.eos_token_id is not None else set()
        gen = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
        if isinstance(gen, int):
            ids.add(gen)
        elif isinstance(gen, (list, tuple)):
            ids.update(int(i) for i in gen)
        return ids
    if isinstance(stop, (list, tuple)) and all(isinstance(s, int) for s in stop):
        return {int(s) for s in stop}
    import tinker

    raise _bad_request(tinker, "the stand-in takes stop as None or token ids, not strings")


def sample_one(
    model: Any, prompt: list[int], params: Any, stops: set[int], topk: int, generator: Any
) -> tuple[list[int], list[float], list[list[tuple[int, float]]], str]:
    """(tokens, their log-probs, per-token top-k (id, logprob), stop reason); raw log-probs
    unless TINKER_STANDIN_TEMPERED_LOGPROBS=1."""
    import torch

    tokens: list[int] = []
    logprobs: list[float] = []
    tops: list[list[tuple[int, float]]] = []
    past = None
    step_ids = torch.tensor([prompt])
    reason = "length"
    with torch.no_grad():
        for _ in range(int(params.max_tokens or 16)):
            out = model(input_ids=step_ids, past_key_values=past, use_cache=True)
            past = out.past_key_values
            raw = torch.log_softmax(out.logits[0, -1].float(), dim=-1)
            token = _draw(raw, params, generator)
            tokens.append(token)
            # TINKER_STANDIN_TEMPERED_LOGPROBS=1 reports the sampler's tempered distribution:
            # what the engine must detect, since the SDK does not say which one the service gives.
            seen = (
                _tempered(raw, params) if os.environ.get("TINKER_STANDIN_TEMPERED_LOGPROBS") == "1" else raw
            )
            logprobs.append(float(seen[token]))
            if topk:
                top = seen.topk(topk)
                tops.append([(int(i), float(v)) for i, v in zip(top.indices, top.values, strict=True)])
            if token in stops:
                reason = "stop"
                break
            step_ids = torch.tensor([[token]])
    return tokens, logprobs, tops, reason


def _tempered(raw: Any, params: Any) -> Any:
    import torch

    temperature = float(params.temperature)
    return torch.log_softmax(raw / temperature, dim=-1) if temperature > 0 else raw


def _draw(raw: Any, params: Any, generator: Any) -> int:
    import torch

    temperature = float(params.temperature)
    if temperature <= 0:
        return int(raw.argmax())
    logits = raw / temperature
    if params.top_k and params.top_k > 0:
        kth = logits.topk(int(params.top_k)).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if params.top_p < 1:
        sorted_logits, order = logits.sort(descending=True)
        cum = torch.softmax(sorted_logits, dim=-1).cumsum(-1)
        cut = cum - torch.softmax(sorted_logits, dim=-1) > float(params.top_p)
        sorted_logits = sorted_logits.masked_fill(cut, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(0, order, sorted_logits)
    probs = torch.softmax(logits, dim=-1)
    return int(torch.multinomial(probs, 1, generator=generator))
