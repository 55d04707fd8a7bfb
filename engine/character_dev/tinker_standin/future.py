"""The SDK's APIFuture shape (work is done when a method is called; .result() hands it
over) and the stand-in's API-key check, shared by every client."""

from __future__ import annotations

import os
from typing import Any


class Future:
    """What the SDK's APIFuture offers the engine: result(timeout=None)."""

    def __init__(self, value: Any) -> None:
        self._value = value

    def result(self, timeout: float | None = None) -> Any:
        return self._value


def check_key(api_key: str | None) -> None:
    expected = os.environ.get("TINKER_STANDIN_API_KEY")
    if expected is not None and api_key != expected:
        import httpx
        import tinker

        request = httpx.Request("POST", "http://tinker-standin.invalid/api/v1/create_session")
        raise tinker.AuthenticationError(
            "Error code: 401 - invalid API key", response=httpx.Response(401, request=request), body=None
        )
