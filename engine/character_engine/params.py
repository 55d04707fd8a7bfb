"""Small validators for request params. Each failure names the parameter
(InvalidParams.detail["param"]) so the client can point at it."""

from __future__ import annotations

from typing import Any

from .errors import InvalidParams

_MISSING = object()


def get(params: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any = _MISSING) -> Any:
    """params[name] checked against kind; a default makes it optional (None counts as absent)."""
    value = params.get(name, None)
    if value is None:
        if default is _MISSING:
            raise InvalidParams(f"missing parameter '{name}'", param=name)
        return default
    # bool is an int subclass: refuse True where a number is wanted.
    if isinstance(value, bool) and bool not in _as_tuple(kind):
        raise InvalidParams(f"parameter '{name}' must be {_names(kind)}, got bool", param=name)
    if not isinstance(value, kind):
        raise InvalidParams(
            f"parameter '{name}' must be {_names(kind)}, got {type(value).__name__}", param=name
        )
    return value


def get_list(
    params: dict[str, Any], name: str, item_kind: type | tuple[type, ...], default: Any = _MISSING
) -> list:
    value = get(params, name, list, default)
    if value is default and default is not _MISSING:
        return value
    for i, item in enumerate(value):
        if isinstance(item, bool) and bool not in _as_tuple(item_kind):
            raise InvalidParams(f"'{name}[{i}]' must be {_names(item_kind)}", param=f"{name}[{i}]")
        if not isinstance(item, item_kind):
            raise InvalidParams(
                f"'{name}[{i}]' must be {_names(item_kind)}, got {type(item).__name__}", param=f"{name}[{i}]"
            )
    return value


def check_messages(messages: Any, where: str) -> list[dict[str, str]]:
    if not isinstance(messages, list):
        raise InvalidParams(f"'{where}' must be a list of messages", param=where)
    out = []
    for i, m in enumerate(messages):
        if (
            not isinstance(m, dict)
            or m.get("role") not in ("system", "user", "assistant")
            or not isinstance(m.get("content"), str)
        ):
            raise InvalidParams(
                f"'{where}[{i}]' must be {{role: system|user|assistant, content: string}}",
                param=f"{where}[{i}]",
            )
        out.append({"role": m["role"], "content": m["content"]})
    return out


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _names(kind: type | tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in _as_tuple(kind))
