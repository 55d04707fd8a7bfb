#!/usr/bin/env bash
# The engine on a GPU, in under 5 minutes: on every GPU device torch can use (cuda, mps), the
# device-parametrised parity tests (engine/tests/test_devices.py: single-copy prefix attention
# against SDPA, shared-prefix training against the plain batch, cached against uncached greedy
# decoding) and the tiny-model suites of generation, SFT and kd run on that device; then a short
# SFT and kd run on the embedded SmolLM2 and the generation bench (character_dev.gpu_check).
# Everything lands in one JSON summary (default bench/results/gpu-check.json).
#
#   bash scripts/gpu-check.sh [--out FILE] [--steps N]
#
# Exit codes: 0 every check passed; 1 a check failed (the JSON says which); 2 bad usage;
# 3 no GPU on this machine (nothing was run); 4 a GPU is present but this torch cannot use it
# (the engine's environment has the CPU build of torch: see the message).
set -euo pipefail
cd "$(dirname "$0")/.."

out=bench/results/gpu-check.json
steps=20
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    *) echo "gpu-check.sh: unknown option $1 (use --out FILE, --steps N)" >&2; exit 2 ;;
  esac
done
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac

py=engine/.venv/bin/python
if [ ! -x "$py" ]; then
  echo "gpu-check.sh: no engine environment at engine/.venv (run scripts/setup.sh first)" >&2
  exit 2
fi
log() { printf '\033[1m[gpu-check]\033[0m %s\n' "$*" >&2; }

devices=$("$py" -c 'from character_engine.devices import available_devices as a; print(" ".join(d for d in a() if d != "cpu"))')
if [ -z "$devices" ]; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    torch_version=$("$py" -c 'import torch; print(torch.__version__)')
    echo "gpu-check.sh: this machine has an NVIDIA GPU but the engine's torch ($torch_version) cannot use it." >&2
    echo "  Install a CUDA build into engine/.venv, e.g.:" >&2
    echo "  engine/.venv/bin/pip install torch==${torch_version%%+*} --index-url https://download.pytorch.org/whl/cu128" >&2
    exit 4
  fi
  echo "gpu-check.sh: no GPU: torch sees neither CUDA nor MPS on this machine, so there is nothing to check." >&2
  echo "  Run it on a machine with an NVIDIA GPU (CUDA build of torch) or Apple silicon (MPS)." >&2
  exit 3
fi

started=$(date +%s)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false CHARACTER_STUDIO_RESOURCES="$PWD/resources"
status=0
for dev in $devices; do
  log "pytest on $dev: parity tests and the tiny-model generation, SFT and kd suites"
  # One pytest run per device: the engine picks its device once per process.
  if ! (cd engine && CHARACTER_ENGINE_DEVICE=$dev timeout 150 .venv/bin/python -m pytest -q \
      tests/test_devices.py tests/test_generation.py tests/test_sft.py tests/test_kd.py \
      --junitxml="$work/pytest-$dev.xml" >&2); then
    status=1
  fi
  log "short SFT and kd runs and the generation bench on $dev"
  dev_out="$work/summary-$dev.json"
  if ! (cd engine && timeout 150 .venv/bin/python -m character_dev.gpu_check --device "$dev" \
      --out "$dev_out" --steps "$steps" --junit "$dev=$work/pytest-$dev.xml" >&2); then
    status=1
  fi
done

mkdir -p "$(dirname "$out")"
"$py" - "$out" "$started" "$status" "$work"/summary-*.json <<'EOF'
import json, sys, time
out, started, status, *parts = sys.argv[1:]
runs = {}
for path in parts:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        runs[data["machine"]["device"]] = data
    except (OSError, ValueError, KeyError) as exc:
        runs[path] = {"error": f"no summary: {exc}"}
summary = {
    "script": "scripts/gpu-check.sh",
    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "wall_s": int(time.time()) - int(started),
    "passed": status == "0" and all(r.get("passed") for r in runs.values()),
    "devices": runs,
}
with open(out, "w", encoding="utf-8") as fh:
    json.dump(summary, fh, indent=2)
    fh.write("\n")
print(json.dumps({"out": out, "passed": summary["passed"], "wall_s": summary["wall_s"]}))
EOF
log "summary: $out ($(( $(date +%s) - started )) s)"
[ "$status" = 0 ] || exit 1
