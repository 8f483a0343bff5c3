#!/usr/bin/env bash
# Ark's scale bench: peak memory (RSS) and time of each pipeline step as the region grows, against
# the target "peak RSS <= 4 GiB, flat in the number of people". See bench/README.md, "Scale".
#
#   bash bench/scale/run.sh                              # SCALE_SIZES="1000000 5000000"
#   SCALE_SIZES="1000000 5000000 15000000" bash bench/scale/run.sh   # the 15M run, by hand
#   SCALE_SIZES="20000 50000" bash bench/scale/run.sh    # a try in a minute (not the targets)
#
# For each size N, in a fresh directory: ark synth -> keygen -> pseudonymise (5 custodians) ->
# init -> ingest -> link --mode deterministic -> build -> stats, then link --mode pprl on the same
# Ark (a separate step; it relinks the staged records, so the build above used the deterministic
# persons). Every step runs under /usr/bin/time -f '%e %U %S %M' (wall, user, sys, peak RSS).
# Before each size the free disk is compared with the peak bytes per person measured at the
# previous size (first size: SCALE_BYTES_PER_PERSON); a size that would not fit is skipped with
# a message and the figures extrapolated from the slope of the sizes measured; so is a size at
# which a step would need more memory than the machine has (predicted the same way). A step that
# fails (e.g. killed for memory) is recorded with the RSS it reached and ends the run.
#
# Knobs (environment): SCALE_SIZES ("1000000 5000000"), SCALE_YEARS (10), SCALE_SEED (1),
# SCALE_THREADS (2), SCALE_DIR (/tmp/ark-scale: scratch; each size's data is deleted after it
# unless SCALE_KEEP=1), SCALE_BYTES_PER_PERSON (12000: the disk estimate before the first size),
# SCALE_DISK_MARGIN (1.2: headroom factor on the estimate), SCALE_TARGET_GIB (4),
# SCALE_FLAT_AT (15000000: "flat" = the fitted line stays within the target up to this many people),
# SCALE_IGNORE_MEMORY=1 (run a size even when a step's peak RSS, predicted from the sizes
# measured, exceeds the machine's memory; by default such a size is skipped),
# ARK (the ark binary; default $ARK_BUILD_DIR/ark, ARK_BUILD_DIR defaulting to $BUILD or build).
#
# Output: a table per step x size (peak RSS, target, PASS/FAIL, slope in GiB per million people)
# and one of times (wall, user, sys; ingest's system-time share), and
# bench/results/scale-<UTC date>.json. Exit status: 0 when every size ran or was skipped for
# disk or memory; 1 when a step failed (its stderr is printed; the tables are still printed).
# A missed target is reported, not fatal.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH="$(cd "$HERE/.." && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
case "${1:-}" in -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;; esac

SIZES="${SCALE_SIZES:-1000000 5000000}"
YEARS="${SCALE_YEARS:-10}"
SEED="${SCALE_SEED:-1}"
THREADS="${SCALE_THREADS:-2}"
SCRATCH="$(realpath -m "${SCALE_DIR:-/tmp/ark-scale}")"
KEEP="${SCALE_KEEP:-0}"
BPP="${SCALE_BYTES_PER_PERSON:-12000}"
MARGIN="${SCALE_DISK_MARGIN:-1.2}"
TARGET_GIB="${SCALE_TARGET_GIB:-4}"
FLAT_AT="${SCALE_FLAT_AT:-15000000}"
IGNORE_MEMORY="${SCALE_IGNORE_MEMORY:-0}"
MEM_GIB=$(awk '/^MemTotal:/ { printf "%.1f", $2 / 2^20 }' /proc/meminfo)
BUILD_DIR="${ARK_BUILD_DIR:-${BUILD:-build}}"
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
ARK="${ARK:-$BUILD_DIR/ark}"
CUSTODIANS=(gp acute community social_care deaths)

die() { echo "scale: FAILED: $*" >&2; exit 1; }
say() { printf '%s\n' "$*"; }
[ -x "$ARK" ] || die "no ark binary at $ARK (build it, or set ARK or ARK_BUILD_DIR)"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing: install the Debian package 'time'"
command -v node >/dev/null || die "node is missing (the table is printed by bench/scale/report.mjs): apt-get install nodejs"

RUN_ID="$(date -u +%Y%m%dT%H%M%SZ)"
RESULTS="$SCRATCH/results-$RUN_ID"   # the measurements (kept: a few KB)
mkdir -p "$RESULTS"
STEPS="$RESULTS/steps.tsv"           # size step wall user sys max_rss_kib other_cores
SIZES_TSV="$RESULTS/sizes.tsv"       # size status events persons pprl_persons peak_bytes (status: ran | skipped)
: >"$STEPS"; : >"$SIZES_TSV"

# timed SIZE STEP CMD...: runs CMD under /usr/bin/time; stdout to $LOGS/STEP.out, stderr to
# $LOGS/STEP.err; appends "SIZE STEP wall user sys maxrss other_cores ok|failed" to steps.tsv,
# where other_cores is the average number of cores *other* processes kept busy meanwhile
# (/proc/stat). A failed step (e.g. killed for memory) is recorded too, then returns 1.
busy_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
timed() {
  local size="$1" step="$2"; shift 2
  local b0 b1 ok=ok
  b0=$(busy_ticks)
  /usr/bin/time -f '%e %U %S %M' -o "$LOGS/$step.time" "$@" >"$LOGS/$step.out" 2>"$LOGS/$step.err" || ok=failed
  b1=$(busy_ticks)
  tail -n 1 "$LOGS/$step.time" | awk -v n="$size" -v step="$step" -v ok="$ok" -v ticks=$((b1 - b0)) -v hz="$(getconf CLK_TCK)" \
    '{ o = $1 > 0 ? (ticks / hz - $2 - $3) / $1 : 0; if (o < 0) o = 0;
       printf "%s %s %s %s %s %s %.2f %s\n", n, step, $1, $2, $3, $4, o, ok }' >>"$STEPS"
  if [ "$ok" = failed ]; then
    echo "--- $step at $size people FAILED: $* ---" >&2
    head -n -1 "$LOGS/$step.time" >&2   # /usr/bin/time's "exited with status" / "terminated by signal"
    tail -n 20 "$LOGS/$step.err" >&2
    FAILED_STEP="$step"
    return 1
  fi
}
# The five pseudonymise runs as one step: summed times, the largest peak RSS, the
# wall-weighted other_cores.
sum_pseudonymise() {
  local size="$1"
  awk -v n="$size" '$1 == n && $2 ~ /^pseudonymise_/ { w += $3; u += $4; s += $5; if ($6 > m) m = $6; o += $7 * $3 }
    END { printf "%s pseudonymise %.2f %.2f %.2f %d %.2f ok\n", n, w, u, s, m, (w > 0 ? o / w : 0) }' "$STEPS" >>"$STEPS"
}
# Bytes under the size's directory now; the largest seen is its peak (for the next size's estimate).
PEAK=0
track_disk() { local b; b=$(du -sb "$W" | cut -f1); [ "$b" -gt "$PEAK" ] && PEAK=$b; return 0; }
avail_bytes() { df -B1 --output=avail "$SCRATCH" | tail -n 1 | tr -d ' '; }
gib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 2^30 }'; }

# run_size N: the steps at N people in $W (every measured step appended to steps.tsv); returns 1
# when a step fails (FAILED_STEP names it).
run_size() {
  local N="$1" c
  say "        synth ..."
  timed "$N" synth "$ARK" synth --people "$N" --years "$YEARS" --seed "$SEED" --threads "$THREADS" --out "$W/region" || return 1
  track_disk
  say "        pseudonymise (5 custodians, one after another) ..."
  "$ARK" keygen --out "$W/programme.key" >/dev/null || die "keygen"
  mkdir -p "$W/feeds"
  for c in "${CUSTODIANS[@]}"; do
    timed "$N" "pseudonymise_$c" "$ARK" pseudonymise --key "$W/programme.key" --custodian "$c" \
      --in "$W/region/$c" --out "$W/feeds/$c" --threads "$THREADS" --json || return 1
  done
  sum_pseudonymise "$N"
  track_disk
  rm -rf -- "$W/region"   # the feeds are what the Ark ingests

  say "        ingest, link --mode deterministic, build ..."
  "$ARK" init "$W/ark" >/dev/null || die "ark init"
  FEEDS=(); for c in "${CUSTODIANS[@]}"; do FEEDS+=("$W/feeds/$c"); done
  sync
  timed "$N" ingest "$ARK" ingest "$W/ark" "${FEEDS[@]}" --threads "$THREADS" --json || return 1
  timed "$N" link_deterministic "$ARK" link "$W/ark" --mode deterministic --threads "$THREADS" --json || return 1
  timed "$N" build "$ARK" build "$W/ark" --threads "$THREADS" --json || return 1
  track_disk
  "$ARK" stats "$W/ark" --json >"$LOGS/stats.out" || die "ark stats"
  say "        link --mode pprl (the same Ark, relinked) ..."
  timed "$N" link_pprl "$ARK" link "$W/ark" --mode pprl --threads "$THREADS" --json || return 1
  track_disk
}

STATUS=0
say "scale: sizes $SIZES; $YEARS years, seed $SEED, $THREADS threads; ark $ARK; scratch $SCRATCH"
say "scale: machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; load average $(cut -d' ' -f1-3 /proc/loadavg)"

for N in $SIZES; do
  W="$SCRATCH/p$N"
  rm -rf -- "$W"
  need=$(awk -v b="$BPP" -v n="$N" -v m="$MARGIN" 'BEGIN { printf "%.0f", b * n * m }')
  avail=$(avail_bytes)
  if [ "$need" -gt "$avail" ]; then
    say "scale: SKIP $N people: needs about $(gib "$need") GiB of disk ($BPP bytes per person x $MARGIN), $(gib "$avail") GiB free under $SCRATCH"
    node "$HERE/report.mjs" --extrapolate "$N" --steps "$STEPS" --sizes "$SIZES_TSV" | sed 's/^/        /'
    echo "$N skipped-disk 0 0 0 $need" >>"$SIZES_TSV"
    continue
  fi
  # Memory: a step whose peak RSS, predicted from the sizes so far, exceeds the machine's memory
  # would be killed (and the OOM killer might pick another process): skip, unless told not to.
  read -r pred_gib pred_step < <(node "$HERE/report.mjs" --predict-rss "$N" --steps "$STEPS" --sizes "$SIZES_TSV") ||
    die "could not predict the peak RSS at $N people"
  if [ "$IGNORE_MEMORY" != 1 ] && awk -v p="$pred_gib" -v m="$MEM_GIB" 'BEGIN { exit !(p > m) }'; then
    say "scale: SKIP $N people: $pred_step would need about $pred_gib GiB of memory by the sizes measured, the machine has $MEM_GIB GiB (SCALE_IGNORE_MEMORY=1 to try)"
    node "$HERE/report.mjs" --extrapolate "$N" --steps "$STEPS" --sizes "$SIZES_TSV" | sed 's/^/        /'
    echo "$N skipped-memory 0 0 0 $need" >>"$SIZES_TSV"
    continue
  fi
  LOGS="$W/logs"; mkdir -p "$LOGS"; PEAK=0
  say "scale: $N people ($(gib "$avail") GiB free, about $(gib "$need") GiB needed); load average $(cut -d' ' -f1-3 /proc/loadavg)"

  FAILED_STEP=""
  if ! run_size "$N"; then
    echo "$N failed:$FAILED_STEP 0 0 0 $PEAK" >>"$SIZES_TSV"
    for f in "$LOGS"/*.out "$LOGS"/*.err; do [ -f "$f" ] && cp "$f" "$RESULTS/p$N-$(basename "$f")"; done
    say "scale: $FAILED_STEP failed at $N people: not trying larger sizes (its logs: $RESULTS/p$N-*)"
    STATUS=1
    [ "$KEEP" = 1 ] || rm -rf -- "$W"
    break
  fi
  read -r events persons pprl_persons < <(node -e 'const fs = require("fs"), j = (f) => JSON.parse(fs.readFileSync(f));
    const s = j(process.argv[1]); console.log(s.events, s.persons, j(process.argv[2]).persons)' "$LOGS/stats.out" "$LOGS/link_pprl.out") ||
    die "no events/persons in $LOGS/stats.out, $LOGS/link_pprl.out"
  echo "$N ran $events $persons $pprl_persons $PEAK" >>"$SIZES_TSV"
  for f in "$LOGS"/*.out; do cp "$f" "$RESULTS/p$N-$(basename "$f")"; done   # the steps' JSON reports
  BPP=$(awk -v b="$PEAK" -v n="$N" 'BEGIN { printf "%.0f", b / n }')
  say "        $events events, $persons persons (deterministic), $pprl_persons (pprl); peak disk $(gib "$PEAK") GiB = $BPP bytes per person"
  [ "$KEEP" = 1 ] || rm -rf -- "$W"
done

mkdir -p "$BENCH/results"
OUT="$BENCH/results/scale-$(date -u +%Y-%m-%d).json"
node "$HERE/report.mjs" --steps "$STEPS" --sizes "$SIZES_TSV" --out "$OUT" --target-gib "$TARGET_GIB" --flat-at "$FLAT_AT" \
  --years "$YEARS" --seed "$SEED" --threads "$THREADS" --scratch "$RESULTS" \
  --commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo '+dirty')"
exit "$STATUS"
