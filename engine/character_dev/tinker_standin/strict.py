"""What makes the stand-in refuse what the service (or the SDK in front of it) refuses.

Every stand-in client method is declared with `@sdk(ClassName)`: a call binds against the
installed SDK's own signature of that method (inspect.signature of tinker.<ClassName>.<name>),
so an argument the SDK does not take fails here as it would there, and a method the SDK marks
deprecated is refused (the SDK only warns; it will be removed). Argument types are checked with
the SDK's own classes (tinker.types), never restated here. The loss inputs are checked as the
service checks them: exactly the fields the loss takes, weights required for cross_entropy.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, get_args

F = TypeVar("F", bound=Callable[..., Any])

# The fields each loss reads on the service (Tinker's loss function docs; the cookbook sends
# exactly these). A field outside the set is an error there, not ignored.
LOSS_FIELDS = {
    "cross_entropy": {"target_tokens", "weights"},
    "importance_sampling": {"target_tokens", "logprobs", "advantages"},
}


def bad_request(message: str) -> Exception:
    import httpx
    import tinker

    request = httpx.Request("POST", "http://tinker-standin.invalid/api")
    return tinker.BadRequestError(message, response=httpx.Response(400, request=request), body=None)


def sdk(class_name: str) -> Callable[[F], F]:
    """Bind every call against tinker.<class_name>.<method>'s signature before running it."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(self: Any, *args: Any, **kwargs: Any) -> Any:
            import tinker

            real = getattr(getattr(tinker, class_name), fn.__name__, None)
            if real is None:
                raise AttributeError(
                    f"tinker.{class_name} has no method {fn.__name__} (SDK {tinker.__version__})"
                )
            if getattr(real, "__deprecated__", None):
                raise DeprecationWarning(f"tinker.{class_name}.{fn.__name__}: {real.__deprecated__}")
            try:
                inspect.signature(real).bind(self, *args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"tinker.{class_name}.{fn.__name__}: {exc}") from None
            return fn(self, *args, **kwargs)

        return inner  # type: ignore[return-value]

    return wrap


def check_type(value: Any, cls: type, what: str) -> None:
    if not isinstance(value, cls):
        raise TypeError(f"{what} must be tinker.types.{cls.__name__}, not {type(value).__name__}")


def check_data(data: Any, loss_fn: str) -> None:
    """A forward / forward_backward request's data as the service validates it."""
    from tinker import types

    if loss_fn not in get_args(types.LossFnType):
        raise bad_request(f"unknown loss_fn {loss_fn!r}")
    if loss_fn not in LOSS_FIELDS:
        raise bad_request(f"the stand-in does not run loss_fn {loss_fn!r}")
    if not isinstance(data, list) or not data:
        raise bad_request("data must be a non-empty list of Datum")
    wanted = LOSS_FIELDS[loss_fn]
    for i, datum in enumerate(data):
        check_type(datum, types.Datum, f"data[{i}]")
        check_type(datum.model_input, types.ModelInput, f"data[{i}].model_input")
        fields = set(datum.loss_fn_inputs)
        if fields != wanted:
            extra, missing = sorted(fields - wanted), sorted(wanted - fields)
            raise bad_request(
                f"data[{i}].loss_fn_inputs for {loss_fn} must be exactly {sorted(wanted)}"
                + (f"; unknown: {extra}" if extra else "")
                + (f"; missing: {missing}" if missing else "")
            )
        shape = list(datum.loss_fn_inputs["target_tokens"].shape or [])
        for name in wanted - {"target_tokens"}:
            got = list(datum.loss_fn_inputs[name].shape or [])
            if got != shape:
                raise bad_request(
                    f"data[{i}].loss_fn_inputs[{name!r}] has shape {got}, target_tokens {shape}"
                )
