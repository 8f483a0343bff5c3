#!/usr/bin/env bash
# Ark's benchmark suite (`make bench`): the whole pipeline on a synthetic region, then the same
# cohort scan on Ark, SQLite and DuckDB over the same events, and DuckDB loading the same
# pseudonymised feed files as Ark's ingest (every file, every column, typed). See bench/README.md.
# Peak memory and time from 1M to 15M people: bash bench/scale/run.sh.
#
#   bash bench/run.sh            # 1M people x 10 years (BENCH_PEOPLE, BENCH_YEARS, BENCH_SEED)
#   bash bench/run.sh --quick    # 20k people, for development
#   bash bench/run.sh --force    # regenerate the region even if one with the same N/years/seed exists
#   bash bench/run.sh --clean    # delete the scratch directory's datasets and exit
#
# Knobs (environment): BENCH_PEOPLE (1000000; --quick: 20000), BENCH_YEARS (10), BENCH_SEED (1),
# BENCH_THREADS (2), BENCH_RUNS (7: timed scans per engine, after one warm-up),
# BENCH_SQLITE_RUNS (3), BENCH_DIR (/tmp/ark-bench: scratch), BENCH_FORCE=1 (= --force),
# BENCH_KEEP=1 (keep the raw region, the exported CSV and the peers' databases), BENCH_KERNEL=0 (skip the
# in-memory bitmap reference), ARK_BUILD_DIR (the build directory; default $BUILD or build).
#
# Exit status: 0 when every step ran and the three engines agree (targets missed are reported,
# not fatal; BENCH_STRICT=1 makes a missed target exit 3); 1 when a step failed; 2 when the
# engines returned different counts or a peer loaded other row counts than the files hold.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

QUICK=0
CLEAN=0
for a in "$@"; do
  case "$a" in
    --quick) QUICK=1 ;;
    --force) BENCH_FORCE=1 ;;
    --clean) CLEAN=1 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $a (try --help)" >&2; exit 2 ;;
  esac
done

if [ "$QUICK" = 1 ]; then PEOPLE="${BENCH_PEOPLE:-20000}"; else PEOPLE="${BENCH_PEOPLE:-1000000}"; fi
YEARS="${BENCH_YEARS:-10}"
SEED="${BENCH_SEED:-1}"
THREADS="${BENCH_THREADS:-2}"
RUNS="${BENCH_RUNS:-7}"
SQLITE_RUNS="${BENCH_SQLITE_RUNS:-3}"
SCRATCH="$(realpath -m "${BENCH_DIR:-/tmp/ark-bench}")"
FORCE="${BENCH_FORCE:-0}"
KEEP="${BENCH_KEEP:-0}"
KERNEL="${BENCH_KERNEL:-1}"
BUILD_DIR="${ARK_BUILD_DIR:-${BUILD:-build}}"
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
CUSTODIANS=(gp acute community social_care deaths)
mkdir -p "$SCRATCH"
SCRATCH_LOG="$SCRATCH/build.log"
if [ "$CLEAN" = 1 ]; then
  rm -rf -- "$SCRATCH"/run-p*
  echo "bench: removed the datasets under $SCRATCH"
  exit 0
fi

REUSED=0
die() {
  echo "bench: FAILED: $*" >&2
  [ "$REUSED" = 1 ] && echo "bench: (the feeds were reused from an earlier run: if the formats changed since, rerun with --force)" >&2
  exit 1
}
say() { printf '%s\n' "$*"; }

# ---- tools ------------------------------------------------------------------------------------
ARK="$BUILD_DIR/ark"
ARK_BENCH="$BUILD_DIR/bench/ark_bench"
SQLITE_BENCH="$BUILD_DIR/bench/sqlite_bench"
# Bring the three binaries up to date (a no-op after `make build`). A build directory configured
# before bench/CMakeLists.txt existed has no bench targets: configure it again first.
[ -f "$BUILD_DIR/build.ninja" ] || cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
grep -q 'ark_bench' "$BUILD_DIR/build.ninja" || cmake -S "$ROOT" -B "$BUILD_DIR" >/dev/null
if ! cmake --build "$BUILD_DIR" -j "$(nproc)" --target ark ark_bench sqlite_bench >"$SCRATCH_LOG" 2>&1; then
  if [ -x "$ARK" ] && [ -x "$ARK_BENCH" ] && [ -x "$SQLITE_BENCH" ]; then
    say "bench: WARNING: the build failed (see $SCRATCH_LOG); benchmarking the binaries already in $BUILD_DIR"
  else
    tail -n 30 "$SCRATCH_LOG" >&2; die "build (see $SCRATCH_LOG)"
  fi
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  say "bench: installing nodejs and npm (Debian) for the DuckDB peer"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -d "$HERE/node_modules/@duckdb/node-api" ]; then
  say "bench: npm install (@duckdb/node-api, pinned by bench/package-lock.json)"
  (cd "$HERE" && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi) \
    >/dev/null || die "npm install in bench/"
fi
"$ARK" scan --help >/dev/null 2>&1 && HAVE_SCAN_CMD=1 || HAVE_SCAN_CMD=0

# ---- scratch ----------------------------------------------------------------------------------
# Each dataset lives in $SCRATCH/run-p<N>-y<Y>-s<S>.
TAG="run-p${PEOPLE}-y${YEARS}-s${SEED}"
W="$SCRATCH/$TAG"
mkdir -p "$SCRATCH"
# Datasets are GBs: a run of more than 100k people deletes the other datasets (small ones too).
if [ "$PEOPLE" -gt 100000 ]; then
  for d in "$SCRATCH"/run-p*; do
    [ -d "$d" ] && [ "$d" != "$W" ] && { say "bench: removing old scratch $d"; rm -rf -- "$d"; }
  done
fi
[ "$FORCE" = 1 ] && rm -rf -- "$W"
mkdir -p "$W/logs"
LOGS="$W/logs"
rm -f "$LOGS"/*

# timed NAME CMD...: runs CMD with stdout to logs/NAME.out, stderr to logs/NAME.err, and writes
# logs/NAME.time: "wall_seconds max_rss_kb cpu_seconds other_cores", where cpu_seconds is the
# step's own user+system time and other_cores the average number of cores that *other* processes
# kept busy meanwhile (from /proc/stat), so a figure taken on a busy machine is visible as such.
# Without /usr/bin/time, rss and cpu_seconds are 0 and other_cores is not computed (-1).
busy_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
timed() {
  local name="$1"; shift
  local t0 t1 b0 b1 rss=0 cpu=0 other=-1
  b0=$(busy_ticks); t0=$(date +%s%N)
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%M %U %S' -o "$LOGS/$name.rss" "$@" >"$LOGS/$name.out" 2>"$LOGS/$name.err" || {
      echo "--- $name: $* ---" >&2; tail -n 20 "$LOGS/$name.err" >&2; tail -n 5 "$LOGS/$name.out" >&2; die "$name"; }
    read -r rss u sy < <(tail -n 1 "$LOGS/$name.rss"); rm -f "$LOGS/$name.rss"
    cpu=$(awk -v u="$u" -v s="$sy" 'BEGIN{printf "%.2f", u + s}')
  else
    "$@" >"$LOGS/$name.out" 2>"$LOGS/$name.err" || {
      echo "--- $name: $* ---" >&2; tail -n 20 "$LOGS/$name.err" >&2; tail -n 5 "$LOGS/$name.out" >&2; die "$name"; }
  fi
  t1=$(date +%s%N); b1=$(busy_ticks)
  awk -v ns=$((t1 - t0)) -v rss="$rss" -v cpu="$cpu" -v ticks=$((b1 - b0)) -v hz="$(getconf CLK_TCK)" -v has="$([ -x /usr/bin/time ] && echo 1 || echo 0)" \
    'BEGIN { w = ns / 1e9; o = has ? (ticks / hz - cpu) / w : -1; if (has && o < 0) o = 0;
             printf "%.3f %d %.2f %.2f\n", w, rss, cpu, o }' >"$LOGS/$name.time"
}
secs() { awk '{printf "%.2f", $1}' "$LOGS/$1.time"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

say "bench: $PEOPLE people x $YEARS years, seed $SEED, $THREADS threads; scratch $W"
say "bench: machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/{print $2}') GiB; load average $(loadavg)"

# ---- 1. region and feeds (reused when the same N/years/seed exists) ---------------------------
if [ -f "$W/region.done" ]; then
  REUSED=1
  say "bench: reusing the feeds generated $(cat "$W/region.done") (BENCH_FORCE=1 or --force to regenerate)"
  cp "$W/region.synth.time" "$LOGS/synth.time"
  cp "$W/region.pseudonymise.time" "$LOGS/pseudonymise.time"
  echo cached >"$LOGS/synth.cached"
else
  rm -rf -- "$W/region" "$W/feeds" "$W/programme.key"
  say "bench: [1/9] ark synth --people $PEOPLE --years $YEARS --seed $SEED --threads $THREADS ..."
  timed synth "$ARK" synth --people "$PEOPLE" --years "$YEARS" --seed "$SEED" --threads "$THREADS" --out "$W/region"
  say "        $(secs synth) s"
  say "bench: [2/9] ark keygen + ark pseudonymise (5 custodians) ..."
  "$ARK" keygen --out "$W/programme.key" >/dev/null || die keygen
  mkdir -p "$W/feeds"
  for c in "${CUSTODIANS[@]}"; do
    timed "pseudonymise_$c" "$ARK" pseudonymise --key "$W/programme.key" --custodian "$c" \
      --in "$W/region/$c" --out "$W/feeds/$c" --threads "$THREADS" --json
  done
  cat "$LOGS"/pseudonymise_*.time | awk '{s += $1; if ($2 > m) m = $2; c += $3; o += $4 * $1} END {printf "%.3f %d %.2f %.2f\n", s, m, c, o / s}' >"$LOGS/pseudonymise.time"
  # The raw region is not needed again (the feeds are what the Ark ingests): free its GBs. Its
  # ground truth (never ingested) is kept to score the linkage.
  rm -rf -- "$W/truth" && cp -r "$W/region/truth" "$W/truth"
  [ "$KEEP" = 1 ] || rm -rf -- "$W/region"
  say "        $(secs pseudonymise) s"
  cp "$LOGS/synth.time" "$W/region.synth.time"
  cp "$LOGS/pseudonymise.time" "$W/region.pseudonymise.time"
  date -u +%Y-%m-%dT%H:%M:%SZ >"$W/region.done"
fi
du -sb "$W/feeds" | cut -f1 >"$LOGS/feeds_bytes"

# ---- 2. the Ark: ingest, link, build, stats ---------------------------------------------------
rm -rf -- "$W/ark"
"$ARK" init "$W/ark" >/dev/null || die "ark init"
FEEDS=()
for c in "${CUSTODIANS[@]}"; do FEEDS+=("$W/feeds/$c"); done
sync
say "bench: [3/9] ark ingest (all five feeds, --threads $THREADS) ... load average $(loadavg)"
timed ingest "$ARK" ingest "$W/ark" "${FEEDS[@]}" --threads "$THREADS" --json
say "        $(secs ingest) s"
LINK_MODE=${LINK_MODE:-pprl}
say "bench: [4/9] ark link --mode $LINK_MODE, ark build ..."
TRUTH=(); [ -d "$W/truth" ] && TRUTH=(--truth "$W/truth")
timed link "$ARK" link "$W/ark" --mode "$LINK_MODE" "${TRUTH[@]}" --threads "$THREADS" --json
timed build "$ARK" build "$W/ark" --threads "$THREADS" --json
say "        link $(secs link) s, build $(secs build) s"
timed stats "$ARK" stats "$W/ark" --json

# ---- 3. export the store's events and the query -----------------------------------------------
say "bench: [5/9] export the store's events to CSV for the peers; pick the 50 codes ..."
timed export "$ARK_BENCH" export --ark "$W/ark" --csv "$W/events.csv" --query "$W/query.json"
say "        $(secs export) s, $(stat -c %s "$W/events.csv") bytes"

# ---- 4. the scan on Ark -----------------------------------------------------------------------
CODES=$(node -e 'const q=require(process.argv[1]);console.log(q.codes.map(c=>c.code).join(","))' "$W/query.json")
FROM=$(node -e 'console.log(require(process.argv[1]).from)' "$W/query.json")
TO=$(node -e 'console.log(require(process.argv[1]).to)' "$W/query.json")
say "bench: [6/9] Ark scan: 50 codes, [$FROM, $TO), $THREADS threads, warm-up + $RUNS runs ... load average $(loadavg)"
timed scan_inproc "$ARK_BENCH" scan --ark "$W/ark" --query "$W/query.json" --runs "$RUNS" --threads "$THREADS"
say "        median $(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log(r.median_seconds.toFixed(4)+" s, "+(r.events_per_second/1e9).toFixed(2)+"G events/s, "+r.persons_matched+" persons")' "$LOGS/scan_inproc.out")"
if [ "$HAVE_SCAN_CMD" = 1 ]; then
  "$ARK" scan "$W/ark" --codes "$CODES" --from "$FROM" --to "$TO" --threads "$THREADS" --json \
    >"$LOGS/scan_cli_warmup.out" 2>"$LOGS/scan_cli_warmup.err" || { cat "$LOGS/scan_cli_warmup.err" >&2; die "ark scan"; }
  for i in $(seq 1 "$RUNS"); do
    timed "scan_cli_$i" "$ARK" scan "$W/ark" --codes "$CODES" --from "$FROM" --to "$TO" --threads "$THREADS" --json
  done
else
  say "        (ark scan is not in this build: only the in-process figure)"
fi

# ---- 5. the peers -----------------------------------------------------------------------------
say "bench: [7/9] SQLite: load the CSV, then the query (warm-up + $SQLITE_RUNS runs) ... load average $(loadavg)"
timed sqlite_load "$SQLITE_BENCH" load "$W/sqlite.db" "$W/events.csv"
timed sqlite_query "$SQLITE_BENCH" query "$W/sqlite.db" "$W/query.json" "$SQLITE_RUNS"
stat -c %s "$W/sqlite.db" >"$LOGS/sqlite_bytes"
[ "$KEEP" = 1 ] || rm -f "$W/sqlite.db"
say "bench: [8/9] DuckDB: load the CSV, then the query (warm-up + $RUNS runs) ... load average $(loadavg)"
timed duckdb_load node "$HERE/duckdb_bench.mjs" load --db "$W/duckdb.db" --csv "$W/events.csv" --threads "$THREADS"
timed duckdb_query node "$HERE/duckdb_bench.mjs" query --db "$W/duckdb.db" --query "$W/query.json" --runs "$RUNS" --threads "$THREADS"
stat -c %s "$W/duckdb.db" >"$LOGS/duckdb_bytes"
if [ "$KEEP" != 1 ]; then rm -f "$W/duckdb.db" "$W/duckdb.db.wal" "$W/events.csv"; fi
# The like-for-like peer of `ark ingest`: the same pseudonymised feed files, every file and every
# column, typed, into tables (the rows loaded are checked against each file's lines afterwards).
say "bench: [9/9] DuckDB: load every file of the five pseudonymised feeds into typed tables ... load average $(loadavg)"
sync
timed duckdb_feeds_load node "$HERE/duckdb_bench.mjs" load-feeds --db "$W/duckdb_feeds.db" --feeds "$W/feeds" --threads "$THREADS"
stat -c %s "$W/duckdb_feeds.db" >"$LOGS/duckdb_feeds_bytes"
say "        $(secs duckdb_feeds_load) s"
[ "$KEEP" = 1 ] || rm -f "$W/duckdb_feeds.db" "$W/duckdb_feeds.db.wal"

if [ "$KERNEL" = 1 ]; then
  say "bench: reference: bitmap code lookup over an in-memory 32-bit column (200M events) ..."
  timed kernel "$ARK_BENCH" kernel --events 200000000 --threads "$THREADS" --runs "$RUNS"
fi

# ---- 6. the table and bench/results/latest.json ----------------------------------------------
mkdir -p "$HERE/results"
status=0
node "$HERE/report.mjs" --logs "$LOGS" --query "$W/query.json" --out "$HERE/results/latest.json" \
  --people "$PEOPLE" --years "$YEARS" --seed "$SEED" --threads "$THREADS" --scratch "$W" \
  --commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo '+dirty')" || status=$?
say "bench: peak memory and time from 1M to 15M people (ingest, link, build): bash bench/scale/run.sh (bench/README.md, \"Scale\")"
exit "$status"
