"""Data-parallel training over several processes (one per GPU), launched by an existing
launcher: `torchrun --nproc_per_node N` or `accelerate launch --num_processes N`, which both
set RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT.

    torchrun --nproc_per_node 2 -m character_engine.training.distributed PARAMS.json --kind sft

PARAMS.json holds a train_sft / train_kd / train_dpo / train_on_policy request's params. Rank 0
writes the protocol's events and the result as JSON lines on stdout ({"event": ...}, then
{"result": TrainResult}) and owns output_dir (metrics.jsonl, checkpoints); the other ranks
write nowhere the client reads.

How it stays the single-process loop: the flat loop (loop.py) runs unchanged in every process
on the same micro-batch order; `Sharded` wraps the objective so each process collates only
its share of every micro-batch (rows rank, rank + N, ...), the loss is normalised by the units
summed over all processes, and the gradients are summed over processes before clipping (the
loop's `synchronize` hook). One optimizer step thus sees the same global batch, the same
normaliser and the same gradient as one process would: only the summation order differs.
Backend: nccl on CUDA, gloo otherwise (two CPU processes in the tests).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
from dataclasses import dataclass
from typing import Any

from .objective import Objective


@dataclass(frozen=True)
class Group:
    rank: int
    world: int
    # Where the backend's collectives take their tensors: NCCL refuses CPU tensors (this
    # process's GPU), gloo takes CPU ones.
    device: Any = "cpu"


def from_env() -> Group | None:
    """The process group the launcher describes (initialised here), or None for one process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    # CHARACTER_ENGINE_PROCESS_GROUP=1: a group even for one process (gpu-check's NCCL smoke).
    if world <= 1 and os.environ.get("CHARACTER_ENGINE_PROCESS_GROUP") != "1":
        return None
    import torch
    import torch.distributed as dist

    rank = int(os.environ["RANK"])
    if not dist.is_initialized():
        cuda = torch.cuda.is_available() and os.environ.get("CHARACTER_ENGINE_DEVICE", "") in ("", "cuda")
        if cuda:
            # One GPU per process: "cuda" means this process's own device from here on.
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", rank)))
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    return Group(rank, world, collective_device(dist.get_backend()))


def collective_device(backend: str) -> Any:
    """The device a backend's collectives run on: this process's GPU under NCCL, else the CPU."""
    import torch

    if backend == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


class Sharded:
    """An objective whose batches are this process's share of the global micro-batch."""

    def __init__(self, inner: Objective, group: Group) -> None:
        self.inner = inner
        self.group = group
        self.loading_message = inner.loading_message

    def _sum(self, values: list[float]) -> list[float]:
        import torch
        import torch.distributed as dist

        # On the backend's device (NCCL refuses CPU tensors at the first step); float64 is
        # fine there, since NCCL only runs on CUDA.
        t = torch.tensor(values, dtype=torch.float64, device=self.group.device)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return [float(x) for x in t.cpu()]

    def prepare(self, model: Any, train: list[Any], val: list[Any] | None) -> None:
        import torch.distributed as dist

        self.inner.prepare(model, train, val)
        # Every process starts from rank 0's adapter (the seeded init is the same anyway).
        for p in model.parameters():
            if p.requires_grad:
                dist.broadcast(p.data, src=0)

    def collate(self, examples: list[Any], index: int | None = None) -> dict[str, Any]:
        share = examples[self.group.rank :: self.group.world]
        if not share:
            return {"empty": True}
        return self.inner.collate(share, index)

    def units(self, batch: dict[str, Any]) -> float:
        local = 0.0 if batch.get("empty") else self.inner.units(batch)
        return self._sum([local])[0]

    def tokens(self, batch: dict[str, Any]) -> int:
        local = 0 if batch.get("empty") else self.inner.tokens(batch)
        return int(self._sum([float(local)])[0])

    def loss(self, model: Any, batch: dict[str, Any], denom: float) -> tuple[Any, dict[str, float]]:
        import torch

        if batch.get("empty"):
            device = next(model.parameters()).device
            return torch.zeros((), device=device, requires_grad=True), {}
        return self.inner.loss(model, batch, denom)

    def summarize(self, stats: dict[str, float], units: float) -> dict[str, Any]:
        # Every process has every key once one batch ran; the key set is the inner objective's.
        keys = sorted(stats)
        keys = self._gather_keys(keys)
        totals = self._sum([stats.get(k, 0.0) for k in keys])
        return self.inner.summarize(dict(zip(keys, totals, strict=True)), units)

    def _gather_keys(self, keys: list[str]) -> list[str]:
        import torch.distributed as dist

        everyone: list[Any] = [None] * self.group.world
        dist.all_gather_object(everyone, keys)
        return sorted({k for ks in everyone for k in ks})

    def synchronize(self, params: list[Any]) -> None:
        """Sum the step's gradients over processes (one flat buffer, one collective)."""
        import torch
        import torch.distributed as dist

        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat, op=dist.ReduceOp.SUM)
        offset = 0
        for p in params:
            n = p.numel()
            p.grad = flat[offset : offset + n].view_as(p).clone()
            offset += n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Data-parallel LoRA training (run under torchrun).")
    parser.add_argument("params", help="a JSON file with the training request's params")
    parser.add_argument("--kind", default="sft", choices=["sft", "kd", "dpo", "on_policy"])
    args = parser.parse_args(argv)
    with open(args.params, encoding="utf-8") as fh:
        params = json.load(fh)
    group = from_env()
    rank = group.rank if group else 0
    out = sys.stdout
    # Library prints must not corrupt the JSON lines (as in the protocol server).
    sys.stdout = sys.stderr
    lock = threading.Lock()

    def emit(event: dict[str, Any]) -> None:
        if rank == 0:
            with lock:
                out.write(json.dumps({k: v for k, v in event.items() if k != "id"}) + "\n")
                out.flush()

    if rank != 0:
        # The other ranks save into a scratch folder: output_dir is rank 0's.
        params = dict(params, output_dir=tempfile.mkdtemp(prefix=f"rank{rank}-"))
    from ..context import RequestContext
    from ..state import EngineState
    from .config import parse_config
    from .run import run_objective

    sample = None
    if args.kind == "on_policy":
        # This process's entry point hands the sampler in, as the training handler does.
        from ..generation.student_sampler import sample_answers

        sample = sample_answers
    ctx = RequestContext(f"rank{rank}", emit, EngineState())
    wrap = (lambda objective: Sharded(objective, group)) if group else None
    result = run_objective(parse_config(params), ctx, args.kind, sample=sample, wrap=wrap)
    if rank == 0:
        out.write(json.dumps({"result": result}) + "\n")
        out.flush()
    if group:
        import torch.distributed as dist

        dist.barrier()
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
