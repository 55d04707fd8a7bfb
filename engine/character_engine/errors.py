"""Typed engine errors. Every failure that crosses the protocol is one of these.

One base class with a category code per subclass; each carries a message and a
JSON-serialisable detail dict, and pickles cleanly (args round-trip).
"""

from __future__ import annotations

from typing import Any


class EngineError(Exception):
    code = "internal"

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message, detail)
        self.message = message
        self.detail = detail

    def __reduce__(self):  # keep picklable with keyword detail
        return (_rebuild, (type(self), self.message, self.detail))

    def to_payload(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "detail": self.detail}


def _rebuild(cls: type[EngineError], message: str, detail: dict[str, Any]) -> EngineError:
    return cls(message, **detail)


class BadRequest(EngineError):
    code = "bad_request"


class UnknownMethod(EngineError):
    code = "unknown_method"


class InvalidParams(EngineError):
    """detail["param"] names the offending parameter."""

    code = "invalid_params"


class ModelNotFound(EngineError):
    code = "model_not_found"


class ModelLoadFailed(EngineError):
    code = "model_load_failed"


class UnsupportedArchitecture(EngineError):
    code = "unsupported_architecture"


class CorruptFile(EngineError):
    code = "corrupt_file"


class DownloadFailed(EngineError):
    code = "download_failed"


class UploadFailed(EngineError):
    code = "upload_failed"


class RemoteFailed(EngineError):
    """A remote training service (Tinker) refused or failed a request: detail has
    `service`, `status` (HTTP status or null) and `exception`; never the API key."""

    code = "remote_failed"


class OutOfMemory(EngineError):
    code = "out_of_memory"


class Cancelled(EngineError):
    code = "cancelled"
