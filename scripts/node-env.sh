# Sourced (not run) by the scripts that run Node: puts a supported Node first on PATH.
#
# Node 22.12 is the floor (Electron 41's; better-sqlite3 13, whose Node-API build needs no
# compiler, refuses older Node). When the Node on PATH is older (Node 20 reached end of life on
# 2026-04-30, and some machines still have it), Node 24, the Node Electron 41 bundles, is taken
# from the npm registry's `node` package into .node/ (ignored by git; about 130 MB, once) and put
# first on PATH, so `node`, `npm` and `npx` in the calling script all run on it.
# shellcheck shell=bash
studio_node_version=24.21.0
studio_node_ok() {
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 12) ? 0 : 1)' \
    2>/dev/null
}
if ! studio_node_ok; then
  studio_node_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.node"
  studio_node_bin="$studio_node_root/node_modules/node/bin"
  if [ ! -x "$studio_node_bin/node" ] || [ "$("$studio_node_bin/node" --version)" != "v$studio_node_version" ]; then
    printf '\033[1m[node]\033[0m %s\n' "Node $(node --version 2>/dev/null || echo '(none)') is older than 22.12: fetching Node $studio_node_version from the npm registry into .node/" >&2
    mkdir -p "$studio_node_root"
    npm install --prefix "$studio_node_root" --no-save --no-audit --no-fund --no-package-lock \
      --loglevel=error "node@$studio_node_version" >&2
  fi
  PATH="$studio_node_bin:$PATH"
  export PATH
  studio_node_ok || { echo "node-env.sh: Node $studio_node_version in .node/ does not run here" >&2; exit 1; }
fi
