#!/usr/bin/env bash
# Lints docs/api/openapi.json with the pinned @redocly/cli (tests/api/redocly.yaml: strict rules).
# Offline: no telemetry, no update check. Needs tests/api/node_modules (`make test` runs `npm ci`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$here/node_modules/.bin/redocly"
if [ ! -x "$bin" ]; then
  echo "tests/api/node_modules is missing: run 'make test' (it runs 'npm ci --prefix tests/api')" >&2
  exit 1
fi
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
exec "$bin" lint "$here/../../docs/api/openapi.json" --config "$here/redocly.yaml"
