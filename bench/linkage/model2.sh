#!/usr/bin/env bash
# PPRL linkage of the synthetic region under both error models: the generator's own (`ark synth`)
# and the second, independent one (`ark corrupt --model model2`, src/synth/corrupt.h) applied on
# top of it to the same region. Prints P, R, F1, the largest cluster, clusters holding two valid
# NHS pseudonyms (hard conflicts; must be 0), merges refused, the expected false-merge rate, and
# the time and peak RSS of `ark link`.
#
#   bench/linkage/model2.sh [PEOPLE] [SEED]      (default 20000 people, seed 23; keep <= 50000 here)
#   ARK=build/ark, TMPDIR for the work directory (removed at the end unless KEEP=1).
set -euo pipefail
ARK=${ARK:-build/ark}
N=${1:-20000}
SEED=${2:-23}
T=$(mktemp -d "${TMPDIR:-/tmp}/model2.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3
$ARK synth --people "$N" --seed "$SEED" --out "$T/generator" --quiet >/dev/null
cp -r "$T/generator" "$T/model2"
$ARK corrupt "$T/model2" --model model2 --seed "$SEED" >"$T/corrupt.txt"
$ARK keygen --out "$T/key" >/dev/null
custs="gp acute community social_care deaths"
for m in generator model2; do
  for c in $custs; do
    $ARK pseudonymise --key "$T/key" --custodian "$c" --in "$T/$m/$c" --out "$T/p-$m/$c" >/dev/null
  done
  $ARK init "$T/ark-$m" >/dev/null
  $ARK ingest "$T/ark-$m" $(for c in $custs; do echo "$T/p-$m/$c"; done) >/dev/null
  /usr/bin/time -f '%e %M' -o "$T/time-$m" $ARK link "$T/ark-$m" --mode pprl --truth "$T/$m/truth" --json \
      >"$T/link-$m.json" 2>"$T/link-$m.err"
done
echo "synthetic region: $N people, seed $SEED; model2 changes:"
sed 's/^/  /' "$T/corrupt.txt"
$PY - "$T" <<'PY'
import json, sys
t = sys.argv[1]
print(f"{'errors':10} {'records':>8} {'precision':>10} {'recall':>9} {'F1':>8} {'largest':>7} {'2-NHS clusters':>14} "
      f"{'refused NHS':>11} {'refused incoherent':>18} {'exp. false-merge rate':>21} {'link s':>7} {'RSS MB':>7}")
for m in ("generator", "model2"):
    j = json.load(open(f"{t}/link-{m}.json"))
    c = j["pprl"]["clustering"]
    sec, kb = open(f"{t}/time-{m}").read().split()
    print(f"{m:10} {j['pprl']['records']:>8} {j['precision']:>10.5f} {j['recall']:>9.5f} {j['f1']:>8.5f} "
          f"{c['largest_cluster']:>7} {c['clusters_with_two_groups']:>14} {c['merges_refused_hard_conflict']:>11} "
          f"{c['merges_refused_incoherent']:>18} {c['expected_false_merge_rate']:>21.4f} {float(sec):>7.1f} {int(kb)/1024:>7.0f}")
PY
