"""hub.py against a local hub-compatible HTTP server (threaded, 127.0.0.1:0) that serves
the tiny model in the Hugging Face URL layout, drops one download midway, and 404s."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from character_engine.context import RequestContext
from character_engine.errors import Cancelled, DownloadFailed
from character_engine.models.cache import load_private
from character_engine.models.loaders import hub
from character_engine.state import EngineState

REPO = "tiny-org/tiny-chat"


class FakeHub(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, folder: str) -> None:
        super().__init__(("127.0.0.1", 0), _HubHandler)
        self.folder = Path(folder)
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        self.drop_once = {"model.safetensors"}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _HubHandler(BaseHTTPRequestHandler):
    server: FakeHub

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.server.requests.append((self.path, self.headers.get("Range")))
        listing = f"/api/models/{REPO}/revision/main"
        prefix = f"/{REPO}/resolve/main/"
        if self.path == listing:
            files = sorted(p.name for p in self.server.folder.iterdir() if p.is_file())
            body = json.dumps(
                {"id": REPO, "siblings": [{"rfilename": f} for f in files + ["onnx/model.onnx"]]}
            ).encode()
            self._send(200, body, {"Content-Type": "application/json"})
            return
        if not self.path.startswith(prefix):
            self._send(404, b'{"error": "Repository not found"}', {})
            return
        name = self.path[len(prefix) :]
        path = self.server.folder / name
        if not path.is_file():
            self._send(404, b'{"error": "Entry not found"}', {})
            return
        data = path.read_bytes()
        start = 0
        rng = self.headers.get("Range")
        if rng:
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(data):
                self._send(416, b"", {})
                return
        chunk = data[start:]
        self.send_response(206 if rng else 200)
        self.send_header("Content-Length", str(len(chunk)))
        if rng:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if name in self.server.drop_once and not rng:
            self.server.drop_once.discard(name)
            self.wfile.write(chunk[: len(chunk) // 2])  # then hang up: the client must resume
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(chunk)

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture()
def fake_hub(tiny_model_dir: str):
    server = FakeHub(tiny_model_dir)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def recording_ctx() -> tuple[RequestContext, list[dict]]:
    events: list[dict] = []
    return RequestContext("dl", events.append, EngineState()), events


def test_download_resumes_after_a_dropped_connection(
    fake_hub: FakeHub, tiny_model_dir: str, tmp_path: Path
) -> None:
    ctx, events = recording_ctx()
    folder = hub.download_repo(REPO, endpoint=fake_hub.url, cache_dir=str(tmp_path), ctx=ctx)
    weights = Path(folder) / "model.safetensors"
    assert weights.read_bytes() == (Path(tiny_model_dir) / "model.safetensors").read_bytes()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        assert (Path(folder) / name).read_bytes() == (Path(tiny_model_dir) / name).read_bytes()
    assert not list(Path(folder).glob("*.part"))
    assert not (Path(folder) / "TINY_RANDOM_MODEL.json").exists()  # only what a model needs
    weight_requests = [r for p, r in fake_hub.requests if p.endswith("/model.safetensors")]
    assert (
        weight_requests[0] is None
        and weight_requests[1].startswith("bytes=")
        and weight_requests[1] != "bytes=0-"
    )
    progress = [e for e in events if e["event"] == "progress" and "model.safetensors" in e.get("message", "")]
    assert progress[-1]["done"] == progress[-1]["total"] == weights.stat().st_size
    # a second call finds every file complete and downloads nothing
    before = len(fake_hub.requests)
    assert hub.download_repo(REPO, endpoint=fake_hub.url, cache_dir=str(tmp_path)) == folder
    assert [p for p, _ in fake_hub.requests[before:]] == [f"/api/models/{REPO}/revision/main"]


def test_existing_part_file_is_resumed(fake_hub: FakeHub, tiny_model_dir: str, tmp_path: Path) -> None:
    data = (Path(tiny_model_dir) / "model.safetensors").read_bytes()
    dest = tmp_path / "model.safetensors"
    Path(str(dest) + ".part").write_bytes(data[:1000])
    hub.download_file(f"{fake_hub.url}/{REPO}/resolve/main/model.safetensors", dest)
    assert dest.read_bytes() == data
    assert fake_hub.requests[-1][1] == "bytes=1000-"


def test_hub_source_loads_through_the_model_loader(fake_hub: FakeHub, tmp_path: Path) -> None:
    spec = {"source": "hub", "repo_id": REPO, "endpoint": fake_hub.url, "cache_dir": str(tmp_path)}
    loaded = load_private(spec)
    assert loaded.info["source"] == "hub" and loaded.info["name"] == REPO
    assert loaded.info["architecture"] == "LlamaForCausalLM"


def test_404_names_url_and_status(fake_hub: FakeHub, tmp_path: Path) -> None:
    with pytest.raises(DownloadFailed) as info:
        hub.download_repo("tiny-org/missing", endpoint=fake_hub.url, cache_dir=str(tmp_path))
    assert info.value.detail["status"] == 404 and "tiny-org/missing" in info.value.detail["url"]
    with pytest.raises(DownloadFailed) as info:
        hub.download_file(f"{fake_hub.url}/{REPO}/resolve/main/nope.bin", tmp_path / "nope.bin")
    assert info.value.detail["status"] == 404 and info.value.detail["url"].endswith("/nope.bin")
    assert "404" in info.value.message


def test_cancel_stops_a_download(fake_hub: FakeHub, tmp_path: Path) -> None:
    ctx, _ = recording_ctx()
    ctx.cancel_event.set()
    with pytest.raises(Cancelled):
        hub.download_repo(REPO, endpoint=fake_hub.url, cache_dir=str(tmp_path), ctx=ctx)


def test_endpoint_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    assert hub.resolve_endpoint(None) == "https://huggingface.co"
    monkeypatch.setenv("HF_ENDPOINT", "http://mirror.local/")
    assert hub.resolve_endpoint(None) == "http://mirror.local"
    assert hub.resolve_endpoint("http://x") == "http://x"
    assert hub.select_files(["model.safetensors", "pytorch_model.bin", "onnx/model.onnx", "README.md"]) == [
        "model.safetensors"
    ]
    assert hub.select_files(["pytorch_model.bin", "config.json"]) == ["config.json", "pytorch_model.bin"]
