#!/usr/bin/env bash
# The study-definition benchmark: bench/study/bench.yaml (a population, 10 variables, 3 measures
# over 24 monthly intervals) on the native engine, SQLite, PostgreSQL (private server, indexed,
# ANALYZE) and DuckDB (the SQL Ark generates, through @duckdb/node-api), with every time and the
# ratios printed, and the engines' results checked against each other.
#
#   bash bench/study/run.sh [--quick]
#
# The Ark: $STUDY_ARK, else the one bench/run.sh built under $BENCH_DIR (/tmp/ark-bench) for
# BENCH_PEOPLE (1000000; --quick: 20000) people, 10 years, seed 1 (run `bash bench/run.sh` first).
# Knobs: ARK_BUILD_DIR (build; needs -DARK_BUILD_BENCH=ON), STUDY_ENGINES
# (native,sqlite,postgres,duckdb), STUDY_RUNS (3, native), STUDY_SQL_RUNS (1), BENCH_THREADS (2),
# STUDY_WORK (/tmp/ark-bench/study: scratch; the exported databases are large).
# Writes bench/study/results/study-p<N>.json.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
people=${BENCH_PEOPLE:-1000000}
[ "${1:-}" = "--quick" ] && people=${BENCH_PEOPLE:-20000}
scratch=${BENCH_DIR:-/tmp/ark-bench}
ark=${STUDY_ARK:-$scratch/run-p$people-y10-s1/ark}
build=${ARK_BUILD_DIR:-$root/build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
bin=$build/bench/study/study_bench
[ -x "$bin" ] || { echo "study bench: no $bin (configure with -DARK_BUILD_BENCH=ON and build study_bench)" >&2; exit 1; }
[ -d "$ark/store" ] || { echo "study bench: no Ark at $ark (run 'bash bench/run.sh' with BENCH_PEOPLE=$people first, or set STUDY_ARK)" >&2; exit 1; }
engines=${STUDY_ENGINES:-native,sqlite,postgres,duckdb}
if [[ $engines == *duckdb* ]] && [ ! -d "$root/bench/node_modules/@duckdb/node-api" ]; then
  echo "study bench: DuckDB skipped (run 'npm install' in bench/)" >&2
  engines=${engines//,duckdb/}
fi
work=${STUDY_WORK:-$scratch/study}
mkdir -p "$here/results" "$work"
"$bin" --ark "$ark" --definition "$here/bench.yaml" --work "$work" --engines "$engines" \
  --runs "${STUDY_RUNS:-3}" --sql-runs "${STUDY_SQL_RUNS:-1}" --threads "${BENCH_THREADS:-2}" \
  --json "$here/results/study-p$people.json"
