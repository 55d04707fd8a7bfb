"""export_modal: the Modal app written next to an export's merged model. Modal's service cannot be
reached from here, so the app is imported under the real `modal` SDK (engine/requirements-dev.txt)
and checked for what it declares: the chosen GPU, the vLLM image holding the exported merged
model, an OpenAI-compatible web endpoint on vLLM's port, and the served model's name."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from _helpers import make_lora_adapter
from test_export import export

from character_engine.context import RequestContext
from character_engine.errors import InvalidParams
from character_engine.handlers.export import handle_export_modal
from character_engine.state import EngineState

modal = pytest.importorskip("modal")


def _ctx() -> RequestContext:
    return RequestContext("m", lambda _e: None, EngineState())


@pytest.fixture(scope="module")
def exported(tiny_model_dir: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("modal-export")
    adapter = make_lora_adapter(tiny_model_dir, tmp / "adapter", seed=2)
    return export(tiny_model_dir, adapter, tmp / "export", merged=True)


def _import_under_modal(path: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[tuple]]:
    """Import the app with the SDK's own builders, recording what it asks of them."""
    calls: list[tuple] = []

    def spy(owner: Any, name: str) -> None:
        real = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls.append((name, args, kwargs))
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapper)

    spy(modal.Image, "uv_pip_install")
    spy(modal.Image, "add_local_dir")
    spy(modal, "web_server")
    spy(modal.Secret, "from_name")
    spec = importlib.util.spec_from_file_location("generated_modal_app", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "generated_modal_app", module)
    spec.loader.exec_module(module)
    return module, calls


@pytest.mark.parametrize("gpu, modal_gpu", [("L4", "L4"), ("A100", "A100-80GB")])
def test_the_app_imports_under_modal_and_serves_the_exported_model(
    exported: dict[str, Any], gpu: str, modal_gpu: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = handle_export_modal(
        {
            "output_dir": exported["output_dir"],
            "gpu": gpu,
            "app_name": "character-beethoven-cp1",
            "served_model_name": "beethoven",
        },
        _ctx(),
    )
    assert out["modal_gpu"] == modal_gpu and out["commands"][-1].endswith("modal deploy modal_app.py")
    module, calls = _import_under_modal(out["app_file"], monkeypatch)
    assert isinstance(module.app, modal.App) and module.app.name == "character-beethoven-cp1"
    serve = module.serve
    assert isinstance(serve, modal.Function)
    assert serve._spec_.gpus == modal_gpu  # what Modal will allocate
    assert serve._is_web_endpoint()
    (web,) = [c for c in calls if c[0] == "web_server"]
    assert web[1] == (8000,) or web[2].get("port") == 8000
    (pip,) = [c for c in calls if c[0] == "uv_pip_install"]
    assert "vllm==0.33.0" in pip[1]
    (local,) = [c for c in calls if c[0] == "add_local_dir"]
    # The image carries exactly the export's merged model, where vLLM is told to serve it from.
    assert Path(local[1][1]).resolve() == Path(exported["merged_dir"]).resolve()
    assert local[2]["remote_path"] == module.REMOTE_MODEL_DIR == "/model"
    assert module.SERVED_MODEL_NAME == "beethoven"
    merged_config = json.loads((Path(exported["merged_dir"]) / "config.json").read_text(encoding="utf-8"))
    assert merged_config["model_type"] and any(
        p.suffix == ".safetensors" for p in Path(exported["merged_dir"]).iterdir()
    )
    (secret,) = [c for c in calls if c[0] == "from_name"]
    assert secret[1][-1] == "character-beethoven-cp1-vllm"


def test_bad_requests_are_refused(exported: dict[str, Any], tmp_path: Path) -> None:
    base = {"output_dir": exported["output_dir"], "gpu": "L4", "app_name": "a", "served_model_name": "b"}
    for change, param in (
        ({"gpu": "V100"}, "gpu"),
        ({"app_name": "no spaces"}, "app_name"),
        ({"output_dir": str(tmp_path)}, "output_dir"),  # no merged model there
    ):
        with pytest.raises(InvalidParams) as err:
            handle_export_modal({**base, **change}, _ctx())
        assert err.value.detail["param"] == param
