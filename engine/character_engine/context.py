"""What a method handler receives besides its params: a way to emit events, to notice
cancellation, and the engine state (loaded models, stored prefixes; see state.py).
Handlers have the signature

    def handler(params: dict, ctx: RequestContext) -> dict

and raise EngineError subclasses for failures.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import Cancelled

if TYPE_CHECKING:  # the state sits above this module; only its type is needed here
    from .state import EngineState

Emit = Callable[[dict[str, Any]], None]


@dataclass
class RequestContext:
    request_id: str
    _emit: Emit
    state: EngineState
    cancel_event: threading.Event = field(default_factory=threading.Event)

    def emit(self, event: str, **fields: Any) -> None:
        """Send one event line tagged with this request's id."""
        self._emit({"id": self.request_id, "event": event, **fields})

    def progress(self, phase: str, done: int, total: int, message: str | None = None) -> None:
        fraction = (done / total) if total else 1.0
        payload: dict[str, Any] = {"phase": phase, "done": done, "total": total, "fraction": fraction}
        if message:
            payload["message"] = message
        self.emit("progress", **payload)

    def log(self, message: str, level: str = "info") -> None:
        self.emit("log", level=level, message=message)

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def check_cancel(self) -> None:
        if self.cancel_event.is_set():
            raise Cancelled("request was cancelled", request=self.request_id)
