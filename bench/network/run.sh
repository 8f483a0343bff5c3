#!/bin/sh
# Times a federated measure (3 measures x 24 months) and a federated 10-parameter logistic
# regression across four sites on loopback (each a dummy-data Ark with its own key, served by
# `ark network serve`, mutual TLS), with the pooled fit of the same model in one process beside it.
# Prints figures, with the CPU seconds each site spent on the measure; not a test. "round trips (s)"
# is each GLM round trip's wall time: the first evaluates the design at every site, the later ones
# are the arithmetic plus per-request costs (docs/network.md).
# The issue's sizes: bench/network/run.sh 250000 (4 x 250k = 1M people).
#   bench/network/run.sh [PEOPLE_PER_SITE] [ARK_BINARY] [FIRST_PORT]
set -eu
PEOPLE=${1:-2000}
ARK=${2:-build/ark}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
DEF=$SRC/definitions/diabetes_register.yaml
# BENCH_DIR=DIR keeps the sites there (and reuses them when run again: synthesis is the slow part).
W=${BENCH_DIR:-$(mktemp -d /tmp/ark-netbench-XXXXXX)}
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; [ -n "${BENCH_DIR:-}" ] || rm -rf "$W"; }
trap cleanup EXIT INT TERM
tok() { grep -o 'ark_[0-9a-f]*' | head -1; }
BASE=${3:-$(( 20000 + $$ % 20000 ))}
i=0
[ -f "$W/net.yaml" ] && REUSE=1 || REUSE=0
for s in a b c d; do
  i=$((i + 1))
  [ $REUSE = 1 ] && continue
  "$ARK" dummy "$DEF" --people "$PEOPLE" --seed $i --out "$W/$s" >/dev/null
  "$ARK" network init "$W/$s" --site site-$s --listen 127.0.0.1:$((BASE + i)) >/dev/null
  "$ARK" user add "$W/$s" admin --roles admin | tok > "$W/$s.admin"
done
if [ $REUSE = 0 ]; then
"$ARK" network file --network bench --out "$W/net.yaml" "$W/a" "$W/b" "$W/c" "$W/d" >/dev/null
ARK_TOKEN=$(cat "$W/a.admin") "$ARK" user add "$W/a" ana --roles analyst --as admin | tok > "$W/ana"
fi
# The GLM's design: the register's codelists, age, sex and deprivation.
mkdir -p "$W/def/codelists" && cp "$SRC"/definitions/codelists/diabetes-snomed.csv "$SRC"/definitions/codelists/hba1c-snomed.csv "$W/def/codelists/"
# The measure: the register's three measures, monthly over 24 months.
sed -e 's/every: quarter, from: 2023-04-01/every: month, from: 2023-04-01/' \
    -e 's/every: year, from: 2021-04-01/every: month, from: 2023-04-01/' "$DEF" > "$W/def/measure24.yaml"
cat > "$W/def/glm.yaml" <<'YAML'
name: bench_glm
codelists:
  diabetes: {file: codelists/diabetes-snomed.csv, system: SNOMED}
  hba1c:    {file: codelists/hba1c-snomed.csv, system: SNOMED}
index_date: 2025-03-31
population: {registered: true, alive: true, age: [17, 120]}
variables:
  has_diabetes: {exists: diabetes, to: 0d}
  age_years:    age
  female:       "sex = 'F'"
  deprivation:  imd_decile
  age_sq:       "age * age / 100.0"
  old:          "age >= 65"
  very_old:     "age >= 80"
  deprived:     "imd_decile <= 3"
  affluent:     "imd_decile >= 8"
  female_old:   "sex = 'F' and age >= 65"
YAML
for s in a b c d; do
  export ARK_TOKEN=$(cat "$W/$s.admin")
  if [ $REUSE = 0 ]; then
  "$ARK" network accept "$W/$s" "$W/net.yaml" --as admin >/dev/null
  "$ARK" project create "$W/$s" fed --as admin --title bench --purpose research --legal-basis bench \
    --datasets dummy --people ana@site-a --start 2020-01-01 --end 2099-12-31 >/dev/null
  "$ARK" project approve "$W/$s" fed --as admin >/dev/null
  fi
  "$ARK" network serve "$W/$s" --network "$W/net.yaml" > "$W/$s.log" 2>&1 &
  PIDS="$PIDS $!"
done
sleep 1
export ARK_TOKEN=$(cat "$W/ana")
# CPU seconds (user + system) the site processes have used so far, one figure per site.
TCK=$(getconf CLK_TCK)
site_cpu() { for p in $PIDS; do awk -v t="$TCK" '{printf "%.2f ", ($14 + $15) / t}' /proc/$p/stat; done; }
echo "4 sites x $PEOPLE dummy persons, mutual TLS on loopback"
c0=$(site_cpu)
t0=$(date +%s.%N)
"$ARK" network run "$W/net.yaml" "$W/def/measure24.yaml" --ark "$W/a" --project fed --as ana --out "$W/out.$$"
t1=$(date +%s.%N)
c1=$(site_cpu)
echo "federated measure (3 measures x 24 months): $(echo "$t1 - $t0" | bc) s wall, $(cat "$W"/out.$$/pooled/*.csv | wc -l) pooled rows"
echo "site CPU during the measure (s, sites a-d): $(echo "$c0 $c1" | awk '{n = NF / 2; for (i = 1; i <= n; i++) printf "%.2f ", $(n + i) - $i}')"
"$ARK" network glm "$W/net.yaml" --definition "$W/def/glm.yaml" --ark "$W/a" --project fed --as ana \
  --outcome has_diabetes --covariates age_years,female,deprivation,age_sq,old,very_old,deprived,affluent,female_old \
  --pooled-from "$W/a,$W/b,$W/c,$W/d" | tail -3
