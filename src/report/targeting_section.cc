#include "report/targeting_section.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "disclosure/opensafely.h"
#include "report/svg.h"

namespace ark {
namespace {

using OJson = nlohmann::ordered_json;
using Opt = std::optional<int64_t>;

Opt Pub(int64_t n) {
  auto p = sdc::PublishCount(n < 0 ? 0 : n);
  return p.ok() ? *p : std::nullopt;
}
std::string ShowN(const Opt& v) { return v ? svg::Grouped(static_cast<double>(*v), 0) : "[REDACTED]"; }
std::string ShowPct(const std::optional<double>& v, int d = 1) { return v ? svg::Grouped(*v, d) + "%" : "[REDACTED]"; }
OJson J(const Opt& v) { return v ? OJson(*v) : OJson("[REDACTED]"); }
OJson J(const std::optional<double>& v) { return v ? OJson(*v) : OJson("[REDACTED]"); }
double Num(const OJson& j, const char* k, double d = 0) { return j.contains(k) && j[k].is_number() ? j[k].get<double>() : d; }
int64_t Int(const OJson& j, const char* k) { return j.contains(k) && j[k].is_number() ? j[k].get<int64_t>() : 0; }
std::string F(double v, int d) { return fmt::format("{:.{}f}", v, d); }

// "2024-01-01" -> "1 January 2024" (anything else as given).
std::string Date(const std::string& iso) {
  static const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                  "July",    "August",   "September", "October", "November", "December"};
  int y = 0, m = 0, d = 0;
  if (std::sscanf(iso.c_str(), "%d-%d-%d", &y, &m, &d) != 3 || m < 1 || m > 12) return iso;
  return fmt::format("{} {} {}", d, kMonths[m - 1], y);
}

// The learner in words.
std::string Learner(const OJson& card) {
  const std::string l = card.value("learner", std::string());
  if (l.rfind("logistic", 0) == 0) return "a logistic regression";
  if (l.rfind("gradient-boosted", 0) == 0) return "gradient-boosted trees";
  return l.empty() ? "a risk model" : l;
}

std::string Table(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows) {
  return svg::HtmlTable(head, rows);
}

// A group's published counts and the rates made from them.
struct Published {
  std::string group;
  bool suppressed = false;
  Opt people, events, controls, missed, wrongly_flagged;
  double mean_predicted = 0;                    // percent
  std::optional<double> observed, fpr, fnr;     // percent, from rounded counts
  std::optional<double> citl;                   // points: mean predicted - observed
};

// From a card's fairness row (or the whole population: `events` and the rates at the threshold).
Published Publish(const OJson& r) {
  Published p;
  p.group = r.value("group", std::string());
  if (r.contains("suppressed")) {
    p.suppressed = true;
    return p;
  }
  const int64_t n = Int(r, "people"), e = Int(r, "events");
  // Older cards give rates only: the counts are the rates times their denominators.
  const int64_t fn = r.contains("false_negatives") ? Int(r, "false_negatives") : std::llround(Num(r, "false_negative_rate") * e);
  const int64_t fp = r.contains("false_positives") ? Int(r, "false_positives") : std::llround(Num(r, "false_positive_rate") * (n - e));
  p.people = Pub(n), p.events = Pub(e), p.controls = Pub(n - e), p.missed = Pub(fn), p.wrongly_flagged = Pub(fp);
  p.mean_predicted = 100 * Num(r, "mean_predicted");
  p.observed = sdc::PublishRate(p.events, p.people, 100);
  p.fnr = sdc::PublishRate(p.missed, p.events, 100);
  p.fpr = sdc::PublishRate(p.wrongly_flagged, p.controls, 100);
  if (p.observed) p.citl = p.mean_predicted - *p.observed;
  return p;
}

OJson PublishedJson(const Published& p) {
  if (p.suppressed) return {{"group", p.group}, {"suppressed", true}};
  return {{"group", p.group}, {"people", J(p.people)}, {"admitted", J(p.events)}, {"mean_predicted_percent", p.mean_predicted},
          {"observed_percent", J(p.observed)}, {"in_the_large_points", J(p.citl)}, {"false_positive_rate_percent", J(p.fpr)},
          {"false_negative_rate_percent", J(p.fnr)}};
}

// The headline: discrimination against the oracle, calibration, Brier.
std::string Headline(const TargetingInputs& in, const OJson& v, OJson* out) {
  const OJson& auc = v["auroc"];
  const double a = Num(auc, "estimate"), lo = auc["ci95"][0].get<double>(), hi = auc["ci95"][1].get<double>();
  const OJson& cal = v["calibration"];
  const Opt people = Pub(Int(v, "people")), events = Pub(Int(v, "events"));
  const auto observed = sdc::PublishRate(events, people, 100);
  const double predicted = 100 * Num(cal, "mean_predicted"), slope = Num(cal, "slope"), intercept = Num(cal, "intercept");
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"How well it ranks people (AUROC, 95% interval by DeLong's method)", F(a, 3) + " (" + F(lo, 3) + "–" + F(hi, 3) + ")"});
  std::string oracle_words;
  if (in.oracle) {
    rows.push_back({"The best possible on this region: its true risks (the oracle)",
                    F(in.oracle->auc, 3) + " (" + F(in.oracle->ci_low, 3) + "–" + F(in.oracle->ci_high, 3) + ")"});
    oracle_words = fmt::format(
        " Because this region is synthetic, each person's true risk is known, and ranking people by it gives {} in 100 — "
        "the best any model could do here; this model is {} below it.",
        std::lround(100 * in.oracle->auc), F(std::max(0.0, in.oracle->auc - a), 3));
  }
  rows.push_back({"Predicted share admitted / share admitted", F(predicted, 1) + "% / " + ShowPct(observed)});
  rows.push_back({"Calibration intercept / slope (perfect: 0 / 1)", F(intercept, 2) + " / " + F(slope, 2)});
  rows.push_back({"Brier score (mean squared error of the risks; lower is better)", F(Num(v, "brier"), 4)});
  std::string h = fmt::format(
      "<p><b>How well it ranks people.</b> Pick at random one person who was admitted and one who was not: the model "
      "gives the admitted person the higher risk {} times in 100 (the AUROC, {}; 50 would be a coin toss, 100 "
      "perfect).{}</p>",
      std::lround(100 * a), F(a, 3), oracle_words);
  const std::string spread = slope < 0.95 ? "the highest risks are a little too high and the lowest a little too low"
                             : slope > 1.05 ? "the risks are a little too cautious: the highest could be higher"
                                            : "the risks spread as much as the outcomes do";
  h += fmt::format(
      "<p><b>Whether its risks are right.</b> It predicted that {}% of people would be admitted in the year; {} were. "
      "The calibration slope is {} (1 is perfect; here {}) and the intercept {} (0 is perfect). The Brier score, "
      "{}, is the average squared gap between a person's risk and what happened to them.</p>",
      F(predicted, 1), ShowPct(observed), F(slope, 2), spread, F(intercept, 2), F(Num(v, "brier"), 4));
  (*out)["auroc"] = {{"estimate", a}, {"ci95", {lo, hi}}};
  if (in.oracle)
    (*out)["oracle_auroc"] = {{"estimate", in.oracle->auc}, {"ci95", {in.oracle->ci_low, in.oracle->ci_high}},
                              {"people", J(Pub(in.oracle_people))}, {"reference_date", in.oracle_date}};
  (*out)["calibration"] = {{"mean_predicted_percent", predicted}, {"observed_percent", J(observed)},
                           {"intercept", intercept}, {"slope", slope}, {"brier", Num(v, "brier")}};
  return h + Table({"figure", "value"}, rows);
}

// Calibration by risk decile, observed shares from rounded counts.
std::string Deciles(const OJson& v, OJson* out) {
  std::vector<svg::CalibrationDot> dots;
  OJson j = OJson::array();
  int k = 0;
  for (const OJson& b : v["calibration_by_decile"]) {
    ++k;
    const int64_t n = Int(b, "people");
    const int64_t e = b.contains("events") ? Int(b, "events") : std::llround(Num(b, "observed_rate") * static_cast<double>(n));
    const auto obs = sdc::PublishRate(Pub(e), Pub(n), 100);
    dots.push_back({fmt::format("risk decile {}", k), 100 * Num(b, "mean_predicted"), obs});
    j.push_back({{"decile", k}, {"people", J(Pub(n))}, {"admitted", J(Pub(e))}, {"mean_predicted_percent", 100 * Num(b, "mean_predicted")},
                 {"observed_percent", J(obs)}});
  }
  (*out)["calibration_by_decile"] = j;
  if (dots.empty()) return "";
  std::string h = "<p>The chart puts people into ten equal groups by their predicted risk, lowest to highest, and "
                  "plots each group's average predicted risk against the share of them actually admitted. Where the "
                  "dots sit on the dashed line, the risks mean what they say.";
  const auto& top = dots.back();
  if (top.observed)
    h += fmt::format(" In the highest-risk tenth the model predicted {}% and {}% were admitted.", F(top.predicted, 1), F(*top.observed, 1));
  h += "</p><div class=row>" +
       svg::CalibrationChart(dots, {.title = "Predicted against observed, by risk decile", .y_label = "admitted (%)",
                                    .width = 560, .height = 340, .x_label = "mean predicted risk (%)"}) +
       "</div>";
  return h;
}

// Fairness by deprivation quintile: calibration in the large and error rates at the threshold.
std::string Fairness(const TargetingInputs& in, const OJson& v, OJson* out) {
  const double top = Num(v["threshold"], "top_percent", 5);
  if (!v.contains("fairness") || !v["fairness"].contains(in.quintile_variable))
    return "<p>The model card gives no figures by deprivation quintile.</p>";
  std::vector<Published> groups;
  for (const OJson& r : v["fairness"][in.quintile_variable]) groups.push_back(Publish(r));
  std::vector<std::string> cats;
  svg::Series pred{"predicted", {}, ""}, obs{"observed", {}, ""}, fpr{"wrongly flagged (false-positive rate)", {}, ""},
      fnr{"missed (false-negative rate)", {}, ""};
  std::vector<std::vector<std::string>> rows;
  OJson j = OJson::array();
  for (const Published& g : groups) {
    cats.push_back(g.group);
    j.push_back(PublishedJson(g));
    if (g.suppressed) {
      for (svg::Series* s : {&pred, &obs, &fpr, &fnr}) s->values.push_back(std::nullopt);
      rows.push_back({g.group, "suppressed (too few people with or without an admission)", "", "", "", "", ""});
      continue;
    }
    pred.values.push_back(g.mean_predicted), obs.values.push_back(g.observed);
    fpr.values.push_back(g.fpr), fnr.values.push_back(g.fnr);
    rows.push_back({g.group, ShowN(g.people), ShowN(g.events), F(g.mean_predicted, 1) + "%", ShowPct(g.observed),
                    g.citl ? F(*g.citl, 2) : "[REDACTED]", ShowPct(g.fpr) + " / " + ShowPct(g.fnr)});
  }
  (*out)["by_deprivation_quintile"] = j;
  std::string h = fmt::format(
      "<h3>Does it serve every part of the region alike?</h3><p>A service using this model would reach the {0}% of "
      "people with the highest risks. The charts split people by the deprivation of where they live, in fifths "
      "(quintile 1 the most deprived). On the left, whether the risks are right in each fifth (predicted share "
      "admitted against the share that was: calibration in the large). On the right, for each fifth, the share "
      "of people who were not admitted but were flagged (wrongly flagged) and the share of people who were "
      "admitted but not flagged (missed), with the one threshold for everyone.</p>",
      svg::Grouped(top, 0));
  h += "<div class=row>" +
       svg::BarChart(cats, {pred, obs},
                     {.title = "Predicted and observed share admitted, by deprivation quintile", .y_label = "%",
                      .width = 500, .height = 300, .decimals = 1, .x_label = ""}) +
       svg::BarChart(cats, {fpr, fnr},
                     {.title = fmt::format("Errors at the top-{}% threshold, by deprivation quintile", svg::Grouped(top, 0)),
                      .y_label = "%", .width = 560, .height = 300, .decimals = 1, .x_label = ""}) +
       "</div>";
  // The gap, in words, between the most and least deprived fifths.
  const Published* most = nullptr;
  const Published* least = nullptr;
  for (const Published& g : groups) {
    if (g.group == "unknown") continue;
    if (!most) most = &g;  // labels sort most deprived first
    least = &g;
  }
  if (most && least && most != least && most->fnr && least->fnr) {
    const double gap = *least->fnr - *most->fnr;
    h += fmt::format(
        "<p>Of the people in the most deprived fifth who were admitted, the list had missed {}%; in the least deprived "
        "fifth, {}%: a gap of {} percentage points. ",
        F(*most->fnr, 1), F(*least->fnr, 1), F(gap, 1));
    h += gap > 0 ? "A short list misses most people who will be admitted in every fifth, since many admissions happen "
                   "to people whose risk was only moderate; it misses more of them in the least deprived areas because "
                   "fewer people there reach the highest risks. That is not miscalibration: the risks can be right in "
                   "every fifth and the list still reach a larger share of the admissions in the most deprived.</p>"
                 : "Here the list misses more of the admitted in the most deprived fifth.</p>";
    (*out)["fnr_gap_points"] = gap;
  }
  h += "<details><summary>Table (counts rounded to 5, rates from the rounded counts)</summary>" +
       Table({"deprivation quintile", "people", "admitted", "predicted", "observed", "predicted − observed (points)",
              "wrongly flagged / missed"},
             rows) +
       "</details>";
  return h;
}

// The remedy's before and after, rates from rounded counts.
// `separate`: the remedied model is a second copy, not the one shown above.
std::string Remedy(const OJson& card, bool separate, OJson* out) {
  if (!card.contains("remedy")) return "";
  const OJson& r = card["remedy"];
  auto gap = [](const OJson& f) -> std::optional<double> {
    const OJson& by = f["by_group"];
    if (by.size() < 2) return std::nullopt;
    auto fnr = [](const OJson& g) {
      if (!g["events"].is_number() || !g["false_negatives"].is_number()) return std::optional<double>();
      return sdc::PublishRate(Pub(g["false_negatives"].get<int64_t>()), Pub(g["events"].get<int64_t>()), 100);
    };
    const auto a = fnr(by.front()), b = fnr(by.back());
    if (!a || !b) return std::nullopt;
    return *b - *a;
  };
  const auto before = gap(r["before"]), after = gap(r["after"]);
  const double s0 = Num(r["before"]["calibration"], "slope"), s1 = Num(r["after"]["calibration"], "slope");
  const double c0 = 100 * Num(r["before"]["calibration"], "in_the_large_difference"),
               c1 = 100 * Num(r["after"]["calibration"], "in_the_large_difference");
  std::string h = std::string("<h3>A remedy for the gap: recalibration within each deprivation quintile</h3><p>") +
                  (separate ? "A second copy of the model was trained with " : "The model was trained with ") +
                  "<code>--remedy recalibrate-by-deprivation</code>: within each fifth, its risks were stretched and "
                  "shifted (an intercept and a slope on the log-odds, fitted on the training year) so that they match "
                  "that fifth's own outcomes. " +
                  (separate ? "The figures above are the model without it. " : "The figures above are the remedied model's. ") +
                  "Before and after, on the later year:</p>";
  std::vector<std::vector<std::string>> rows = {
      {"missed: least minus most deprived (points)", before ? F(*before, 1) : "[REDACTED]", after ? F(*after, 1) : "[REDACTED]"},
      {"calibration slope (1 is perfect)", F(s0, 3), F(s1, 3)},
      {"predicted minus observed, overall (points)", F(c0, 2), F(c1, 2)},
      {"AUROC", F(Num(r["before"], "auroc"), 3), F(Num(r["after"], "auroc"), 3)}};
  h += Table({"", "before", "after"}, rows);
  if (before && after) {
    const bool reduced = std::abs(*after) < std::abs(*before) - 0.05;
    h += reduced ? fmt::format("<p>The remedy narrowed the gap by {} points.</p>", F(std::abs(*before) - std::abs(*after), 1))
                 : "<p>The remedy did not narrow the gap. Recalibration makes the risks right within each fifth; "
                   "where they were nearly right already there is little to correct, and a gap that comes from how many "
                   "people in each fifth are at high risk cannot be closed by making the risks more accurate. Closing it would mean a different rule "
                   "for the list (for example the top 5% within each fifth), which reaches fewer of the people most "
                   "likely to be admitted overall: a choice for the service, not a correction.</p>";
  }
  (*out)["remedy"] = {{"type", r.value("type", std::string())}, {"fnr_gap_points_before", J(before)}, {"fnr_gap_points_after", J(after)},
                      {"calibration_slope_before", s0}, {"calibration_slope_after", s1}};
  return h;
}

}  // namespace

Result<std::string> TargetingSectionHtml(const TargetingInputs& in, OJson* out) {
  const OJson& c = in.card;
  if (!c.contains("performance") || !c["performance"].contains("temporal_validation") ||
      !c["performance"]["temporal_validation"].contains("auroc"))
    return Status::InvalidArgument("model card: no performance.temporal_validation");
  const OJson& v = c["performance"]["temporal_validation"];
  OJson j = OJson::object();
  const OJson& d = c["data"];
  const double top = Num(v["threshold"], "top_percent", 5);
  std::string h = "<section><h2>Targeting: who is most likely to be admitted as an emergency</h2>";
  h += fmt::format(
      "<p>Community teams, matrons and care coordinators can reach only so many people. A risk model gives each "
      "person a chance of at least one emergency admission in the next year, from what their linked record shows "
      "(age, long-term conditions, frailty, recent admissions and A&amp;E visits, social care contact, deprivation), "
      "so that the {}% most at risk can be reached first. This one, {}, was trained in the approved planning project "
      "<code>{}</code> on {} people as they were on {}, and then checked on what happened to {} people in the year "
      "from {}, a year it never saw. Only the model and its card left the project: no person-level data.</p>",
      svg::Grouped(top, 0), svg::Escape(Learner(c)), svg::Escape(in.project), ShowN(Pub(Int(d["training"], "people"))),
      svg::Escape(Date(d["training"].value("index_date", std::string()))), ShowN(Pub(Int(d["validation"], "people"))),
      svg::Escape(Date(d["validation"].value("index_date", std::string()))));
  h += Headline(in, v, &j);
  h += Deciles(v, &j);
  h += Fairness(in, v, &j);
  h += in.remedy_card ? Remedy(*in.remedy_card, true, &j) : Remedy(c, false, &j);
  h += "<p>All counts in this section are rounded to 5 (7 or fewer are not shown) and every share is worked out "
       "from the rounded counts. The full model card (features, odds ratios, results by sex and age band, "
       "limitations) is in the project's output folder.</p></section>";
  j["project"] = in.project;
  (*out)["targeting"] = j;
  return h;
}

}  // namespace ark
