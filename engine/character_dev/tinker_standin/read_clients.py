"""SamplingClient and RestClient of the stand-in: the clients that read a model (samples,
log-probabilities) and the checkpoints (listings, download URLs), with the SDK's names."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from . import model as m
from . import store
from .future import Future, check_key
from .strict import check_type, sdk


class SamplingClient:
    def __init__(self, loaded: m.Loaded) -> None:
        self.loaded = loaded

    @sdk("SamplingClient")
    def sample(
        self,
        prompt: Any,
        num_samples: int,
        sampling_params: Any,
        include_prompt_logprobs: bool = False,
        topk_prompt_logprobs: int = 0,
        topk_sample_logprobs: int = 0,
        **_: Any,
    ) -> Future:
        import torch
        from tinker import types

        check_type(prompt, types.ModelInput, "prompt")
        check_type(sampling_params, types.SamplingParams, "sampling_params")
        ids = prompt.to_ints()
        stops = m.stop_ids(self.loaded.model, self.loaded.tokenizer, sampling_params.stop)
        seed = (
            sampling_params.seed
            if sampling_params.seed is not None
            else int.from_bytes(os.urandom(4), "little")
        )
        generator = torch.Generator().manual_seed(int(seed))
        sequences = []
        for i in range(num_samples):
            tokens, logprobs, tops, reason = m.sample_one(
                self.loaded.model, ids, sampling_params, stops, topk_sample_logprobs, generator
            )
            sequences.append(
                types.SampledSequence(
                    stop_reason=reason,
                    sequence_id=f"seq-{seed}-{i}",
                    _tokens_list=tokens,
                    _logprobs_list=logprobs,
                    _topk_logprobs_list=tops if topk_sample_logprobs else None,
                )
            )
        prompt_logprobs = self._prompt_logprobs(ids) if include_prompt_logprobs else None
        return Future(types.SampleResponse(sequences=sequences, _prompt_logprobs_list=prompt_logprobs))

    def _prompt_logprobs(self, ids: list[int]) -> list[float | None]:
        import torch

        with torch.no_grad():
            lp = m.target_logprobs(self.loaded.model, ids[:-1], torch.tensor(ids[1:]))
        return [None] + [float(x) for x in lp]

    @sdk("SamplingClient")
    def compute_logprobs(self, prompt: Any, prompt_logprobs_last_n: int | None = None) -> Future:
        from tinker import types

        check_type(prompt, types.ModelInput, "prompt")
        return Future(self._prompt_logprobs(prompt.to_ints()))

    @sdk("SamplingClient")
    def get_tokenizer(self) -> Any:
        return self.loaded.tokenizer

    @sdk("SamplingClient")
    def get_base_model(self) -> str:
        return self.loaded.base_model


class RestClient:
    @sdk("RestClient")
    def __init__(
        self, _holder: Any = None, *, base_url: str | None = None, api_key: str | None = None
    ) -> None:
        check_key(api_key if api_key is not None else os.environ.get("TINKER_API_KEY"))

    @sdk("RestClient")
    def list_user_checkpoints(self, limit: int = 100, offset: int = 0) -> Future:
        from tinker.types import CheckpointsListResponse, Cursor

        records = store.all_checkpoints()
        page = [store.checkpoint_model(r) for r in records[offset : offset + limit]]
        cursor = Cursor(offset=offset, limit=limit, total_count=len(records))
        return Future(CheckpointsListResponse(checkpoints=page, cursor=cursor))

    @sdk("RestClient")
    def list_checkpoints(self, training_run_id: str) -> Future:
        from tinker.types import CheckpointsListResponse

        records = store.all_checkpoints(training_run_id)
        return Future(CheckpointsListResponse(checkpoints=[store.checkpoint_model(r) for r in records]))

    @sdk("RestClient")
    def get_external_weights_urls(self, tinker_path: str) -> Future:
        from tinker.types import ExternalWeightsUrlsResponse

        run_id, kind, name = store.parse(tinker_path)
        if kind != "external":
            raise ValueError(
                f"get_external_weights_urls only accepts external weights checkpoints, got {tinker_path!r}"
            )
        store.read_meta(tinker_path)
        target = store.folder(run_id, kind, name)
        urls = {
            str(f.relative_to(target)): f.resolve().as_uri() for f in sorted(target.rglob("*")) if f.is_file()
        }
        return Future(
            ExternalWeightsUrlsResponse(urls=urls, expires=datetime.now(timezone.utc) + timedelta(hours=1))
        )

    @sdk("RestClient")
    def delete_checkpoint_from_tinker_path(self, tinker_path: str) -> Future:
        import shutil

        run_id, kind, name = store.parse(tinker_path)
        shutil.rmtree(store.folder(run_id, kind, name), ignore_errors=True)
        Path(f"{store.folder(run_id, kind, name)}.json").unlink(missing_ok=True)
        return Future(None)

    @sdk("RestClient")
    def set_checkpoint_ttl_from_tinker_path(self, tinker_path: str, ttl_seconds: int | None) -> Future:
        return Future(None)
