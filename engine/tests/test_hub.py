"""hub.py (huggingface_hub.snapshot_download) and export/push.py (upload_folder) against a
local server with the hub's layout (_fake_hub.py): resume after a dropped connection, the
shared cache layout, HF_HUB_OFFLINE, the token, sha256 checks, 404s, cancel, and a push
that downloads back byte for byte."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from _fake_hub import COMMIT, FakeHub, running_hub

from character_engine.context import RequestContext
from character_engine.errors import Cancelled, DownloadFailed
from character_engine.models.cache import load_private
from character_engine.models.loaders import hub
from character_engine.state import EngineState

REPO = "tiny-org/tiny-chat"


@pytest.fixture()
def fake_hub(tiny_model_dir: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    import huggingface_hub.constants as hf_constants

    # conftest.py sets HF_HUB_OFFLINE=1 for every test; these tests talk to a local server.
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    with running_hub() as server:
        server.add_repo(REPO, tiny_model_dir)
        yield server


def recording_ctx() -> tuple[RequestContext, list[dict]]:
    events: list[dict] = []
    return RequestContext("dl", events.append, EngineState()), events


def test_download_resumes_into_the_shared_cache_layout(
    fake_hub: FakeHub, tiny_model_dir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants as hf_constants

    # Chunks smaller than the tiny weights (510 kB), so that half a file arrives before the drop.
    monkeypatch.setattr(hf_constants, "DOWNLOAD_CHUNK_SIZE", 64 * 1024)
    fake_hub.drop_once.add("model.safetensors")
    ctx, events = recording_ctx()
    folder = Path(hub.download_repo(REPO, endpoint=fake_hub.url, cache_dir=str(tmp_path), ctx=ctx))
    # huggingface_hub's cache: models--owner--name/snapshots/<commit>/ with links into blobs/
    assert folder == tmp_path / "models--tiny-org--tiny-chat" / "snapshots" / COMMIT
    weights = folder / "model.safetensors"
    assert weights.read_bytes() == (Path(tiny_model_dir) / "model.safetensors").read_bytes()
    assert weights.resolve().parent.name == "blobs"
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        assert (folder / name).read_bytes() == (Path(tiny_model_dir) / name).read_bytes()
    assert not (folder / "TINY_RANDOM_MODEL.json").exists() and not (folder / "onnx").exists()
    ranges = fake_hub.gets("/model.safetensors")
    assert ranges[0] is None and ranges[1] is not None and ranges[1] != "bytes=0-"  # resumed, not restarted
    progress = [e for e in events if e["event"] == "progress" and e["phase"] == "download"]
    assert progress and progress[-1]["done"] == progress[-1]["total"]
    # a second call finds everything cached and fetches no file
    before = len(fake_hub.requests)
    assert hub.download_repo(REPO, endpoint=fake_hub.url, cache_dir=str(tmp_path)) == str(folder)
    assert not [p for m, p, _, _ in fake_hub.requests[before:] if m == "GET" and "/resolve/" in p]


def test_offline_mode_uses_the_cache_without_a_request(
    fake_hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants as hf_constants

    folder = hub.download_repo(REPO, endpoint=fake_hub.url, cache_dir=str(tmp_path))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    before = len(fake_hub.requests)
    assert hub.download_repo(REPO, endpoint=fake_hub.url, cache_dir=str(tmp_path)) == folder
    assert len(fake_hub.requests) == before
    with pytest.raises(DownloadFailed, match="HF_HUB_OFFLINE"):
        hub.download_repo(REPO, endpoint=fake_hub.url, cache_dir=str(tmp_path / "empty"))


def test_token_from_the_environment_is_sent(
    fake_hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    hub.download_repo(REPO, endpoint=fake_hub.url, cache_dir=str(tmp_path))
    assert {auth for _, _, _, auth in fake_hub.requests} == {"Bearer hf_test_token"}


def test_a_corrupt_download_fails_its_checksum(
    fake_hub: FakeHub, tiny_model_dir: str, tmp_path: Path
) -> None:
    fake_hub.corrupt.add("model.safetensors")
    with pytest.raises(DownloadFailed) as info:
        hub.download_repo(REPO, endpoint=fake_hub.url, cache_dir=str(tmp_path))
    assert info.value.detail["reason"] == "checksum" and "sha256" in info.value.message
    sha = hashlib.sha256((Path(tiny_model_dir) / "model.safetensors").read_bytes()).hexdigest()
    assert not list(tmp_path.rglob(f"blobs/{sha}"))  # the corrupt weights are gone
    fake_hub.corrupt.clear()
    folder = hub.download_repo(REPO, endpoint=fake_hub.url, cache_dir=str(tmp_path))
    assert (Path(folder) / "model.safetensors").is_file()


def test_hub_source_loads_through_the_model_loader(fake_hub: FakeHub, tmp_path: Path) -> None:
    spec = {"source": "hub", "repo_id": REPO, "endpoint": fake_hub.url, "cache_dir": str(tmp_path)}
    loaded = load_private(spec)
    assert loaded.info["source"] == "hub" and loaded.info["name"] == REPO
    assert loaded.info["architecture"] == "LlamaForCausalLM"


def test_404_names_url_and_status(fake_hub: FakeHub, tmp_path: Path) -> None:
    with pytest.raises(DownloadFailed) as info:
        hub.download_repo("tiny-org/missing", endpoint=fake_hub.url, cache_dir=str(tmp_path))
    assert info.value.detail["status"] == 404 and "tiny-org/missing" in info.value.detail["url"]
    assert "404" in info.value.message


def test_cancel_stops_a_download(fake_hub: FakeHub, tmp_path: Path) -> None:
    ctx, _ = recording_ctx()
    ctx.cancel_event.set()
    with pytest.raises(Cancelled):
        hub.download_repo(REPO, endpoint=fake_hub.url, cache_dir=str(tmp_path), ctx=ctx)


def test_push_uploads_adapter_card_and_data_then_downloads_back(
    fake_hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import snapshot_download

    from character_engine.export.push import push_folder

    monkeypatch.setenv("HF_TOKEN", "hf_push_token")
    export = tmp_path / "export"
    (export / "gguf").mkdir(parents=True)
    (export / "merged").mkdir()
    files = {
        "adapter_model.safetensors": b"weights",
        "adapter_config.json": b"{}",
        "README.md": b"# card",
        "gguf/adapter.gguf": b"GGUF lora",
        "gguf/model.gguf": b"GGUF merged (left out)",
        "merged/model.safetensors": b"merged (left out)",
    }
    for name, data in files.items():
        (export / name).write_bytes(data)
    train = tmp_path / "train.jsonl"
    train.write_text('{"messages": []}\n')
    result = push_folder(export, "me/beethoven", endpoint=fake_hub.url, private=True, data_files=[str(train)])
    stored = fake_hub.repos["me/beethoven"]
    assert set(stored) == {
        "adapter_model.safetensors",
        "adapter_config.json",
        "README.md",
        "gguf/adapter.gguf",
    } | {"data/train.jsonl"}
    assert stored["data/train.jsonl"] == train.read_bytes() and fake_hub.private["me/beethoven"]
    assert result["commit"] == COMMIT and result["data_files"] == ["data/train.jsonl"]
    assert all(auth == "Bearer hf_push_token" for m, _, _, auth in fake_hub.requests if m == "POST")
    # pushing again to the existing repo works (exist_ok), and the repo downloads back intact
    push_folder(export, "me/beethoven", endpoint=fake_hub.url)
    back = Path(snapshot_download("me/beethoven", endpoint=fake_hub.url, cache_dir=str(tmp_path / "c")))
    assert (back / "adapter_model.safetensors").read_bytes() == b"weights"
    assert (back / "data" / "train.jsonl").read_bytes() == train.read_bytes()


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
