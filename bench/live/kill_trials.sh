#!/usr/bin/env bash
# 50 kill -9 trials of `ark serve` under load, then: is every acknowledged message in the Ark?
#
#   bench/live/kill_trials.sh [TRIALS] [SEED] [-- extra `ark serve` options]   (default 50, 12)
#
# Starts `ark serve` on a fresh small Ark (2,000 persons), streams HL7 ORU^R01 messages over MLLP
# from 4 connections with 16 in flight each, records which control ids were ACKed AA, kill -9's
# the server after a random 0.3–2 s of load (seeded), restarts it and times the restart (spawn to
# the first 200 from /healthz), TRIALS times. Then it stops the server cleanly, exports the Ark's
# events (`ark export --schema ark`, SQLite) and checks each ACKed message's event is there
# (every message carries a unique OBX value); then runs `ark build` and counts again. Prints
# trials, sent, acked, found, lost (must be 0) and the restart times (p50, max); exit status 1 if
# anything acknowledged is missing. A few minutes. BUILD=dir selects the build directory
# (default: build); MLLP_PORT / HTTP_PORT the ports (default 21610 / 21611); KEEP=dir keeps the
# Ark there.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
TRIALS=${1:-50}
SEED=${2:-12}
shift $(( $# > 2 ? 2 : $# ))
[[ "${1:-}" == "--" ]] && shift
exec /usr/bin/python3 bench/live/kill_trials.py --ark-binary "$BUILD/ark" --trials "$TRIALS" \
  --seed "$SEED" --mllp-port "${MLLP_PORT:-21610}" --http-port "${HTTP_PORT:-21611}" \
  ${KEEP:+--dir "$KEEP"} -- "$@"
