#!/usr/bin/env bash
# Restart time of `ark serve` after N acknowledged messages, and where it goes.
#
#   bench/live/restart.sh [SIZES] [PERSONS]      (default: 300000,1000000 and 100000 persons)
#
# Runs live_bench's restart suite with the same population at every size (so that the sizes differ
# only in history) and prints, per size, start → /healthz after kill -9, after a clean stop and
# with the snapshot deleted (the whole live log), each followed by the server's own account of
# its start ("open N ms: catalog keys, store (WAL delta), live state (snapshot, log tail, store
# recovery)"). Then the slope: milliseconds of a kill -9 restart per million messages of history.
# BUILD=dir selects the build directory (default: build).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
SIZES=${1:-300000,1000000}
PERSONS=${2:-100000}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$BUILD/bench/live/live_bench" --ark-binary "$BUILD/ark" --suite restart \
  --restart-sizes "$SIZES" --restart-persons "$PERSONS" --json | tee "$out" | grep '^restart'
python3 - "$out" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
rows = json.loads(text[text.index('\n{') + 1:])["restart"]
if len(rows) >= 2:
    a, b = rows[0], rows[-1]
    slope = (b["start_after_kill_ms"] - a["start_after_kill_ms"]) / ((b["messages"] - a["messages"]) / 1e6)
    at10m = b["start_after_kill_ms"] + slope * (10e6 - b["messages"]) / 1e6
    print(f"restart: slope {slope:+.0f} ms per million messages of history (kill -9); "
          f"10M messages from the slope: {at10m:.0f} ms")
PY
