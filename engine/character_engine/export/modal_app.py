"""modal_app.py: a Modal app (modal.com) that serves an export's merged model with vLLM behind an
OpenAI-compatible endpoint, written next to the export's merged/ folder, plus the commands that
deploy it. The app never imports this engine: it needs only the `modal` package where it is
deployed from, and vLLM inside Modal's image.

Only the app's text is produced here; nothing is sent to Modal. Whether it deploys and serves
is up to Modal's service, which the machines this was built on cannot reach: the tests import
the generated file under the real `modal` SDK and check what it declares.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import InvalidParams

# The GPUs a user picks from, as Modal names them (A100 is the 80 GB card). Single GPU: the
# merged student is small; vLLM shards nothing.
GPUS = {"T4": "T4", "L4": "L4", "A10G": "A10G", "A100": "A100-80GB", "H100": "H100"}
# vLLM inside the image: the release the app was written against.
VLLM = "vllm==0.33.0"
PORT = 8000
APP_FILE = "modal_app.py"
# Modal app names: letters, digits, '-', '_', '.'; at most 64 characters.
APP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

TEMPLATE = '''"""{app_name}: the Character Studio student {served!r} on Modal, served by vLLM behind an
OpenAI-compatible endpoint (POST <url>/v1/chat/completions, model {served!r}). No system prompt
is needed: the character is in the weights. Written by Character Studio; deploy with

    modal secret create {secret} VLLM_API_KEY=<a key of your choosing>
    modal deploy {app_file}

`modal deploy` prints the URL. Clients send the key as a bearer token (the OpenAI client's api_key).
"""

import os

import modal

GPU = {gpu!r}
VLLM = {vllm!r}
SERVED_MODEL_NAME = {served!r}
PORT = {port}
# The merged model exported beside this file; it is copied into the image at /model.
MODEL_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "merged")
REMOTE_MODEL_DIR = "/model"

image = (
    modal.Image.debian_slim(python_version="3.12")
    .uv_pip_install(VLLM)
    .add_local_dir(MODEL_DIR, remote_path=REMOTE_MODEL_DIR)
)
app = modal.App({app_name!r})


@app.function(
    image=image,
    gpu=GPU,
    secrets=[modal.Secret.from_name({secret!r})],
    scaledown_window=15 * 60,  # idle minutes before the GPU is released (and billing stops)
    timeout=60 * 60,
)
@modal.concurrent(max_inputs=32)
@modal.web_server(port=PORT, startup_timeout=10 * 60)
def serve():
    import subprocess

    # vLLM reads VLLM_API_KEY (the secret) and refuses requests without it.
    subprocess.Popen(
        [
            "vllm",
            "serve",
            REMOTE_MODEL_DIR,
            "--served-model-name",
            SERVED_MODEL_NAME,
            "--host",
            "0.0.0.0",
            "--port",
            str(PORT),
        ]
    )
'''


def write_modal_app(output_dir: str, gpu: str, app_name: str, served_model_name: str) -> dict[str, Any]:
    """Write output_dir/modal_app.py for the merged model in output_dir/merged."""
    if gpu not in GPUS:
        raise InvalidParams(f"'gpu' must be one of {', '.join(GPUS)}, not {gpu!r}", param="gpu")
    if not APP_NAME.match(app_name):
        raise InvalidParams(
            "'app_name' must be letters, digits, '-', '_' or '.' (at most 64), starting with a letter or digit",
            param="app_name",
        )
    if not served_model_name.strip() or any(c.isspace() for c in served_model_name):
        raise InvalidParams("'served_model_name' must be one word", param="served_model_name")
    out = Path(output_dir)
    merged = out / "merged"
    if not (merged / "config.json").is_file():
        raise InvalidParams(
            f"{merged} holds no merged model (config.json): export with the merged model first",
            param="output_dir",
        )
    secret = f"{app_name}-vllm"
    text = TEMPLATE.format(
        app_name=app_name,
        served=served_model_name,
        gpu=GPUS[gpu],
        vllm=VLLM,
        port=PORT,
        secret=secret,
        app_file=APP_FILE,
    )
    path = out / APP_FILE
    path.write_text(text, encoding="utf-8")
    return {
        "app_file": str(path),
        "app_name": app_name,
        "gpu": gpu,
        "modal_gpu": GPUS[gpu],
        "served_model_name": served_model_name,
        "merged_dir": str(merged),
        "commands": [
            f"modal secret create {secret} VLLM_API_KEY=<a key of your choosing>",
            f"cd {out} && modal deploy {APP_FILE}",
        ],
    }
