"""The server's one decoding thread: a fair queue of requests, batched where they sample alike.

Requests wait in a FIFO queue (at most `max_queue`; beyond that `submit` answers 429) until
the running answers leave room (at most `max_items` rows decode at once). Requests admitted
together that sample alike share one batch (greedy ones always; unseeded ones with the same
settings; a seeded request keeps its own batch so that its seed reproduces its answer). The
running batches take turns one token each, so a 2-token request admitted behind a long one
finishes after about two turns instead of after the long one.

The thread owns the model; HTTP threads only queue jobs and read their events:
("delta", choice, text, logprobs), ("done", choice, finish_reason, completion_tokens),
("end",) once every choice is done, or ("error", ApiError). A job whose client left is
cancelled: its rows leave their batch at the next step.
"""

from __future__ import annotations

import itertools
import logging
import queue
import secrets
import threading
from collections import deque
from typing import Any

from ..generation.decode_loop import BatchDecode
from ..generation.prefix_cache import PrefixCache
from ..generation.sampling import Sampling
from ..models.chat_template import stop_token_ids
from ..models.loaded import LoadedModel
from .api import ApiError, GenRequest

log = logging.getLogger("character_engine.serve")

DEFAULT_MAX_ITEMS = 16
DEFAULT_MAX_QUEUE = 32
_ids = itertools.count(1)

LogprobEntry = tuple[int, float, list[tuple[int, float]]]  # (token, logprob, top [(token, logprob)])


class Choice:
    """One answer: its tokens, its text (cut at the first stop string), what was sent."""

    def __init__(self, job: Job, index: int, prompt: list[int], tokenizer: Any) -> None:
        self.job, self.index, self.prompt, self.tokenizer = job, index, prompt, tokenizer
        self.max_tokens = job.req.max_new_tokens
        self.stops = job.req.stop
        self.longest_stop = max((len(s) for s in self.stops), default=0)
        self.ids: list[int] = []
        self.text = ""
        self.sent = 0
        self.pending: list[LogprobEntry] = []
        self.finished = False
        self.stopped = False  # a stop string matched
        # Incremental detokenization: decode a small window, not the whole answer per token.
        self._prefix_offset = 0
        self._read_offset = 0

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def add(self, token: int) -> str | None:
        """Take a generated token; a finish reason when this answer ends here."""
        self.ids.append(token)
        before = self._decode(self.ids[self._prefix_offset : self._read_offset])
        now = self._decode(self.ids[self._prefix_offset :])
        if len(now) > len(before) and not now.endswith("\ufffd"):  # whole characters only
            start = max(0, len(self.text) - self.longest_stop + 1)
            self.text += now[len(before) :]
            self._prefix_offset, self._read_offset = self._read_offset, len(self.ids)
            if self.stops and self._cut_at_stop(start):
                return "stop"
        if self.job.cancel.is_set():
            return "cancelled"
        return "length" if len(self.ids) >= self.max_tokens else None

    def _cut_at_stop(self, start: int) -> bool:
        hits = [p for p in (self.text.find(s, start) for s in self.stops) if p >= 0]
        if not hits:
            return False
        self.text = self.text[: min(hits)]
        self.stopped = True
        return True

    def ready(self, final: bool) -> str:
        """Text not yet sent, minus (unless final) a tail that could still become a stop string."""
        if final and not self.stopped:
            tail = self._decode(self.ids[self._prefix_offset :])
            before = self._decode(self.ids[self._prefix_offset : self._read_offset])
            self.text += tail[len(before) :]
            self._prefix_offset = self._read_offset = len(self.ids)
        end = len(self.text)
        if not final and self.stops:
            for k in range(min(self.longest_stop - 1, end - self.sent), 0, -1):
                tail = self.text[end - k :]
                if any(s.startswith(tail) for s in self.stops):
                    end -= k
                    break
        out = self.text[self.sent : end]
        self.sent = end
        return out


class Job:
    """One request: its choices (n per prompt), its events, its cancel flag."""

    def __init__(self, req: GenRequest, tokenizer: Any) -> None:
        self.id = next(_ids)
        self.req = req
        self.events: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self.cancel = threading.Event()
        # No seed: a fresh one per request, so two unseeded calls differ (as vLLM and Ollama).
        self.seed = req.seed if req.seed is not None else secrets.randbits(63)
        self.choices = [
            Choice(self, p * req.n + j, ids, tokenizer)
            for p, ids in enumerate(req.prompt_ids)
            for j in range(req.n)
        ]
        self.open = len(self.choices)
        self.outcome: str | None = None  # "completed" | "cancelled" | "failed", once it ended

    def key(self) -> tuple[Any, ...]:
        """Jobs with equal keys may share a batch."""
        r = self.req
        if r.temperature == 0:
            draws: Any = "greedy"
        elif r.seed is None:
            draws = "unseeded"
        else:
            draws = ("seeded", self.id)
        return (
            r.kind == "chat",
            r.temperature,
            r.top_p,
            r.repetition_penalty,
            r.no_repeat_ngram_size,
            r.ignore_eos,
            draws,
        )


class Group:
    """Jobs admitted together that sample alike: one BatchDecode over all their choices."""

    def __init__(self, jobs: list[Job], loaded: LoadedModel, prefixes: PrefixCache, stops: set[int]) -> None:
        self.jobs, self.loaded, self.prefixes = jobs, loaded, prefixes
        self.choices = [c for j in jobs for c in j.choices]
        r = jobs[0].req
        self.stops = set() if r.ignore_eos else stops
        self.sampling = Sampling(
            temperature=r.temperature,
            top_p=r.top_p,
            max_new_tokens=max(c.max_tokens for c in self.choices),
            seed=jobs[0].seed,
            repetition_penalty=r.repetition_penalty,
            no_repeat_ngram_size=r.no_repeat_ngram_size,
        )
        wanted = [j.req.top_logprobs for j in jobs if j.req.logprobs]
        self.top_k = max(wanted) if wanted else None
        self.decode: BatchDecode | None = None

    @property
    def rows(self) -> int:
        return len(self.choices)

    def _start(self, model: Any) -> None:
        import torch

        prompts = [c.prompt for c in self.choices]
        prefix = None
        if self.jobs[0].req.kind == "chat":  # raw completion prompts run in full
            items = [j.req.inputs[0] for j in self.jobs for _ in j.choices]
            model_key = (self.loaded.key, self.loaded.adapter_name)
            prefix, _ = self.prefixes.find_or_compute(model_key, model, self.loaded.tokenizer, items, prompts)
        generator = torch.Generator().manual_seed(int(self.sampling.seed))
        self.decode = BatchDecode(
            model,
            self.loaded.tokenizer,
            prompts,
            prefix,
            self.sampling,
            self.stops,
            generator,
            end_check=lambda i, ids: self.choices[i].add(ids[-1]),
            observe=self._observe if self.top_k is not None else None,
        )

    def _observe(self, logits: Any, rows: list[int], toks: list[int]) -> None:
        """Log-probabilities of the model's raw distribution (before temperature, top-p and
        the penalties, as vLLM reports them) for the chosen tokens and the top k."""
        import torch

        logp = torch.log_softmax(logits.float(), dim=-1)
        chosen = logp.gather(1, torch.tensor(toks, device=logp.device).unsqueeze(-1)).squeeze(-1).tolist()
        top = torch.topk(logp, min(self.top_k or 0, logp.shape[-1]), dim=-1)
        top_ids, top_lp = top.indices.tolist(), top.values.tolist()
        for r, i in enumerate(rows):
            c = self.choices[i]
            if not c.job.req.logprobs or toks[r] in self.stops:
                continue
            k = c.job.req.top_logprobs
            c.pending.append((toks[r], chosen[r], list(zip(top_ids[r][:k], top_lp[r][:k], strict=True))))

    def step(self, model: Any) -> bool:
        """One token for every running choice; True when the group is done."""
        try:
            if self.decode is None:
                self._start(model)
            assert self.decode is not None
            finished = self.decode.step()
        except Exception as exc:  # noqa: BLE001 - every job of the group hears of it
            log.exception("generation failed")
            err = ApiError(500, f"{type(exc).__name__}: {exc}", kind="server_error", code="internal")
            for j in self.jobs:
                if j.open:
                    j.open = 0
                    j.outcome = "failed"
                    j.events.put(("error", err))
            return True
        for i, c in enumerate(self.choices):
            if c.finished:
                continue
            if finished or self.decode.done[i]:
                self._finish(c, self.decode.finish[i], self.decode.stop_ids[i] is not None)
            else:
                self._send(c, final=False)
        return finished

    def _send(self, c: Choice, final: bool) -> None:
        text = c.ready(final)
        if text or (final and c.pending):
            c.job.events.put(("delta", c.index, text, c.pending))
            c.pending = []

    def _finish(self, c: Choice, reason: str, stop_token: bool) -> None:
        c.finished = True
        job = c.job
        if reason != "cancelled" and not job.cancel.is_set():
            self._send(c, final=True)
            job.events.put(("done", c.index, reason, len(c.ids) + (1 if stop_token else 0)))
        job.open -= 1
        if job.open == 0:
            job.outcome = "cancelled" if job.cancel.is_set() else "completed"
            job.events.put(("end",))


class Scheduler:
    """The queue and the decoding thread (see the module docstring)."""

    def __init__(
        self,
        loaded: LoadedModel,
        prefixes: PrefixCache,
        max_items: int = DEFAULT_MAX_ITEMS,
        max_queue: int = DEFAULT_MAX_QUEUE,
    ) -> None:
        self.loaded, self.prefixes = loaded, prefixes
        self.max_items, self.max_queue = max(1, max_items), max(0, max_queue)
        self._cond = threading.Condition()
        self._waiting: deque[Job] = deque()
        self._groups: list[Group] = []
        self._running_rows = 0
        self._stopping = False
        self._counts = {"completed": 0, "cancelled": 0, "failed": 0, "rejected": 0}
        with loaded.activated() as model:
            self._stops = stop_token_ids(model, loaded.tokenizer)
        self._thread = threading.Thread(target=self._run, name="serve-decode", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._stopping = True
            for job in self._waiting:
                job.events.put(("error", ApiError(503, "the server is shutting down", kind="server_error")))
            self._waiting.clear()
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def alive(self) -> bool:
        return self._thread.is_alive()

    def submit(self, job: Job) -> None:
        with self._cond:
            if self._stopping:
                raise ApiError(503, "the server is shutting down", kind="server_error")
            if len(self._waiting) >= self.max_queue and not self._has_room(job):
                self._counts["rejected"] += 1
                raise ApiError(
                    429,
                    f"the server is busy: {len(self._waiting)} requests are waiting; retry shortly",
                    kind="rate_limit_error",
                    code="rate_limit_exceeded",
                    headers={"Retry-After": "1"},
                )
            self._waiting.append(job)
            self._cond.notify_all()

    def stats(self) -> dict[str, int]:
        with self._cond:
            running = {id(c.job) for g in self._groups for c in g.choices if not c.finished}
            return {
                "waiting": len(self._waiting),
                "running": len(running),
                "rows": self._running_rows,
                **self._counts,
            }

    def _has_room(self, job: Job) -> bool:
        return not self._waiting and self._running_rows + len(job.choices) <= self.max_items

    def _admit(self) -> list[Group]:
        """Waiting jobs that fit (first come, first served), grouped by how they sample."""
        taken: list[Job] = []
        while self._waiting:
            job = self._waiting[0]
            if job.cancel.is_set():
                self._waiting.popleft()
                self._counts["cancelled"] += 1
                continue
            rows = len(job.choices)
            if self._running_rows and self._running_rows + rows > self.max_items:
                break  # the head waits for room; nobody overtakes it
            self._waiting.popleft()
            self._running_rows += rows
            taken.append(job)
        by_key: dict[tuple[Any, ...], list[Job]] = {}
        for job in taken:
            by_key.setdefault(job.key(), []).append(job)
        return [Group(jobs, self.loaded, self.prefixes, self._stops) for jobs in by_key.values()]

    def _retire(self, group: Group) -> None:
        with self._cond:
            self._running_rows -= group.rows
            for job in group.jobs:
                self._counts[job.outcome or "failed"] += 1
            self._groups.remove(group)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and not self._waiting:
                    self._cond.wait()
                if self._stopping:
                    return
                self._groups.extend(self._admit())
            # A busy period: the groups take turns, one token each, until none is left.
            with self.loaded.activated() as model:
                while self._groups and not self._stopping:
                    for group in list(self._groups):
                        if group.step(model):
                            self._retire(group)
                    with self._cond:
                        self._groups.extend(self._admit())
