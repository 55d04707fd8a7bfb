"""A CPU stand-in for an accelerator without float64 (Apple's MPS): while active, any float64
tensor on "the device" is an error, so the engine's device code is held to MPS's limits here.

Every tensor is on the CPU in these tests, so the guard tracks where each tensor would be on
a machine with an accelerator: a tensor is on the host when a factory made it without a
`device` argument, when `.cpu()` returned it, or when it was computed only from host tensors
(with no `device` argument); everything else (model parameters, anything made with `device=`,
moved with `.to(device)`, or computed from a device tensor) is on the device. The engine moves
results to the host with `.cpu()` and places tensors with `device=` / `.to(device)`, so this is
the placement MPS would see.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.overrides import TorchFunctionMode

HOST = "_float64_guard_host"
FACTORIES = {
    torch.tensor,
    torch.as_tensor,
    torch.from_numpy,
    torch.zeros,
    torch.ones,
    torch.full,
    torch.empty,
    torch.arange,
    torch.linspace,
    torch.randn,
    torch.rand,
    torch.randint,
    torch.eye,
}


class DeviceFloat64Error(AssertionError):
    pass


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v)]
    return []


def _is_host(t: torch.Tensor) -> bool:
    return bool(getattr(t, HOST, False))


def _mark(value: Any, host: bool) -> None:
    for t in _tensors(value):
        try:
            setattr(t, HOST, host)
        except (AttributeError, RuntimeError):  # some C-level tensors take no attributes
            pass


def on_host(t: torch.Tensor) -> bool:
    """Whether a tensor made under a Placement mode would be on the host (the CPU)."""
    return _is_host(t)


class Placement(TorchFunctionMode):
    """Tracks which tensors would be on the host and which on the device (see on_host);
    with refuse_float64 (NoDeviceFloat64) a float64 device tensor is an error."""

    refuse_float64 = False

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        name = getattr(func, "__name__", str(func))
        if func is torch.Tensor.cpu:
            # On the CPU .cpu() returns the tensor itself: hand back a new view so marking the
            # host copy does not mark the device tensor it came from.
            out = func(*args, **kwargs).view_as(args[0])
            _mark(out, True)
            return out
        out = func(*args, **kwargs)
        inputs = _tensors(args) + _tensors(kwargs)
        placed = "device" in kwargs or (name == "to" and _names_a_device(args[1:], kwargs))
        if func in FACTORIES and not placed:
            host = True
        elif placed:
            host = False
        else:
            host = bool(inputs) and all(_is_host(t) for t in inputs)
        outputs = _tensors(out)
        for t in outputs:
            if self.refuse_float64 and not host and t.dtype == torch.float64:
                raise DeviceFloat64Error(
                    f"{name} made a float64 tensor on the device {tuple(t.shape)}: MPS has no float64"
                )
        if outputs and not (len(outputs) == 1 and any(o is outputs[0] for o in inputs)):
            _mark(out, host)
        return out


class NoDeviceFloat64(Placement):
    """with NoDeviceFloat64(): ... raises DeviceFloat64Error at the first float64 device tensor."""

    refuse_float64 = True


def _names_a_device(args: Any, kwargs: dict[str, Any]) -> bool:
    return isinstance(kwargs.get("device"), (str, torch.device)) or any(
        isinstance(a, (str, torch.device)) for a in args
    )
