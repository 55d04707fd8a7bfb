"""The Tinker SDK behind one seam: settings from a request's `tinker` object, the
ServiceClient, error mapping (never the API key in a message), and file downloads.

The SDK (PyPI `tinker`, engine/requirements-tinker.txt) is imported only here and only when
a Tinker method runs. CHARACTER_ENGINE_TINKER_CLIENT=module[:ServiceClient] replaces the SDK's
ServiceClient and RestClient with that module's (the tests' stand-in,
character_dev.tinker_standin); the data types (Datum, ModelInput, ...) are always the SDK's.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Cancelled, DownloadFailed, EngineError, InvalidParams, RemoteFailed

FACTORY_ENV = "CHARACTER_ENGINE_TINKER_CLIENT"
INSTALL_HINT = "pip install -r engine/requirements-tinker.txt (the Tinker SDK needs Python 3.11+)"
# Bytes per read while downloading an adapter file.
CHUNK = 1 << 20


@dataclass(frozen=True)
class TinkerSettings:
    """Which models Tinker runs and how to reach it (a request's `tinker` object)."""

    base_model: str  # the student's base, as Tinker names it, e.g. "Qwen/Qwen3-4B-Instruct-2507"
    teacher_model: str | None  # the teacher's, when it is another model
    api_key: str | None  # None: the SDK's own lookup (TINKER_API_KEY, stored credentials)
    base_url: str | None

    def __repr__(self) -> str:  # never print the key
        return f"TinkerSettings(base_model={self.base_model!r}, teacher_model={self.teacher_model!r})"


def parse_settings(params: dict[str, Any], need_base: bool = True) -> TinkerSettings:
    raw = params.get("tinker")
    if not isinstance(raw, dict):
        raise InvalidParams(
            "'tinker' must be an object {base_model, teacher_model?, api_key?}", param="tinker"
        )

    def opt(name: str) -> str | None:
        value = raw.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise InvalidParams(f"'tinker.{name}' must be a string", param=f"tinker.{name}")
        return value

    base = opt("base_model")
    if need_base and base is None:
        raise InvalidParams("'tinker.base_model' names the model Tinker trains", param="tinker.base_model")
    return TinkerSettings(base or "", opt("teacher_model"), opt("api_key"), opt("base_url"))


def sdk() -> Any:
    """The `tinker` package, or RemoteFailed saying how to install it."""
    try:
        return importlib.import_module("tinker")
    except ImportError as exc:
        raise RemoteFailed(
            f"the Tinker SDK is not installed in the engine's environment: {INSTALL_HINT}",
            service="tinker",
            status=None,
            exception=type(exc).__name__,
        ) from exc


def _client_module() -> Any:
    """The module whose ServiceClient and RestClient the engine uses: the SDK, or the one
    CHARACTER_ENGINE_TINKER_CLIENT names (module or module:ServiceClient)."""
    factory_name = os.environ.get(FACTORY_ENV, "").strip()
    if factory_name:
        return importlib.import_module(factory_name.partition(":")[0])
    return sdk()


def service_client(settings: TinkerSettings) -> Any:
    """The SDK's ServiceClient (or the stand-in's). Prefer `session`, which closes it."""
    with remote_errors(settings):
        return _client_module().ServiceClient(api_key=settings.api_key, base_url=settings.base_url)


@contextlib.contextmanager
def session(settings: TinkerSettings) -> Iterator[Any]:
    """A ServiceClient closed when the block ends: the SDK keeps a session, its heartbeat
    thread and HTTP pools open until close(), and the engine is a long-lived process that
    would otherwise pile them up one per request. The close reports how the block ended
    ("success", "errored", or "interrupted" for a cancel) as the SDK's own __exit__ does."""
    service = service_client(settings)
    status = "success"
    try:
        yield service
    except Cancelled:
        status = "interrupted"
        raise
    except BaseException:  # re-raised: only records that the session ended in an error
        status = "errored"
        raise
    finally:
        with contextlib.suppress(Exception):  # a failed close must not hide the block's outcome
            service.close(status).result()


def rest_client(settings: TinkerSettings) -> Any:
    """The current REST client (tinker.RestClient: no session, connections shared per key).
    ServiceClient.create_rest_client() is deprecated in SDK 0.38 and will be removed."""
    with remote_errors(settings):
        return _client_module().RestClient(api_key=settings.api_key, base_url=settings.base_url)


@contextlib.contextmanager
def remote_errors(settings: TinkerSettings | None) -> Iterator[None]:
    """SDK exceptions -> RemoteFailed (status, no key); engine errors pass through."""
    try:
        yield
    except (EngineError, Cancelled):
        raise
    except Exception as exc:  # noqa: BLE001 - every SDK failure becomes a typed engine error
        tinker = importlib.import_module("tinker") if _has_sdk() else None
        status = getattr(getattr(exc, "response", None), "status_code", None)
        message = _redact(str(exc), settings)
        if tinker is not None and isinstance(exc, tinker.AuthenticationError):
            why = "Tinker refused the API key (401): set it in the app's settings or TINKER_API_KEY"
        elif tinker is not None and isinstance(exc, tinker.APIConnectionError):
            why = f"cannot reach the Tinker service: {message}"
        elif tinker is not None and isinstance(exc, tinker.TinkerError):
            why = f"Tinker answered with an error{f' (HTTP {status})' if status else ''}: {message}"
        else:
            raise
        raise RemoteFailed(why, service="tinker", status=status, exception=type(exc).__name__) from None


def _has_sdk() -> bool:
    try:
        importlib.import_module("tinker")
        return True
    except ImportError:
        return False


def _redact(text: str, settings: TinkerSettings | None) -> str:
    key = settings.api_key if settings else None
    return text.replace(key, "***") if key else text


def download_files(urls: dict[str, str], dest: Path, cancelled: Any = None) -> list[str]:
    """Every file of a signed-URL map into dest (names relative to it; none may escape it)."""
    base = dest.resolve()
    written = []
    for name, url in sorted(urls.items()):
        target = (dest / name).resolve()
        if not target.is_relative_to(base):
            raise DownloadFailed(f"the checkpoint names an unsafe file path: {name}", url=None, status=None)
        if cancelled is not None and cancelled():
            raise Cancelled("download cancelled")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as fh:
                for chunk in iter(lambda r=response: r.read(CHUNK), b""):
                    fh.write(chunk)
        except (urllib.error.URLError, OSError) as exc:
            tmp.unlink(missing_ok=True)
            # The URL is signed (a secret of its own): name the file, not the URL.
            raise DownloadFailed(f"cannot download {name}: {exc}", url=None, status=None) from exc
        os.replace(tmp, target)
        written.append(name)
    return written
