#!/usr/bin/env bash
# Every test: static gates, engine (pytest), unit + integration (vitest), E2E (Playwright in Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
# The Node the suite runs on: this one from 22.12, else Node 24 in .node/ (scripts/node-env.sh).
# shellcheck source=scripts/node-env.sh
source scripts/node-env.sh
echo "Node $(node --version) ($(command -v node))"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "typecheck"; npm run -s typecheck
step "lint"; npm run -s lint
step "engine tests (pytest)"; engine/.venv/bin/python -m pytest -q engine/tests
step "unit and integration tests (vitest)"; npx vitest run
step "end-to-end tests (Playwright, Debian chromium)"; npx playwright test
