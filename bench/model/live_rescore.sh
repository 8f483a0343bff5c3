#!/usr/bin/env bash
# Live re-scoring benchmark (issue 16, docs/live.md "Live risk"): a demo Ark of PEOPLE, the
# emergency-admission model trained in its planning project, a direct-care project, then
# `ark serve --model` with the baseline at 2025-06-01 and a risk alert at 0.2. MESSAGES HL7
# messages (alternately an A&E arrival, A04 class E, and an emergency admission, A01 PV1-4 EM,
# for people of the GP's list: each one changes ae_1y or admissions_1y) are sent over MLLP on one
# connection waiting for each ACK, as a trust's interface engine does. Prints the exact p50/p99 of
# the re-score from receipt (receipt of the message → the person's new risk; includes the live
# log's fdatasync) and of the re-score itself, from /api/v1/live/indicators, and the data-action
# latency (receipt → risk alert emitted) of the alerts that fired.
#
#   bash bench/model/live_rescore.sh [BUILD_DIR] [PEOPLE] [MESSAGES] [MLLP_PORT] [HTTP_PORT]
#   (defaults: build, 20000, 2000, 21310, 21311)
#
# Scratch: $BENCH_DIR (default /tmp/ark-live-rescore-bench).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
people=${2:-20000}
messages=${3:-2000}
mllp=${4:-21310}
http=${5:-21311}
dir=${BENCH_DIR:-/tmp/ark-live-rescore-bench}
ark=$build/ark
rm -rf "$dir" && mkdir -p "$dir"
"$ark" demo --people "$people" --years 3 --out "$dir/d" > "$dir/demo.log" 2>&1 || { tail "$dir/demo.log"; exit 1; }
tok() { grep "^$1=" "$dir/d/governance/tokens.env" | cut -d= -f2; }
a=$dir/d/ark
ARK_TOKEN=$(tok ANA) "$ark" model train "$a" "$root/models/emergency_admission_12m.yaml" --out "$dir/m" \
  --project demo-planning --as ana > "$dir/train.log"
ARK_TOKEN=$(tok ANA) "$ark" project create "$a" dc --title "case finding" --purpose direct_care --legal-basis "direct care" \
  --datasets acute,community,deaths,gp,social_care --people ana --start 2000-01-01 --end 2999-12-31 --as ana > /dev/null
ARK_TOKEN=$(tok ADMIN) "$ark" project approve "$a" dc --as admin > /dev/null

# The feed: NHS numbers from the GP extract (the region's raw files; the Ark holds only pseudonyms).
python3 - "$dir/d/region/gp/patients.csv" "$messages" > "$dir/feed.hl7" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
col = next(c for c in rows[0] if "nhs" in c.lower())
nhs = [r[col] for r in rows if len(r[col]) == 10]
n = int(sys.argv[2])
for i in range(n):
    who, ts = nhs[(i // 2) % len(nhs)], "202506%02d%02d%02d00" % (2 + i // 20000 % 25, 8 + i // 60 % 12, i % 60)
    if i % 2 == 0:
        seg = [f"MSH|^~\\&|PAS|RXX01|ARK|ARK|{ts}||ADT^A04^ADT_A01|B{i}|P|2.4", f"EVN|A04|{ts}|||U1|{ts}",
               f"PID|1||{who}^^^NHS^NH||BENCH^PERSON||19500101|F", "PV1|1|E|AE^^^RXX01"]
    else:
        seg = [f"MSH|^~\\&|PAS|RXX01|ARK|ARK|{ts}||ADT^A01^ADT_A01|B{i}|P|2.4", f"EVN|A01|{ts}|||U1|{ts}",
               f"PID|1||{who}^^^NHS^NH||BENCH^PERSON||19500101|F", "PV1|1|I|WARD1^B1^^RXX01|EM"]
    sys.stdout.write("\r".join(seg) + "\r\n")
PY

ARK_TOKEN=$(tok ANA) "$ark" serve "$a" --key "$dir/d/custodians/programme.key" --mllp "127.0.0.1:$mllp" --http "127.0.0.1:$http" \
  --model "$dir/m" --project dc --as ana --risk-at 2025-06-01 --risk-alert 0.2 > "$dir/serve.log" 2>&1 &
serve=$!
trap 'kill $serve 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$http/healthz" > /dev/null 2>&1 && break; sleep 0.2; done
"$ark" send-hl7 "$dir/feed.hl7" --to "127.0.0.1:$mllp" --json > "$dir/send.json"
token=$(head -c 48 "$a/live/api.token")
curl -fs -H "Authorization: Bearer $token" "http://127.0.0.1:$http/api/v1/live/indicators" > "$dir/indicators.json"
curl -fs -H "Authorization: Bearer $token" "http://127.0.0.1:$http/api/v1/live/alerts" > "$dir/alerts.json"
kill $serve && wait $serve || true
trap - EXIT
grep "live risk" "$dir/serve.log" || true
python3 - "$dir/send.json" "$dir/indicators.json" "$dir/alerts.json" <<'PY'
import json, math, sys
s, ind, alerts = (json.load(open(f)) for f in sys.argv[1:4])
r = ind["risk"]
print(f"sent {s['sent']} messages, {s['acknowledged']} acknowledged, {s['rate']:.0f} msgs/s on one connection (ACK p50 "
      f"{s['ack_latency_ms']['p50']:.2f} ms, p99 {s['ack_latency_ms']['p99']:.2f} ms)")
print(f"live risk: {r['persons']:,} people in the baseline ({r['baseline_date']}, {r['model']}); {r['events']} records of theirs, "
      f"{r['rescored']} re-scored, {r['alerts']} risk alerts")
print(f"re-score from receipt: p50 {r['from_receipt_ms']['p50']:.3f} ms, p99 {r['from_receipt_ms']['p99']:.3f} ms, "
      f"max {r['from_receipt_ms']['max']:.3f} ms (receipt -> new risk, includes the live log's fdatasync)")
print(f"re-score itself:       p50 {r['rescore_ms']['p50']:.4f} ms, p99 {r['rescore_ms']['p99']:.4f} ms")
lat = sorted((a["emitted_us"] - a["received_us"]) / 1000 for a in alerts if a["signal"] == "risk")
if lat:
    q = lambda p: lat[max(0, math.ceil(p * len(lat)) - 1)]
    print(f"data-action latency of {len(lat)} risk alerts (receipt -> alert emitted): p50 {q(0.5):.3f} ms, p99 {q(0.99):.3f} ms")
PY
