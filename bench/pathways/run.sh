#!/usr/bin/env bash
# The pathways benchmark: Ark's graph + variants + durations and XES import, and DuckDB's
# directly-follows counts over the same replicated log, in the same run.
#
#   bash bench/pathways/run.sh [BUILD_DIR] [EVENTS]     (defaults: build, 100000000)
#
# Needs the pathways_bench target (bench/CMakeLists.txt: add_subdirectory(pathways)) and
# `npm install` in bench/pathways (DuckDB's Node API). Writes bench/pathways/results/*.json.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
events=${2:-100000000}
threads=${THREADS:-2}
csv=$root/../shared/data/pathways/eventdataR/hospital_billing.csv
out=$here/results
mkdir -p "$out"
bin=$build/bench/pathways/pathways_bench
[ -x "$bin" ] || bin=$build/pathways_bench
[ -x "$bin" ] || { echo "no pathways_bench in $build (add_subdirectory(pathways) in bench/CMakeLists.txt)"; exit 1; }
"$bin" --events "$events" --threads "$threads" --json "$out/ark.json"
replicas=$(python3 -c "import json;print(json.load(open('$out/ark.json'))['replicas'])")
if [ -d "$here/node_modules/@duckdb/node-api" ]; then
  node "$here/duckdb_dfg.mjs" --csv "$csv" --replicas "$replicas" --threads "$threads" >"$out/duckdb.json"
  python3 - "$out/ark.json" "$out/duckdb.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1])); d = json.load(open(sys.argv[2]))
same = a["dfg_pairs"] == d["dfg_pairs"] and a["edges"] == d["edges"]
print(f"DuckDB {d['duckdb_version']}: directly-follows counts over {d['events']:,} events in {d['dfg_seconds']:.2f} s "
      f"= {d['dfg_events_per_second']/1e6:.1f} M events/s ({d['edges']} edges, {d['dfg_pairs']:,} pairs; "
      f"{'same as Ark' if same else 'DIFFERENT from Ark'})")
print(f"Ark: graph + variants + durations in {a['analyse_seconds']:.2f} s = {a['analyse_events_per_second']/1e6:.0f} M events/s "
      f"({a['analyse_events_per_second']/d['dfg_events_per_second']:.0f}x DuckDB's directly-follows query alone)")
print(f"XES import: Ark {a['xes_events_per_second']/1e6:.2f} M events/s; pm4py (published: BPI 2012, 262k events in 13 s) "
      f"{a['pm4py_published_xes_events_per_second']/1e3:.0f} k events/s")
PY
else
  echo "DuckDB peer skipped: run 'npm install' in $here"
fi
