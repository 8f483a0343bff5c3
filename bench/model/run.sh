#!/usr/bin/env bash
# The risk-model benchmark (issue 16): a demo Ark of N people over 3 years, `ark model train`
# (fit at 2024-01-01, temporal validation at 2025-01-01) in its planning project, and the
# region's oracle AUROC (people ranked by their true probability, truth/emergency_risk.csv,
# computed by R's pROC with a DeLong interval). Prints AUROC, oracle AUROC, the gap,
# calibration, the false-negative gap between the most and least deprived quintiles, seconds;
# then the same with gradient-boosted trees (models/emergency_admission_12m_gbt.yaml), both
# learners beside the oracle, and `ark model score` over the Ark at 2025-01-01 (planning), and
# the scoring alone (score_bench: Ark's flattened forest against xgboost's predictor, same rows).
#
#   bash bench/model/run.sh [BUILD_DIR] [PEOPLE]      (defaults: build, 100000)
#
# Then scikit-learn's LogisticRegression and HistGradientBoostingClassifier on the same feature
# matrix (written by --dump-features: same rows, same temporal split; bench/model/sklearn_compare.py),
# their AUROC and fit time beside Ark's.
#
# Needs Rscript and pROC, and /usr/bin/python3 with sklearn and statsmodels (scripts/deps.sh). Scratch: $BENCH_DIR (default /tmp/ark-model-bench).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
people=${2:-100000}
dir=${BENCH_DIR:-/tmp/ark-model-bench}
ark=$build/ark
rm -rf "$dir" && mkdir -p "$dir"
t0=$(date +%s.%N)
"$ark" demo --people "$people" --years 3 --out "$dir/d" > "$dir/demo.log" 2>&1 || { tail "$dir/demo.log"; exit 1; }
t1=$(date +%s.%N)
token=$(grep '^ANA=' "$dir/d/governance/tokens.env" | cut -d= -f2)
ARK_TOKEN=$token "$ark" model train "$dir/d/ark" "$root/models/emergency_admission_12m.yaml" --out "$dir/m" \
  --project demo-planning --as ana --dump-features "$dir/features" | tee "$dir/train.log"
t2=$(date +%s.%N)
ARK_TOKEN=$token "$ark" model train "$dir/d/ark" "$root/models/emergency_admission_12m_gbt.yaml" --out "$dir/g" \
  --project demo-planning --as ana | tee "$dir/train_gbt.log"
t3=$(date +%s.%N)
ARK_TOKEN=$token "$ark" model score "$dir/d/ark" "$dir/g" --at 2025-01-01 --out "$dir/s" \
  --project demo-planning --as ana | tee "$dir/score.log"
# The scoring itself, apart from building the feature table: Ark's flattened forest against
# xgboost's predictor on the validation rows (bench/model/score_bench.cc).
if [ -x "$build/bench/model/score_bench" ]; then
  "$build/bench/model/score_bench" "$dir/g" "$dir/features/validate.csv" 2 | tee "$dir/score_bench.log"
else
  echo "score_bench not built ($build/bench/model/score_bench): cmake --build $build --target score_bench"
fi
oracle=$(Rscript -e 'suppressMessages(library(pROC)); d <- read.csv(commandArgs(TRUE)[1]);
  r <- roc(d$emergency_admission_12m, d$p_emergency_admission_12m, levels = c(0, 1), direction = "<", quiet = TRUE);
  ci <- ci.auc(r, method = "delong"); cat(sprintf("%.4f %.4f %.4f %d", ci[2], ci[1], ci[3], nrow(d)))' \
  "$dir/d/region/truth/emergency_risk.csv")
python3 - "$dir/m/model_card.json" "$oracle" "$t0" "$t1" "$t2" "$t3" "$dir/g/model_card.json" <<'PY'
import json, sys
card = json.load(open(sys.argv[1])); o = sys.argv[2].split(); t0, t1, t2, t3 = map(float, sys.argv[3:7])
gbt = json.load(open(sys.argv[7]))
v = card["performance"]["temporal_validation"]; a = v["auroc"]; cal = v["calibration"]
print(f"people in the validation table {v['people']:,}, events {v['events']:,}")
print(f"model AUROC {a['estimate']:.4f} ({a['ci95'][0]:.4f}-{a['ci95'][1]:.4f}); "
      f"oracle AUROC {float(o[0]):.4f} ({float(o[1]):.4f}-{float(o[2]):.4f}, {int(o[3]):,} people); "
      f"gap {float(o[0]) - a['estimate']:.4f}")
print(f"calibration slope {cal['slope']:.3f}, intercept {cal['intercept']:.3f}, in the large {100*cal['in_the_large_difference']:+.2f} points")
rows = [r for r in v["fairness"]["deprivation_quintile"] if "suppressed" not in r]
for r in rows:
    print(f"  deprivation {r['group']:>16}: in the large {100*r['in_the_large_difference']:+.2f} points, "
          f"FPR {100*r['false_positive_rate']:.1f}%, FNR {100*r['false_negative_rate']:.1f}% at the top {v['threshold']['top_percent']}%")
if len(rows) >= 2:
    print(f"FNR gap, most minus least deprived: {100*(rows[0]['false_negative_rate'] - rows[-1]['false_negative_rate']):+.1f} points")
print(f"seconds: demo (synth, ingest, link, ...) {t1-t0:.1f}, ark model train {t2-t1:.1f}, with gbt {t3-t2:.1f}")
print("learner    AUROC (95% CI)            gap to oracle  slope   in the large  FNR gap (most - least deprived)")
for name, c in (("logistic", card), ("gbt", gbt)):
    v = c["performance"]["temporal_validation"]; a = v["auroc"]; cal = v["calibration"]
    q = [r for r in v["fairness"]["deprivation_quintile"] if "suppressed" not in r]
    gap = f"{100*(q[0]['false_negative_rate'] - q[-1]['false_negative_rate']):+.1f} points" if len(q) >= 2 else "n/a"
    print(f"{name:10} {a['estimate']:.4f} ({a['ci95'][0]:.4f}-{a['ci95'][1]:.4f})  {float(o[0]) - a['estimate']:+.4f}        "
          f"{cal['slope']:.3f}   {100*cal['in_the_large_difference']:+.2f} points  {gap}")
print(f"oracle     {float(o[0]):.4f} ({float(o[1]):.4f}-{float(o[2]):.4f})")
cmp = gbt["comparison"]
print(f"fit seconds: logistic {cmp['logistic']['seconds_fit']}, gbt {cmp['gbt']['seconds_fit']} "
      f"({gbt['parameters']['trees']} trees, depth {gbt['parameters']['max_depth']}, {gbt['parameters']['threads']} threads)")
PY
if /usr/bin/python3 -c 'import sklearn, statsmodels' 2>/dev/null; then
  /usr/bin/python3 "$here/sklearn_compare.py" "$dir/features" "$dir/m/model_card.json" "$dir/g/model_card.json" \
    "$(echo "$oracle" | cut -d' ' -f1)"
else
  echo "scikit-learn comparison skipped: /usr/bin/python3 has no sklearn/statsmodels (scripts/deps.sh)"
fi
