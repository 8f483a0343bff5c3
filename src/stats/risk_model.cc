#include "stats/risk_model.h"

#include <chrono>
#include <cmath>

#include "stats/metrics.h"
#include "stats/remedy.h"

namespace ark::stats {
namespace {

using Json = nlohmann::ordered_json;

double Round(double v, int digits = 4) {
  const double f = std::pow(10, digits);
  return std::round(v * f) / f;
}

// Column means and standard deviations of `x` (sd 1 for a constant column).
void Moments(const Design& x, std::vector<double>* mean, std::vector<double>* sd) {
  mean->assign(x.cols, 0), sd->assign(x.cols, 0);
  for (size_t i = 0; i < x.rows; ++i)
    for (size_t j = 0; j < x.cols; ++j) (*mean)[j] += x.values[i * x.cols + j];
  for (double& m : *mean) m /= static_cast<double>(x.rows);
  for (size_t i = 0; i < x.rows; ++i)
    for (size_t j = 0; j < x.cols; ++j) {
      const double d = x.values[i * x.cols + j] - (*mean)[j];
      (*sd)[j] += d * d;
    }
  for (double& s : *sd) s = s > 0 ? std::sqrt(s / static_cast<double>(x.rows)) : 1;
}

Design Standardise(const Design& x, const std::vector<double>& mean, const std::vector<double>& sd) {
  Design z = x;
  for (size_t i = 0; i < x.rows; ++i)
    for (size_t j = 0; j < x.cols; ++j) z.values[i * x.cols + j] = (x.values[i * x.cols + j] - mean[j]) / sd[j];
  return z;
}

Result<Json> Performance(const std::vector<double>& p, const std::vector<int>& y, const FeatureTable& t,
                         const ModelSpec& spec) {
  ARK_ASSIGN_OR_RETURN(Roc roc, Auroc(p, y));
  ARK_ASSIGN_OR_RETURN(double auprc, Auprc(p, y));
  ARK_ASSIGN_OR_RETURN(double brier, Brier(p, y));
  ARK_ASSIGN_OR_RETURN(Calibration cal, Calibrate(p, y));
  ARK_ASSIGN_OR_RETURN(std::vector<RiskBin> bins, CalibrationBins(p, y, 10));
  ARK_ASSIGN_OR_RETURN(double threshold, TopThreshold(p, spec.top_percent));
  const ErrorRates rates = RatesAt(p, y, threshold);
  Json j;
  j["index_date"] = t.index_date;
  j["people"] = t.x.rows;
  j["events"] = roc.cases;
  j["dropped_missing"] = t.dropped;
  j["auroc"] = {{"estimate", Round(roc.auc)}, {"ci95", {Round(roc.ci_low), Round(roc.ci_high)}}, {"method", "DeLong"}};
  j["auprc"] = Round(auprc);
  j["brier"] = Round(brier, 5);
  j["calibration"] = {{"mean_predicted", Round(cal.mean_predicted)}, {"observed_rate", Round(cal.observed_rate)},
                      {"in_the_large_difference", Round(cal.difference)}, {"intercept", Round(cal.intercept)},
                      {"slope", Round(cal.slope)}};
  Json deciles = Json::array();
  for (const RiskBin& b : bins)
    deciles.push_back({{"people", b.n}, {"events", std::llround(b.observed_rate * static_cast<double>(b.n))},
                       {"mean_predicted", Round(b.mean_predicted)}, {"observed_rate", Round(b.observed_rate)}});
  j["calibration_by_decile"] = deciles;
  j["threshold"] = {{"top_percent", spec.top_percent}, {"risk", Round(threshold, 6)}, {"flagged", rates.flagged},
                    {"false_positive_rate", Round(rates.false_positive_rate)},
                    {"false_negative_rate", Round(rates.false_negative_rate)}};
  Json fairness;
  for (const auto& [var, labels] : t.groups) {
    ARK_ASSIGN_OR_RETURN(std::vector<GroupMetrics> gs, ByGroup(p, y, labels, spec.top_percent));
    Json rows = Json::array();
    for (const GroupMetrics& g : gs) {
      Json r = {{"group", g.group}};
      const bool small = g.cases < static_cast<size_t>(spec.min_cell) || g.n - g.cases < static_cast<size_t>(spec.min_cell);
      if (small) {
        r["suppressed"] = "fewer than " + std::to_string(spec.min_cell) + " people with or without the outcome";
      } else {
        r["people"] = g.n, r["events"] = g.cases;
        r["mean_predicted"] = Round(g.mean_predicted), r["observed_rate"] = Round(g.observed_rate);
        r["in_the_large_difference"] = Round(g.difference);
        r["false_positive_rate"] = Round(g.false_positive_rate), r["false_negative_rate"] = Round(g.false_negative_rate);
        // The counts behind the rates, so that a report can publish them rounded (disclosure).
        r["false_positives"] = std::llround(g.false_positive_rate * static_cast<double>(g.n - g.cases));
        r["false_negatives"] = std::llround(g.false_negative_rate * static_cast<double>(g.cases));
      }
      rows.push_back(std::move(r));
    }
    fairness[var] = rows;
  }
  j["fairness"] = fairness;
  return j;
}

// The figures a remedy is judged by, from a Performance(): discrimination, calibration, and the
// false-negative rate at the top-k% threshold overall and by `var`, with the gap between its last
// and first group ("unknown" aside): for deprivation quintiles, least minus most deprived.
Json RemedyFigures(const Json& perf, const std::string& var) {
  Json j;
  j["auroc"] = perf["auroc"]["estimate"];
  j["brier"] = perf["brier"];
  j["calibration"] = {{"in_the_large_difference", perf["calibration"]["in_the_large_difference"]},
                      {"intercept", perf["calibration"]["intercept"]}, {"slope", perf["calibration"]["slope"]}};
  j["false_negative_rate"] = perf["threshold"]["false_negative_rate"];
  Json by = Json::array();
  const Json* first = nullptr;
  const Json* last = nullptr;
  for (const Json& r : perf["fairness"][var]) {
    if (r["group"] == "unknown") continue;
    const bool shown = !r.contains("suppressed");
    by.push_back({{"group", r["group"]}, {"false_negative_rate", shown ? r["false_negative_rate"] : Json(nullptr)},
                  {"in_the_large_difference", shown ? r["in_the_large_difference"] : Json(nullptr)},
                  {"events", shown ? r["events"] : Json(nullptr)}, {"false_negatives", shown ? r["false_negatives"] : Json(nullptr)}});
    if (!first) first = &r;
    last = &r;
  }
  j["by_group"] = by;
  if (first && last && first != last && !first->contains("suppressed") && !last->contains("suppressed"))
    j["fnr_gap"] = {{"from", (*first)["group"]}, {"to", (*last)["group"]},
                    {"difference", Round((*last)["false_negative_rate"].get<double>() - (*first)["false_negative_rate"].get<double>())}};
  else
    j["fnr_gap"] = nullptr;
  return j;
}

}  // namespace

Result<TrainedModel> TrainAndValidate(const FeatureTable& train, const FeatureTable& validate, const ModelSpec& spec) {
  if (train.features != validate.features) return Status::InvalidArgument("training and validation features differ");
  if (train.x.rows == 0 || validate.x.rows == 0) return Status::InvalidArgument("a training or validation table has no rows");
  const bool gbt = spec.type == "gbt";
  if (!gbt && spec.type != "logistic") return Status::InvalidArgument("model type '" + spec.type + "' (logistic or gbt)");
  std::vector<double> mean, sd;
  Moments(train.x, &mean, &sd);
  const Design z_train = Standardise(train.x, mean, sd), z_valid = Standardise(validate.x, mean, sd);
  auto t0 = std::chrono::steady_clock::now();
  ARK_ASSIGN_OR_RETURN(LogisticModel fit, FitLogistic(z_train, train.y, {.lambda = spec.lambda}));
  TrainedModel out;
  out.seconds_fit = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<double> p_train = PredictAll(fit, z_train), p_valid = PredictAll(fit, z_valid);
  Json comparison;
  GbtModel trees;
  if (gbt) {
    ARK_ASSIGN_OR_RETURN(Roc logit_roc, Auroc(p_valid, validate.y));
    ARK_ASSIGN_OR_RETURN(Calibration logit_cal, Calibrate(p_valid, validate.y));
    comparison["logistic"] = {{"auroc", {{"estimate", Round(logit_roc.auc)}, {"ci95", {Round(logit_roc.ci_low), Round(logit_roc.ci_high)}}}},
                              {"calibration_slope", Round(logit_cal.slope)}, {"seconds_fit", Round(out.seconds_fit, 3)}};
    t0 = std::chrono::steady_clock::now();
    ARK_ASSIGN_OR_RETURN(trees, FitGbt(train.x, train.y, spec.gbt));
    out.seconds_fit = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ARK_ASSIGN_OR_RETURN(p_train, PredictGbt(trees, train.x, spec.gbt.threads));
    ARK_ASSIGN_OR_RETURN(p_valid, PredictGbt(trees, validate.x, spec.gbt.threads));
    out.booster_json = trees.json;
  }

  // The remedy: the learner's risks recalibrated within each group, fitted on the training rows.
  Json remedy_card;
  if (!spec.remedy.empty()) {
    if (spec.remedy != "recalibrate-by-deprivation")
      return Status::InvalidArgument("remedy '" + spec.remedy + "' (the one remedy is recalibrate-by-deprivation)");
    const auto gt = train.groups.find(spec.remedy_group), gv = validate.groups.find(spec.remedy_group);
    if (gt == train.groups.end() || gv == validate.groups.end())
      return Status::InvalidArgument("remedy " + spec.remedy + " needs '" + spec.remedy_group + "' among the model's groups");
    ARK_ASSIGN_OR_RETURN(Json before, Performance(p_valid, validate.y, validate, spec));
    ARK_ASSIGN_OR_RETURN(Recalibration rc, FitGroupRecalibration(p_train, train.y, gt->second, spec.min_cell));
    rc.group_variable = spec.remedy_group;
    p_train = ApplyRecalibration(rc, p_train, gt->second);
    p_valid = ApplyRecalibration(rc, p_valid, gv->second);
    out.model["remedy"] = RecalibrationJson(rc);
    remedy_card = RecalibrationJson(rc);
    remedy_card["fitted_on"] = "training rows (" + train.index_date + ")";
    remedy_card["before"] = RemedyFigures(before, spec.remedy_group);
  }

  Json& m = out.model;
  m["model"] = spec.name;
  m["type"] = spec.type;
  m["learner"] = gbt ? "gradient-boosted trees (xgboost binary:logistic, hist)" : "logistic regression, L2 penalty on standardised features (Newton/IRLS)";
  m["outcome"] = spec.outcome;
  m["horizon_days"] = spec.horizon_days;
  if (gbt) {
    const GbtParams& g = spec.gbt;
    m["parameters"] = {{"trees", g.trees}, {"max_depth", g.max_depth}, {"eta", g.eta}, {"min_child_weight", g.min_child_weight},
                       {"subsample", g.subsample}, {"colsample", g.colsample}, {"lambda", g.lambda}, {"seed", g.seed},
                       {"threads", g.threads}};
    m["booster"] = "booster.json";
  } else {
    m["lambda"] = spec.lambda;
  }
  m["definition"] = spec.definition;
  m["definition_sha256"] = spec.definition_sha256;
  m["trained_at_index"] = train.index_date;
  m["top_percent"] = spec.top_percent;
  Json feats = Json::array();
  if (gbt) {
    for (size_t j = 0; j < train.features.size(); ++j)
      feats.push_back({{"name", train.features[j]}, {"gain_share", Round(trees.gain_share[j])}});
  } else {
    // p = 1 / (1 + exp(-(intercept + sum coefficient_j (x_j - mean_j) / sd_j)))
    m["intercept"] = fit.intercept;
    for (size_t j = 0; j < train.features.size(); ++j)
      feats.push_back({{"name", train.features[j]}, {"mean", mean[j]}, {"sd", sd[j]}, {"coefficient", fit.coefficients[j]}});
  }
  m["features"] = feats;

  ARK_ASSIGN_OR_RETURN(Json perf_train, Performance(p_train, train.y, train, spec));
  ARK_ASSIGN_OR_RETURN(Json perf_valid, Performance(p_valid, validate.y, validate, spec));
  out.validation_auroc = perf_valid["auroc"]["estimate"].get<double>();
  if (!remedy_card.is_null()) {
    remedy_card["after"] = RemedyFigures(perf_valid, spec.remedy_group);
    const Json &b = remedy_card["before"]["fnr_gap"], &a = remedy_card["after"]["fnr_gap"];
    if (!b.is_null() && !a.is_null())
      remedy_card["fnr_gap_reduced"] = std::abs(a["difference"].get<double>()) < std::abs(b["difference"].get<double>());
    remedy_card["note"] = "measured on the validation rows; the performance above is the remedied model's";
  }

  Json& c = out.card;
  c["model"] = spec.name;
  c["intended_use"] = spec.intended_use;
  c["purpose"] = spec.purpose;
  c["outcome"] = spec.outcome + ": at least one emergency admission in the " + std::to_string(spec.horizon_days) +
                 " days from the index date";
  c["data"] = {{"definition", spec.definition}, {"definition_sha256", spec.definition_sha256},
               {"training", {{"index_date", train.index_date}, {"people", train.x.rows}, {"dropped_missing", train.dropped}}},
               {"validation", {{"index_date", validate.index_date}, {"people", validate.x.rows}, {"dropped_missing", validate.dropped}}}};
  Json fl = Json::array();
  for (size_t j = 0; j < train.features.size(); ++j) {
    if (gbt) fl.push_back({{"name", train.features[j]}, {"gain_share", Round(trees.gain_share[j])}});
    else fl.push_back({{"name", train.features[j]}, {"odds_ratio_per_sd", Round(std::exp(fit.coefficients[j]))}});
  }
  c["features"] = fl;
  c["learner"] = m["learner"];
  if (gbt) c["parameters"] = m["parameters"];
  else c["lambda"] = spec.lambda;
  c["performance"] = {{"temporal_validation", perf_valid}, {"training_apparent", perf_train}};
  if (!remedy_card.is_null()) c["remedy"] = remedy_card;
  if (gbt) {
    comparison["gbt"] = {{"auroc", perf_valid["auroc"]}, {"calibration_slope", perf_valid["calibration"]["slope"]},
                         {"seconds_fit", Round(out.seconds_fit, 3)}};
    comparison["note"] = "both fitted on the same training rows and validated on the same later rows";
    c["comparison"] = comparison;
  }
  c["limitations"] = Json::array({
      "Temporal validation on one later index date in the same region; not validated elsewhere.",
      "Features are what the linked record shows before the index; conditions never recorded are absent.",
      gbt ? "Boosted trees: interactions up to the tree depth are modelled; effects are not summarised by one coefficient "
            "(the features' share of the split gain is shown instead)."
          : "Logistic model: effects are additive on the log-odds scale; interactions are not modelled.",
      "Subgroups with fewer than " + std::to_string(spec.min_cell) + " people with or without the outcome are suppressed."});
  return out;
}

namespace {
std::string Esc(const std::string& s) {
  std::string o;
  for (char ch : s) {
    if (ch == '<') o += "&lt;";
    else if (ch == '>') o += "&gt;";
    else if (ch == '&') o += "&amp;";
    else if (ch == '"') o += "&quot;";
    else o += ch;
  }
  return o;
}
std::string Str(const Json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); }
std::string Pct(const Json& j) {
  if (!j.is_number()) return "";
  char b[32];
  std::snprintf(b, sizeof b, "%.1f%%", 100 * j.get<double>());
  return b;
}
}  // namespace

std::string ModelCardHtml(const Json& card) {
  std::string h = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Model card: " + Esc(Str(card["model"])) +
                  "</title><style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
                  "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:right}"
                  "th:first-child,td:first-child{text-align:left}</style></head><body>";
  h += "<h1>Model card: " + Esc(Str(card["model"])) + "</h1>";
  h += "<h2>Intended use</h2><p>" + Esc(Str(card["intended_use"])) + " (purpose: " + Esc(Str(card["purpose"])) + ")</p>";
  h += "<p>Outcome: " + Esc(Str(card["outcome"])) + "</p>";
  const Json& d = card["data"];
  h += "<h2>Data</h2><p>Definition " + Esc(Str(d["definition"])) + ". Trained on " + Str(d["training"]["people"]) +
       " people at " + Esc(Str(d["training"]["index_date"])) + "; validated on " + Str(d["validation"]["people"]) +
       " people at " + Esc(Str(d["validation"]["index_date"])) + ".</p>";
  const bool gain = !card["features"].empty() && card["features"][0].contains("gain_share");
  h += "<h2>Features</h2><p>Learner: " + Esc(Str(card["learner"])) + "</p><table><tr><th>feature</th><th>" +
       (gain ? "share of split gain" : "odds ratio per SD") + "</th></tr>";
  for (const Json& f : card["features"])
    h += "<tr><td>" + Esc(Str(f["name"])) + "</td><td>" + (gain ? Pct(f["gain_share"]) : Str(f["odds_ratio_per_sd"])) + "</td></tr>";
  h += "</table>";
  if (card.contains("comparison")) {
    const Json& cmp = card["comparison"];
    h += "<h2>Compared with logistic regression</h2><table><tr><th>learner</th><th>AUROC (95% CI)</th><th>calibration slope</th>"
         "<th>fit (s)</th></tr>";
    for (const char* k : {"gbt", "logistic"}) {
      const Json& r = cmp[k];
      h += std::string("<tr><td>") + k + "</td><td>" + Str(r["auroc"]["estimate"]) + " (" + Str(r["auroc"]["ci95"][0]) + "&ndash;" +
           Str(r["auroc"]["ci95"][1]) + ")</td><td>" + Str(r["calibration_slope"]) + "</td><td>" + Str(r["seconds_fit"]) + "</td></tr>";
    }
    h += "</table><p>" + Esc(Str(cmp["note"])) + "</p>";
  }
  const Json& v = card["performance"]["temporal_validation"];
  h += "<h2>Performance (temporal validation)</h2><table>";
  h += "<tr><td>AUROC (95% CI, DeLong)</td><td>" + Str(v["auroc"]["estimate"]) + " (" + Str(v["auroc"]["ci95"][0]) + "&ndash;" +
       Str(v["auroc"]["ci95"][1]) + ")</td></tr>";
  h += "<tr><td>AUPRC</td><td>" + Str(v["auprc"]) + "</td></tr><tr><td>Brier score</td><td>" + Str(v["brier"]) + "</td></tr>";
  const Json& cal = v["calibration"];
  h += "<tr><td>Mean predicted / observed</td><td>" + Pct(cal["mean_predicted"]) + " / " + Pct(cal["observed_rate"]) + "</td></tr>";
  h += "<tr><td>Calibration intercept / slope</td><td>" + Str(cal["intercept"]) + " / " + Str(cal["slope"]) + "</td></tr>";
  h += "<tr><td>Top " + Str(v["threshold"]["top_percent"]) + "%: false-positive / false-negative rate</td><td>" +
       Pct(v["threshold"]["false_positive_rate"]) + " / " + Pct(v["threshold"]["false_negative_rate"]) + "</td></tr></table>";
  h += "<h2>Calibration by risk decile</h2><table><tr><th>decile</th><th>people</th><th>mean predicted</th><th>observed</th></tr>";
  int k = 1;
  for (const Json& b : v["calibration_by_decile"])
    h += "<tr><td>" + std::to_string(k++) + "</td><td>" + Str(b["people"]) + "</td><td>" + Pct(b["mean_predicted"]) + "</td><td>" +
         Pct(b["observed_rate"]) + "</td></tr>";
  h += "</table><h2>Fairness</h2>";
  for (const auto& [var, rows] : v["fairness"].items()) {
    h += "<h3>" + Esc(var) + "</h3><table><tr><th>group</th><th>people</th><th>mean predicted</th><th>observed</th>"
         "<th>false-positive rate</th><th>false-negative rate</th></tr>";
    for (const Json& r : rows) {
      if (r.contains("suppressed")) {
        h += "<tr><td>" + Esc(Str(r["group"])) + "</td><td colspan=5>suppressed</td></tr>";
        continue;
      }
      h += "<tr><td>" + Esc(Str(r["group"])) + "</td><td>" + Str(r["people"]) + "</td><td>" + Pct(r["mean_predicted"]) + "</td><td>" +
           Pct(r["observed_rate"]) + "</td><td>" + Pct(r["false_positive_rate"]) + "</td><td>" + Pct(r["false_negative_rate"]) +
           "</td></tr>";
    }
    h += "</table>";
  }
  if (card.contains("remedy")) {
    const Json& r = card["remedy"];
    const Json &b = r["before"], &a = r["after"];
    auto gap = [&](const Json& f) {
      return f["fnr_gap"].is_null() ? std::string("suppressed")
                                    : Pct(f["fnr_gap"]["difference"]) + " (" + Esc(Str(f["fnr_gap"]["to"])) + " minus " +
                                          Esc(Str(f["fnr_gap"]["from"])) + ")";
    };
    h += "<h2>Remedy: " + Esc(Str(r["type"])) + "</h2><p>Risks recalibrated within each group of " + Esc(Str(r["group_variable"])) +
         " (intercept and slope on the log-odds, fitted on the " + Esc(Str(r["fitted_on"])) + "); " + Esc(Str(r["note"])) +
         ".</p><table><tr><th></th><th>before</th><th>after</th></tr>";
    h += "<tr><td>false-negative-rate gap at the top " + Str(v["threshold"]["top_percent"]) + "%</td><td>" + gap(b) + "</td><td>" +
         gap(a) + "</td></tr>";
    h += "<tr><td>false-negative rate, overall</td><td>" + Pct(b["false_negative_rate"]) + "</td><td>" + Pct(a["false_negative_rate"]) + "</td></tr>";
    h += "<tr><td>AUROC</td><td>" + Str(b["auroc"]) + "</td><td>" + Str(a["auroc"]) + "</td></tr>";
    h += "<tr><td>Brier score</td><td>" + Str(b["brier"]) + "</td><td>" + Str(a["brier"]) + "</td></tr>";
    h += "<tr><td>calibration in the large</td><td>" + Pct(b["calibration"]["in_the_large_difference"]) + "</td><td>" +
         Pct(a["calibration"]["in_the_large_difference"]) + "</td></tr>";
    h += "<tr><td>calibration intercept / slope</td><td>" + Str(b["calibration"]["intercept"]) + " / " + Str(b["calibration"]["slope"]) +
         "</td><td>" + Str(a["calibration"]["intercept"]) + " / " + Str(a["calibration"]["slope"]) + "</td></tr>";
    for (size_t k = 0; k < b["by_group"].size() && k < a["by_group"].size(); ++k)
      h += "<tr><td>false-negative rate, " + Esc(Str(b["by_group"][k]["group"])) + "</td><td>" + Pct(b["by_group"][k]["false_negative_rate"]) +
           "</td><td>" + Pct(a["by_group"][k]["false_negative_rate"]) + "</td></tr>";
    h += "</table>";
  }
  h += "<h2>Limitations</h2><ul>";
  for (const Json& l : card["limitations"]) h += "<li>" + Esc(Str(l)) + "</li>";
  return h + "</ul></body></html>\n";
}

}  // namespace ark::stats
