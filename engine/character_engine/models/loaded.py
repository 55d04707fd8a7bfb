"""LoadedModel: a model and tokenizer ready for inference, with the right adapter active."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


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
