#!/usr/bin/env bash
# The linkage issue's goals on the public data in ../shared/data/linkage (not vendored): Splink's
# fake_1000 and FEBRL datasets 1-3, plaintext and pprl (fresh key per run), dedupe.
# Prints P / R / F1, persons found and true, and the largest cluster.
#   bench/linkage/goals.sh            (ARK=build/ark, DATA=../shared/data/linkage)
set -euo pipefail
ARK=${ARK:-build/ark}
DATA=${DATA:-../shared/data/linkage}
T=$(mktemp -d "${TMPDIR:-/tmp}/goals.XXXXXX")
trap 'rm -rf "$T"' EXIT
printf 'columns: {given_name: first_name, surname: surname, date_of_birth: dob, city: city, email: email}\n' >"$T/fake.yaml"
printf 'columns: {given_name: given_name, surname: surname, street_number: street_number, address_1: address_1, address_2: address_2, suburb: suburb, postcode: postcode, state: state, date_of_birth: date_of_birth}\n' >"$T/febrl.yaml"
run() {  # name file spec truth-args...
  local name=$1 file=$2 spec=$3; shift 3
  for mode in plaintext pprl; do
    $ARK link-records --left "$file" --spec "$spec" --mode "$mode" "$@" --json >"$T/out.json" 2>/dev/null
    /usr/bin/python3 - "$T/out.json" "$name" "$mode" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
c = j["clustering"]
print(f"{sys.argv[2]:10} {sys.argv[3]:9} P {j['precision']:.4f} R {j['recall']:.4f} F1 {j['f1']:.4f} "
      f"persons {j['found_persons']} (true {j['true_persons']}) largest cluster {c['largest_cluster']} "
      f"expected false-merge rate {c['expected_false_merge_rate']:.4f}")
PY
  done
}
run fake_1000 "$DATA/splink_fake_1000/fake_1000.csv" "$T/fake.yaml" --truth-column cluster
for n in 1 2 3; do
  run "FEBRL$n" "$DATA/febrl/dataset$n.csv" "$T/febrl.yaml" --truth-column rec_id --truth-pattern 'rec-(\d+)'
done
