#!/usr/bin/env bash
# API and live read latency under load, with Debian's wrk, on a real `ark serve` (issue 14's goal:
# API reads p95 <= 20 ms at 200 concurrent connections; printed beside the live endpoints).
#
#   ARK=out/demo/ark TOKENS=out/demo/governance/tokens.env bash bench/api/wrk.sh
#
# ARK: a built Ark (default out/demo/ark; the goal's figure is on a 1M-person region, e.g. one
# `make bench` built). TOKENS: NAME=token lines with ANA (an analyst) and ADMIN (default: the
# demo's). CONNS (200), DURATION (seconds per route, 15; not SECONDS, which bash sets itself), THREADS (wrk threads, 2), PORT (18480), BIN (build/ark).
# Each route is loaded on its own, one after another; each line prints requests/s, p50, p95,
# p99 and max latency in ms, errors and non-2xx answers (the latter must be 0: a refused request
# is not a read). The server writes to its log only; reads by a signed-in principal go on the
# ledger at most once a minute per route, as in production.
set -euo pipefail
cd "$(dirname "$0")/../.."
ARK=${ARK:-out/demo/ark}
TOKENS=${TOKENS:-out/demo/governance/tokens.env}
CONNS=${CONNS:-200}
SECONDS_=${DURATION:-15}
THREADS=${THREADS:-2}
PORT=${PORT:-18480}
BIN=${BIN:-build/ark}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk (make deps)" >&2; exit 1; }
[ -d "$ARK/store" ] || { echo "$ARK: not a built Ark (run make demo, or give ARK=)" >&2; exit 1; }
ANA=$(sed -n 's/^ANA=//p' "$TOKENS"); ADMIN=$(sed -n 's/^ADMIN=//p' "$TOKENS")
[ -n "$ANA" ] && [ -n "$ADMIN" ] || { echo "$TOKENS: no ANA= or ADMIN= line" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

LOG=$(mktemp /tmp/ark_wrk.XXXXXX.log)
"$BIN" serve "$ARK" --http 127.0.0.1:$PORT --mllp 127.0.0.1:$((PORT + 1)) >"$LOG" 2>&1 &
SERVE=$!
trap 'kill $SERVE 2>/dev/null; wait $SERVE 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null || { echo "ark serve did not start; its log:" >&2; cat "$LOG" >&2; exit 1; }

people=$("$BIN" stats "$ARK" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get("persons","?"))' 2>/dev/null || echo "?")
echo "ark serve on $ARK ($people persons); wrk: $CONNS connections, $THREADS threads, ${SECONDS_} s per route"
printf '%-8s %-34s %9s %8s %8s %8s %8s %7s %7s\n' kind route req/s p50_ms p95_ms p99_ms max_ms errors non2xx
load() {  # kind route [user:token]
  local auth=()
  [ -n "${3:-}" ] && auth=(-H "Authorization: Bearer $3")
  local line
  line=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_}s" --timeout 10s "${auth[@]}" -s bench/api/percentiles.lua \
         "http://127.0.0.1:$PORT$2" | grep '^FIGURES')
  eval "local ${line#FIGURES }"
  printf '%-8s %-34s %9s %8s %8s %8s %8s %7s %7s\n' "$1" "$2" "$rps" "$p50" "$p95" "$p99" "$max" "$errors" "$non2xx"
}
load api    /api/v1/projects
load api    /api/v1/releases
load api    /api/v1/ledger/checkpoint
load api    /api/v1/me                    "ana:$ANA"
load api    /api/v1/runs                  "ana:$ANA"
load api    /api/v1/outputs               "admin:$ADMIN"
load live   /api/v1/live/indicators       "admin:$ADMIN"
load live   /api/v1/live/alerts           "admin:$ADMIN"
load live   /metrics                      "admin:$ADMIN"
load health /healthz
