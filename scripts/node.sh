#!/usr/bin/env bash
# `node` with a supported version (scripts/node-env.sh): what the npm scripts run Node through.
set -euo pipefail
# shellcheck source=scripts/node-env.sh
source "$(dirname "$0")/node-env.sh"
exec node "$@"
