"""ServiceClient and TrainingClient of the stand-in, with the SDK's method names, arguments
and reply types (tinker.types); SamplingClient and RestClient are read_clients.py's. Work is
done when a method is called; the returned future's .result() hands it over (future.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from . import model as m
from . import store
from .future import Future, check_key
from .read_clients import RestClient, SamplingClient
from .strict import check_data, check_type, sdk


class ServiceClient:
    @sdk("ServiceClient")
    def __init__(
        self,
        user_metadata: dict[str, str] | None = None,
        project_id: str | None = None,
        *,
        display_name: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        **_kwargs: Any,
    ) -> None:
        self.api_key = api_key if api_key is not None else os.environ.get("TINKER_API_KEY")
        self.base_url = base_url
        self.closed = False
        # Open until close(): the SDK's session and heartbeat thread live as long (see store).
        self.session_id = store.open_session()

    def _live(self) -> None:
        check_key(self.api_key)
        if self.closed:
            raise RuntimeError("ServiceClient is closed")

    @sdk("ServiceClient")
    def create_lora_training_client(
        self,
        base_model: str,
        rank: int = 32,
        seed: int | None = None,
        train_mlp: bool = True,
        train_attn: bool = True,
        train_unembed: bool = True,
        user_metadata: dict[str, str] | None = None,
        optimizer: Any = None,
    ) -> Future:
        self._live()
        loaded = m.load(base_model, rank, (train_attn, train_mlp, train_unembed), seed or 0, None)
        return Future(TrainingClient(store.new_run_id(), loaded, rank))

    def _from_state(self, path: str, with_optimizer: bool) -> TrainingClient:
        self._live()
        meta = store.read_meta(path)
        if meta["type"] != "training":
            raise ValueError(f"{path} is not a training checkpoint (weights/)")
        folder = store.folder(*store.parse(path))
        loaded = m.load(meta["base_model"], meta["rank"], tuple(meta["switches"]), 0, str(folder))
        client = TrainingClient(store.new_run_id(), loaded, meta["rank"])
        if with_optimizer:
            client.load_optimizer(folder / "optimizer.pt")
        return client

    @sdk("ServiceClient")
    def create_training_client_from_state(self, path: str, base_model: str | None = None, **_: Any) -> Future:
        return Future(self._from_state(path, with_optimizer=False))

    @sdk("ServiceClient")
    def create_training_client_from_state_with_optimizer(
        self, path: str, base_model: str | None = None, **_: Any
    ) -> Future:
        return Future(self._from_state(path, with_optimizer=True))

    @sdk("ServiceClient")
    def create_sampling_client(
        self, model_path: str | None = None, base_model: str | None = None, **_: Any
    ) -> Future:
        self._live()
        if model_path is None and base_model is None:
            raise ValueError("Either model_path or base_model must be provided")
        if model_path is not None:
            run_id, kind, name = store.parse(model_path)
            meta = store.read_meta(model_path)
            loaded = m.load_for_sampling(meta["base_model"], str(store.folder(run_id, kind, name)))
        else:
            loaded = m.load_for_sampling(str(base_model), None)
        return Future(SamplingClient(loaded))

    @sdk("ServiceClient")
    def create_rest_client(self) -> RestClient:
        return RestClient(api_key=self.api_key)

    @sdk("ServiceClient")
    def close(self, status: str, detail: str | None = None) -> Future:
        if status not in ("success", "errored", "interrupted"):
            raise ValueError(f"close status {status!r}")
        if not self.closed:
            self.closed = True
            store.close_session(self.session_id, status)
        return Future(None)


class TrainingClient:
    def __init__(self, run_id: str, loaded: m.Loaded, rank: int) -> None:
        self.run_id = run_id
        self.loaded = loaded
        self.rank = rank
        self.optimizer: Any = None
        self._pending_optimizer: Any = None

    # --- forward / backward -------------------------------------------------------------

    def _run(self, data: list[Any], loss_fn: str, backward: bool) -> Any:
        import torch
        from tinker import types

        check_data(data, loss_fn)
        outputs, total = [], 0.0
        for datum in data:
            ids = datum.model_input.to_ints()
            inputs = datum.loss_fn_inputs
            targets = inputs["target_tokens"].to_torch().long()
            if targets.shape[0] != len(ids):
                raise m._bad_request(
                    __import__("tinker"),
                    f"target_tokens has {targets.shape[0]} rows for {len(ids)} input tokens",
                )
            with torch.set_grad_enabled(backward):
                lp = m.target_logprobs(self.loaded.model, ids, targets)
                if loss_fn == "cross_entropy":
                    weights = inputs["weights"].to_torch().float()
                    loss = -(lp * weights).sum()
                else:
                    ratio = torch.exp(lp - inputs["logprobs"].to_torch().float())
                    loss = -(ratio * inputs["advantages"].to_torch().float()).sum()
            if backward:
                loss.backward()
            total += float(loss.detach())
            outputs.append({"logprobs": types.TensorData.from_torch(lp.detach().float())})
        return types.ForwardBackwardOutput(
            loss_fn_output_type="ArrayRecord", loss_fn_outputs=outputs, metrics={"loss:sum": total}
        )

    @sdk("TrainingClient")
    def forward(self, data: list[Any], loss_fn: str, loss_fn_config: Any = None) -> Future:
        return Future(self._run(data, loss_fn, backward=False))

    @sdk("TrainingClient")
    def forward_backward(self, data: list[Any], loss_fn: str, loss_fn_config: Any = None) -> Future:
        return Future(self._run(data, loss_fn, backward=True))

    @sdk("TrainingClient")
    def forward_backward_custom(self, data: list[Any], loss_fn: Any, **_: Any) -> Future:
        """As the SDK does it: forward, the custom loss on detached log-probs, then a
        cross_entropy backward with weights = -d loss / d logprobs. Only target_tokens and
        weights go to the service (zero weights where none were given); the loss sees all."""
        from tinker import types

        for i, d in enumerate(data):
            check_type(d, types.Datum, f"data[{i}]")

        def zeros(t: Any) -> Any:
            return types.TensorData(data=[0.0] * len(t.data), dtype="float32", shape=t.shape)

        forward = self._run(
            [
                types.Datum(
                    model_input=d.model_input,
                    loss_fn_inputs={
                        "target_tokens": d.loss_fn_inputs["target_tokens"],
                        "weights": d.loss_fn_inputs.get("weights")
                        or zeros(d.loss_fn_inputs["target_tokens"]),
                    },
                )
                for d in data
            ],
            "cross_entropy",
            backward=False,
        )
        logprobs = [
            out["logprobs"].to_torch().float().clone().requires_grad_(True) for out in forward.loss_fn_outputs
        ]
        loss, metrics = loss_fn(data, logprobs)
        loss.backward()
        linear = [
            types.Datum(
                model_input=d.model_input,
                loss_fn_inputs={
                    "target_tokens": d.loss_fn_inputs["target_tokens"],
                    "weights": types.TensorData.from_torch(-lp.grad),
                },
            )
            for d, lp in zip(data, logprobs, strict=True)
        ]
        backward = self._run(linear, "cross_entropy", backward=True)
        out_metrics = dict(metrics)
        out_metrics["loss:sum"] = float(loss.detach().sum())
        out_metrics["surrogate_loss:sum"] = backward.metrics["loss:sum"]
        return Future(
            types.ForwardBackwardOutput(
                loss_fn_output_type="ArrayRecord",
                loss_fn_outputs=backward.loss_fn_outputs,
                metrics=out_metrics,
            )
        )

    # --- optimizer ----------------------------------------------------------------------

    def _trainable(self) -> list[Any]:
        return [p for p in self.loaded.model.parameters() if p.requires_grad]

    def load_optimizer(self, path: Path) -> None:
        import torch

        self._pending_optimizer = torch.load(path, weights_only=False)

    @sdk("TrainingClient")
    def optim_step(self, optim_params: Any = None, *, adam_params: Any = None) -> Future:
        import torch
        from tinker import types

        p = optim_params if optim_params is not None else adam_params
        if not isinstance(p, types.AdamParams):
            raise TypeError("Expected AdamParams")
        params = self._trainable()
        if self.optimizer is None:
            self.optimizer = torch.optim.AdamW(params, lr=p.learning_rate)
            if self._pending_optimizer is not None:
                self.optimizer.load_state_dict(self._pending_optimizer)
        for group in self.optimizer.param_groups:
            group.update(lr=p.learning_rate, betas=(p.beta1, p.beta2), eps=p.eps, weight_decay=p.weight_decay)
        for q in params:
            if q.grad is None:
                q.grad = torch.zeros_like(q)
        norm = torch.nn.utils.clip_grad_norm_(
            params, p.grad_clip_norm if p.grad_clip_norm > 0 else float("inf")
        )
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return Future(types.OptimStepResponse(metrics={"grad_norm": float(norm)}))

    # --- saving -------------------------------------------------------------------------

    def _save(self, kind: str, name: str, overwrite: bool, user_metadata: dict[str, str] | None) -> str:
        import torch

        if store.exists(self.run_id, kind, name) and not overwrite:
            raise store.conflict(f"checkpoint {name} already exists in {self.run_id}")
        target = store.folder(self.run_id, kind, name)
        self.loaded.model.save_pretrained(str(target))
        if kind == "external":
            # Tinker exports PEFT adapters for the base model's hub name.
            import json

            cfg_path = target / "adapter_config.json"
            cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
            cfg["base_model_name_or_path"] = self.loaded.base_model
            cfg_path.write_text(json.dumps(cfg, indent=2), encoding="utf-8")
        if kind == "training" and self.optimizer is not None:
            torch.save(self.optimizer.state_dict(), target / "optimizer.pt")
        store.write_meta(
            self.run_id,
            kind,
            name,
            base_model=self.loaded.base_model,
            rank=self.rank,
            switches=[any(t in self.loaded.targets for t in group) for group in (m.ATTN, m.MLP, m.UNEMBED)],
            user_metadata=user_metadata or {},
        )
        return store.path_of(self.run_id, kind, name)

    @sdk("TrainingClient")
    def save_state(
        self, name: str, ttl_seconds: int | None = None, overwrite: bool = False, user_metadata: Any = None
    ) -> Future:
        from tinker import types

        return Future(types.SaveWeightsResponse(path=self._save("training", name, overwrite, user_metadata)))

    @sdk("TrainingClient")
    def save_weights_for_sampler(
        self, name: str, ttl_seconds: int | None = None, user_metadata: Any = None
    ) -> Future:
        from tinker import types

        path = self._save("sampler", name, True, user_metadata)
        return Future(types.SaveWeightsForSamplerResponse(path=path))

    @sdk("TrainingClient")
    def save_weights_external(self, name: str, ttl_seconds: int | None = None, **_: Any) -> Future:
        from tinker import types

        return Future(types.SaveWeightsExternalResponse(path=self._save("external", name, False, None)))

    @sdk("TrainingClient")
    def save_weights_and_get_sampling_client(self, name: str | None = None, **_: Any) -> Future:
        """A snapshot of the current weights behind a new SamplingClient."""
        import copy

        snapshot = copy.deepcopy(self.loaded.model).eval()
        return Future(SamplingClient(m.Loaded(snapshot, self.loaded.tokenizer, self.loaded.base_model)))

    @sdk("TrainingClient")
    def get_tokenizer(self) -> Any:
        return self.loaded.tokenizer
