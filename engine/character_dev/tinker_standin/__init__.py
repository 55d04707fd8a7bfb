"""A local stand-in for the Tinker service, behind the official SDK's client interface.

The Tinker service cannot be reached from the machines this project is built on, so the
engine's Tinker backend (character_engine/tinker_backend) is tested against this package.
It is test code: it lives in character_dev, which a character_engine wheel does not ship.

What it copies from the SDK (tinker 0.38.0: lib/public_interfaces/*.py, types/*.py, and the
tinker-cookbook recipes) and not from guesswork:
- ServiceClient(api_key=..., base_url=...); create_lora_training_client(base_model, rank,
  seed, train_mlp, train_attn, train_unembed), create_training_client_from_state[_with_optimizer]
  (path), create_sampling_client(model_path | base_model), create_rest_client(); each
  returns a future whose .result() is the client.
- TrainingClient.forward / forward_backward(data, loss_fn) with loss_fn "cross_entropy"
  (L = sum(-logprobs * weights); target_tokens 1-D or 2-D [T, K]) and "importance_sampling"
  (L = -sum(exp(logprobs - sampling logprobs) * advantages)); the reply holds per-datum
  {"logprobs": TensorData} of the target tokens and metrics {"loss:sum"}. Gradients add up
  over calls until optim_step(AdamParams) applies them (AdamW, the SDK's grad_clip_norm).
- forward_backward_custom(data, fn) the way the SDK runs it client-side: a forward pass for
  the targets' log-probs, fn(data, logprobs_list) -> (loss, metrics), then a cross_entropy
  backward with weights = -dloss/dlogprobs.
- save_state / save_weights_for_sampler / save_weights_external / save_weights_and_get_
  sampling_client, with tinker://<run>/weights|sampler_weights|external_weights/<name> paths;
  external weights are a PEFT adapter (adapter_config.json + adapter_model.safetensors),
  downloaded through RestClient.get_external_weights_urls (signed URLs; here file:// URLs).
- SamplingClient.sample(prompt, num_samples, sampling_params, topk_sample_logprobs=k) and
  compute_logprobs(prompt) (None at position 0). Sampled tokens end with the stop token when
  one stopped them (the cookbook's parse_response_for_stop_token expects it); stop=None
  stops at the model's EOS.

What it assumes where the SDK does not say: LoRA alpha 32 and no dropout; sample and
top-k log-probs are the model's raw distribution (temperature 1), as vLLM reports them.

Configuration (environment, so the engine subprocess sees it):
  TINKER_STANDIN_ROOT     the "server's" storage (checkpoints, runs); required
  TINKER_STANDIN_MODELS   JSON {"base model name": "local HF folder"}
  TINKER_STANDIN_API_KEY  when set, the only key accepted (others: AuthenticationError 401)
The engine picks the stand-in up through CHARACTER_ENGINE_TINKER_CLIENT=
character_dev.tinker_standin:ServiceClient.
"""

from __future__ import annotations

from .clients import RestClient, SamplingClient, ServiceClient, TrainingClient

FACTORY = "character_dev.tinker_standin:ServiceClient"

__all__ = ["FACTORY", "RestClient", "SamplingClient", "ServiceClient", "TrainingClient", "environment"]


def environment(root: str, models: dict[str, str], api_key: str | None = None) -> dict[str, str]:
    """The environment variables that point the engine at this stand-in."""
    import json

    env = {
        "CHARACTER_ENGINE_TINKER_CLIENT": FACTORY,
        "TINKER_STANDIN_ROOT": root,
        "TINKER_STANDIN_MODELS": json.dumps(models),
    }
    if api_key is not None:
        env["TINKER_STANDIN_API_KEY"] = api_key
    return env
