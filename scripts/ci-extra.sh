#!/usr/bin/env bash
# The pass beyond `npm test` that CI runs (.ci/run): gpu-check.sh itself, forced onto the CPU, so
# CI exercises the script a GPU owner runs (CPU figures), not only its "no GPU" exit.
# (The suite itself runs on Node 24 wherever the machine's Node is older than 22.12:
# scripts/node-env.sh.)
set -euo pipefail
cd "$(dirname "$0")/.."
printf '\n\033[1m== %s\033[0m\n' "scripts/gpu-check.sh on the CPU (the script itself, CPU figures)"
# A folder of this run's own: another user's earlier JSON in /tmp must not be in the way.
out=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check-cpu.XXXXXX")
bash scripts/gpu-check.sh --device cpu --out "$out/gpu-check-cpu.json"
