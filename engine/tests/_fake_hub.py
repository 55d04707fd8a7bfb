"""A local HTTP server (threaded, 127.0.0.1:0) with the Hugging Face hub's API layout, enough
for huggingface_hub's snapshot_download and upload_folder: repo info, tree listing, HEAD and
ranged GET of /resolve/, repo creation, preupload (every file 'regular') and NDJSON commits.
It can drop a download midway once, serve corrupt bytes, and records every request."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _is_lfs(name: str) -> bool:
    return name.endswith((".safetensors", ".gguf", ".bin"))


class FakeHub(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.repos: dict[str, dict[str, bytes]] = {}
        self.private: dict[str, bool] = {}
        self.requests: list[tuple[str, str, str | None, str | None]] = []  # method, path, Range, auth
        self.drop_once: set[str] = set()
        self.corrupt: set[str] = set()
        self.validated: list[str] = []  # README.md texts sent to /api/validate-yaml

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def add_repo(self, repo: str, folder: str) -> None:
        self.repos[repo] = {p.name: p.read_bytes() for p in Path(folder).iterdir() if p.is_file()}
        self.repos[repo]["onnx/model.onnx"] = b"not a model this engine wants"

    def gets(self, suffix: str) -> list[str | None]:
        """The Range header of every GET whose path ends with suffix."""
        return [rng for method, path, rng, _ in self.requests if method == "GET" and path.endswith(suffix)]


class _Handler(BaseHTTPRequestHandler):
    server: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _record(self, method: str) -> str:
        path = unquote(urlsplit(self.path).path)
        self.server.requests.append(
            (method, path, self.headers.get("Range"), self.headers.get("Authorization"))
        )
        return path

    def do_HEAD(self) -> None:  # noqa: N802
        self._resolve(self._record("HEAD"), head=True)

    def do_GET(self) -> None:  # noqa: N802
        path = self._record("GET")
        parts = path.strip("/").split("/")
        if parts[:2] == ["api", "models"] and len(parts) >= 6 and parts[4] in ("revision", "tree"):
            repo = f"{parts[2]}/{parts[3]}"
            files = self.server.repos.get(repo)
            if files is None:
                return self._json(404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
            if parts[4] == "revision":
                siblings = [{"rfilename": name} for name in sorted(files)]
                return self._json(200, {"id": repo, "sha": COMMIT, "siblings": siblings, "private": False})
            tree = []
            for name, data in sorted(files.items()):
                entry = {
                    "type": "file",
                    "path": name,
                    "size": len(data),
                    "oid": hashlib.sha1(data).hexdigest(),
                }
                if _is_lfs(name):
                    entry["lfs"] = {
                        "oid": hashlib.sha256(data).hexdigest(),
                        "size": len(data),
                        "pointerSize": 130,
                    }
                tree.append(entry)
            return self._json(200, tree)
        self._resolve(path, head=False)

    def _resolve(self, path: str, head: bool) -> None:
        if "/resolve/" not in path:
            return self._json(404, {"error": "not found"})
        repo, rest = path.strip("/").split("/resolve/", 1)
        name = rest.split("/", 1)[1] if "/" in rest else ""
        files = self.server.repos.get(repo)
        if files is None:
            return self._json(404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
        if name not in files:
            return self._json(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"})
        data = files[name]
        etag = hashlib.sha256(data).hexdigest() if _is_lfs(name) else hashlib.sha1(data).hexdigest()
        if name in self.server.corrupt:
            data = bytes(b ^ 0xFF for b in data)  # same size, other bytes
        headers = {"X-Repo-Commit": COMMIT, "ETag": f'"{etag}"', "Accept-Ranges": "bytes"}
        if _is_lfs(name):
            headers.update({"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(len(data))})
        start = 0
        rng = self.headers.get("Range")
        if rng and not head:
            start = int(rng.split("=")[1].split("-")[0])
        chunk = data[start:]
        self.send_response(206 if rng and not head else 200)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(chunk)))
        if rng and not head:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if head:
            return
        if name in self.server.drop_once and not rng:
            self.server.drop_once.discard(name)
            self.wfile.write(chunk[: len(chunk) // 2])  # then hang up: the client must resume
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(chunk)

    def do_POST(self) -> None:  # noqa: N802
        path = self._record("POST")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if path == "/api/repos/create":
            req = json.loads(body)
            repo = f"{req.get('organization') or 'me'}/{req['name']}"
            if repo in self.server.repos:
                return self._json(
                    409, {"error": "You already created this model repo", "url": f"{self.server.url}/{repo}"}
                )
            self.server.repos[repo] = {}
            self.server.private[repo] = bool(req.get("private")) or req.get("visibility") == "private"
            return self._json(200, {"url": f"{self.server.url}/{repo}", "name": repo})
        if path == "/api/validate-yaml":  # the model card's front matter
            self.server.validated.append(json.loads(body)["content"])
            return self._json(200, {"errors": [], "warnings": []})
        parts = path.strip("/").split("/")
        if parts[:2] == ["api", "models"] and len(parts) >= 6 and parts[4] == "preupload":
            files = json.loads(body)["files"]
            modes = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]
            return self._json(200, {"files": modes})
        if parts[:2] == ["api", "models"] and len(parts) >= 6 and parts[4] == "commit":
            repo = f"{parts[2]}/{parts[3]}"
            for line in body.decode("utf-8").splitlines():
                item = json.loads(line)
                if item.get("key") == "file":
                    value = item["value"]
                    self.server.repos[repo][value["path"]] = base64.b64decode(value["content"])
            return self._json(
                200, {"commitUrl": f"{self.server.url}/{repo}/commit/{COMMIT}", "commitOid": COMMIT}
            )
        self._json(404, {"error": "not found"})

    def _json(self, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def running_hub() -> Iterator[FakeHub]:
    server = FakeHub()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
