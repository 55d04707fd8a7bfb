#!/usr/bin/env bash
# The passes beyond `npm test` that CI should run once they have passed here end to end: the
# Node-side tests (vitest) again on Node 24 (the Node Electron 41 bundles), then gpu-check.sh
# itself on the CPU. Not yet run from .ci/run: the Node 24 pass never finished on this machine
# (better-sqlite3 compiles from source for Node 24; over 10 minutes on 2 shared cores).
set -euo pipefail
cd "$(dirname "$0")/.."
printf '\n\033[1m== %s\033[0m\n' "unit and integration tests (vitest) on Node 24"
node24() { npx -y node@24 "$@"; }
echo "Node $(node24 --version)"
npm_cli=$(node -p 'require("path").join(require("path").dirname(require.resolve("npm/package.json", {paths: [require("path").join(require("path").dirname(process.execPath), "../lib/node_modules")]})), "bin/npm-cli.js")')
# better-sqlite3 is a native module built for one Node ABI: this Node's build is moved aside,
# one for Node 24 is built for this pass, and the first is moved back whatever happens (a move,
# not a copy: no second compile, and a hard-linked install elsewhere is never written through).
addon=node_modules/better-sqlite3/build/Release/better_sqlite3.node
saved=$(mktemp -d "${TMPDIR:-/tmp}/sqlite-addon.XXXXXX")
mv "$addon" "$saved/"
restore() { mkdir -p "$(dirname "$addon")"; rm -f "$addon"; mv "$saved/better_sqlite3.node" "$addon"; rmdir "$saved"; }
trap restore EXIT
# The Node 24 build is kept for the next run: without GitHub access prebuild-install has no
# binary and node-gyp compiles SQLite (over 10 minutes on 2 shared cores).
cache="node_modules/.cache/better-sqlite3/$(node -p 'require("better-sqlite3/package.json").version')-abi$(node24 -p process.versions.modules).node"
if [ -f "$cache" ]; then
  mkdir -p "$(dirname "$addon")"
  cp "$cache" "$addon"
else
  node24 "$npm_cli" rebuild better-sqlite3 >&2
  mkdir -p "$(dirname "$cache")"
  cp "$addon" "$cache"
fi
node24 node_modules/vitest/vitest.mjs run

printf '\n\033[1m== %s\033[0m\n' "scripts/gpu-check.sh on the CPU (the script itself, CPU figures)"
bash scripts/gpu-check.sh --device cpu --out "${TMPDIR:-/tmp}/gpu-check-cpu.json"
