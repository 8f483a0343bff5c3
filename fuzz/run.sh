#!/usr/bin/env bash
# Runs the libFuzzer harnesses (docs/fuzzing.md). For each harness:
#   1. regression run: every input in fuzz/regressions/<harness>/ (each crash ever found) and
#      fuzz/corpus/<harness>/ (the seeds) executed once; fuzz/pending/ is not run;
#   2. a bounded fuzzing run of FUZZ_SECONDS seconds (default 10) from the seeds plus what earlier
#      runs found (kept in $BUILD/fuzz/corpus/<harness>/, outside the repository).
# Prints per-harness executions and a closing line "fuzz: N passed, M failed".
#
# Usage: fuzz/run.sh [harness ...]      (default: every fuzz/*_fuzz.cc)
# Environment: FUZZ_SECONDS (10), FUZZ_JOBS (harnesses at a time, 2), BUILD (build-asan),
#              FUZZ_FLAGS (extra libFuzzer flags).
# A crash leaves its input in $BUILD/fuzz/crashes/<harness>/ and the log in $BUILD/fuzz/logs/.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build-asan}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SECONDS_EACH=${FUZZ_SECONDS:-10}
JOBS=${FUZZ_JOBS:-2}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
LIMITS="-rss_limit_mb=2048 -timeout=10"

one() {
  local h=$1 bin=$BUILD/fuzz/$1 log=$BUILD/fuzz/logs/$1.log
  local work=$BUILD/fuzz/corpus/$h crashes=$BUILD/fuzz/crashes/$h
  mkdir -p "$BUILD/fuzz/logs" "$work" "$crashes"
  : >"$log"
  if [ ! -x "$bin" ]; then
    echo "$h: FAILED: $bin not built (cmake --build $BUILD)"
    return 1
  fi
  # 1. Regressions and seeds, each once.
  local inputs=()
  local d
  for d in "$ROOT/fuzz/regressions/$h" "$ROOT/fuzz/corpus/$h"; do
    [ -d "$d" ] && while IFS= read -r -d '' f; do inputs+=("$f"); done < <(find "$d" -type f -print0 | sort -z)
  done
  local nreg=0
  [ -d "$ROOT/fuzz/regressions/$h" ] && nreg=$(find "$ROOT/fuzz/regressions/$h" -type f | wc -l)
  if [ ${#inputs[@]} -gt 0 ]; then
    if ! "$bin" $LIMITS "${inputs[@]}" >>"$log" 2>&1; then
      echo "$h: FAILED in the regression run (${#inputs[@]} inputs); log $log:"
      grep -E "Running: |ERROR|SUMMARY|runtime error|#[0-9]+ 0x" "$log" | tail -n 40
      return 1
    fi
  fi
  # 2. Bounded fuzzing.
  local seeds=()
  [ -d "$ROOT/fuzz/corpus/$h" ] && seeds+=("$ROOT/fuzz/corpus/$h")
  [ -d "$ROOT/fuzz/regressions/$h" ] && seeds+=("$ROOT/fuzz/regressions/$h")
  local t0=$(date +%s)
  "$bin" $LIMITS -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
      -artifact_prefix="$crashes/" ${FUZZ_FLAGS:-} "$work" "${seeds[@]}" >>"$log" 2>&1
  local rc=$?
  local t1=$(date +%s)
  local execs cov
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  cov=$(grep -oE '^#[0-9]+.* cov: [0-9]+' "$log" | tail -n 1 | grep -oE 'cov: [0-9]+' | cut -d' ' -f2)
  local rate=0
  [ -n "$execs" ] && [ $((t1 - t0)) -gt 0 ] && rate=$((execs / (t1 - t0)))
  if [ $rc -ne 0 ]; then
    echo "$h: FAILED after ${execs:-?} executions; input in $crashes/, log $log:"
    grep -E "ERROR|SUMMARY|runtime error|#[0-9]+ 0x|Test unit written" "$log" | tail -n 40
    return 1
  fi
  echo "$h: ok: ${#inputs[@]} inputs replayed ($nreg regressions); fuzzed $((t1 - t0)) s: ${execs:-0} executions (${rate}/s), coverage ${cov:-?}"
}

if [ "${1:-}" = "--one" ]; then
  one "$2"
  exit $?
fi

harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
  for f in "$ROOT"/fuzz/*_fuzz.cc; do harnesses+=("$(basename "$f" .cc)"); done
fi
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
printf '%s\n' "${harnesses[@]}" | xargs -P "$JOBS" -I{} bash -c \
  '"$0" --one "$1" >"$2/$1.out" 2>&1; echo $? >"$2/$1.rc"; cat "$2/$1.out"' "$0" {} "$results"
passed=0 failed=0
for h in "${harnesses[@]}"; do
  if [ "$(cat "$results/$h.rc" 2>/dev/null)" = "0" ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
