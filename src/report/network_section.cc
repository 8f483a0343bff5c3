#include "report/network_section.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "disclosure/opensafely.h"
#include "report/svg.h"
#include "stats/eb.h"
#include "stats/funnel.h"

namespace ark {
namespace {

using OJson = nlohmann::ordered_json;
using Opt = std::optional<int64_t>;

std::string ShowN(const Opt& v) { return v ? svg::Grouped(static_cast<double>(*v), 0) : "[REDACTED]"; }

std::string Table(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows) {
  std::string t = "<table><thead><tr>";
  for (const auto& h : head) t += "<th>" + h + "</th>";
  t += "</tr></thead><tbody>";
  for (const auto& r : rows) {
    t += "<tr>";
    for (size_t i = 0; i < r.size(); ++i) t += (i ? "<td class=num>" : "<td>") + r[i] + "</td>";
    t += "</tr>";
  }
  return t + "</tbody></table>";
}

std::string Intro(const NetworkFigures& f) {
  std::string h = fmt::format(
      "<p>Four city regions each keep their records in their own Ark, with its own keys and its own committee. Each "
      "committee approved the federated project for the same analyst, and the regions answered her over mutually "
      "authenticated TLS with <b>aggregates only</b>: released measure tables, sums for the regression (XᵀWX, XᵀWz and "
      "a deviance, one round trip per iteration), each region's own estimates, and rounded counts per practice. No "
      "operation of the network returns a row. Each region checked its own disclosure rules before anything left "
      "(OpenSAFELY's for tables; DataSHIELD's model rules and a differencing guard for models). All {} exchanges are on "
      "the analyst's ledger and on the answering region's ledger, with the hashes of request and answer; every ledger "
      "{}.</p>",
      f.ledger_exchanges, f.ledgers_verified ? "verifies" : "<b>did not verify</b>");
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : f.regions)
    rows.push_back({svg::Escape(r.site), svg::Escape(r.profile), svg::Escape(r.population_band), fmt::format("{:.2f} s", r.seconds)});
  return h + Table({"region (site)", "synthetic profile", "people in the measure's population (band)", "answered in"}, rows);
}

std::string MeasurePart(const NetworkFigures& f, OJson* out) {
  if (f.intervals.empty() || f.numerator.size() != f.regions.size() + 1) return "<p>No federated measure.</p>";
  std::string h = "<h3>Pooled and per-region measures</h3>";
  std::vector<svg::Series> series;
  OJson mj = OJson::array();
  for (size_t s = 0; s < f.numerator.size(); ++s) {
    const bool pooled = s == f.regions.size();
    svg::Series line{pooled ? "network (pooled)" : f.regions[s].site, {}, pooled ? "#222" : ""};
    for (size_t i = 0; i < f.intervals.size(); ++i) {
      line.values.push_back(sdc::PublishRate(f.numerator[s][i], f.denominator[s][i], 100));
    }
    series.push_back(line);
  }
  h += fmt::format(
      "<p>The study definition <code>{}</code> ran at every region under its own rules; each region's table is what it "
      "released (counts of 7 or fewer redacted, others rounded to 5), and the network's table is their sum, row by row "
      "(a count redacted in any region stays redacted in the pool). Rates are computed from the rounded counts.</p>",
      svg::Escape(f.measure));
  h += "<div class=row>" +
       svg::LineChart(f.intervals, series,
                      {.title = "Emergency admission in the quarter, % of registered people", .y_label = "%", .width = 760,
                       .height = 320, .decimals = 1}) +
       "</div>";
  const size_t last = f.intervals.size() - 1;
  std::vector<std::vector<std::string>> rows;
  for (size_t s = 0; s < f.numerator.size(); ++s) {
    const bool pooled = s == f.regions.size();
    const auto r = sdc::PublishRate(f.numerator[s][last], f.denominator[s][last], 100);
    rows.push_back({pooled ? "<b>network (pooled)</b>" : svg::Escape(f.regions[s].site), ShowN(f.numerator[s][last]),
                    ShowN(f.denominator[s][last]), r ? fmt::format("{:.2f}%", *r) : "[REDACTED]"});
    mj.push_back({{"site", pooled ? "pooled" : f.regions[s].site}, {"interval", f.intervals[last]},
                  {"numerator", f.numerator[s][last] ? OJson(*f.numerator[s][last]) : OJson("[REDACTED]")},
                  {"denominator", f.denominator[s][last] ? OJson(*f.denominator[s][last]) : OJson("[REDACTED]")}});
  }
  h += "<p>The latest quarter, " + svg::Escape(f.intervals[last]) + ":</p>" +
       Table({"", "admitted (rounded)", "registered (rounded)", "rate"}, rows);
  (*out)["measure"] = {{"name", f.measure}, {"latest", mj}};
  return h;
}

std::string RegressionPart(const NetworkFigures& f, OJson* out) {
  if (f.terms.empty() || f.fed_beta.size() != f.terms.size() || f.pooled_beta.size() != f.terms.size()) return "";
  std::string h = "<h3>A federated logistic regression, and the same fit pooled</h3>";
  h += fmt::format(
      "<p>Emergency admission in the year before 1 January 2025 (yes/no) on age (years), sex and deprivation (IMD decile, "
      "1 most deprived), fitted across the four regions by Fisher scoring: {} iterations, {} round trips (one per "
      "iteration plus the start), {} exchanges, {} bytes on the wire, {:.2f} s, over {} people. The <b>pooled</b> fit "
      "beside it was computed inside this demo from the four regions' rows in one process, <b>for comparison only</b>: "
      "in a real network nobody holds those rows together, which is the point. It took {:.2f} s.</p>",
      f.iterations, f.round_trips, f.exchanges, svg::Grouped(static_cast<double>(f.bytes), 0), f.fed_seconds,
      svg::Grouped(static_cast<double>(f.n), 0), f.pooled_seconds);
  std::vector<std::vector<std::string>> rows;
  double worst = 0;
  OJson tj = OJson::array();
  for (size_t j = 0; j < f.terms.size(); ++j) {
    worst = std::max(worst, std::abs(f.fed_beta[j] - f.pooled_beta[j]) / std::max(1.0, std::abs(f.pooled_beta[j])));
    rows.push_back({svg::Escape(f.terms[j]), fmt::format("{:.6f}", f.fed_beta[j]), fmt::format("{:.6f}", f.fed_se[j]),
                    fmt::format("{:.6f}", f.pooled_beta[j]), fmt::format("{:.6f}", f.pooled_se[j]),
                    j == 0 ? "" : fmt::format("{:.3f}", std::exp(f.fed_beta[j]))});
    tj.push_back({{"term", f.terms[j]}, {"federated", f.fed_beta[j]}, {"federated_se", f.fed_se[j]}, {"pooled", f.pooled_beta[j]},
                  {"pooled_se", f.pooled_se[j]}});
  }
  h += Table({"term", "federated estimate", "std. error", "pooled estimate", "std. error", "odds ratio"}, rows);
  h += fmt::format("<p>Largest relative difference between the federated and pooled coefficients: {:.1e}.</p>", worst);
  (*out)["regression"] = {{"terms", tj}, {"iterations", f.iterations}, {"round_trips", f.round_trips}, {"bytes", f.bytes},
                          {"seconds", f.fed_seconds}, {"pooled_seconds", f.pooled_seconds}, {"max_relative_difference", worst}};
  if (f.meta_dl && f.meta_reml && f.meta_estimate.size() == f.regions.size()) {
    const auto& d = *f.meta_dl;
    const auto& r = *f.meta_reml;
    h += fmt::format(
        "<p><b>Meta-analysis</b> of the same model's <code>{}</code> coefficient, each region fitting it on its own rows "
        "and returning its estimate and standard error: random effects, DerSimonian–Laird {:.4f} (HKSJ 95% CI {:.4f} to "
        "{:.4f}), REML {:.4f} (HKSJ 95% CI {:.4f} to {:.4f}); τ² (REML) {:.2g}, I² {:.0f}%. Per region: ",
        svg::Escape(f.meta_term), d.estimate, d.hksj.low, d.hksj.high, r.estimate, r.hksj.low, r.hksj.high, r.tau2, r.i2);
    for (size_t i = 0; i < f.regions.size(); ++i)
      h += fmt::format("{}{} {:.4f} (SE {:.4f})", i ? ", " : "", svg::Escape(f.regions[i].site), f.meta_estimate[i],
                       std::sqrt(f.meta_variance[i]));
    h += ".</p>";
    (*out)["meta"] = {{"term", f.meta_term}, {"dl", d.estimate}, {"reml", r.estimate}, {"tau2_reml", r.tau2}, {"i2", r.i2}};
  }
  return h;
}

std::string FunnelOf(const std::vector<NetworkUnit>& units, const std::string& title, int width, OJson* out) {
  const bool regions = !units.empty() && std::all_of(units.begin(), units.end(), [](const NetworkUnit& u) { return u.unit == u.site; });
  std::vector<stats::FunnelUnit> fu;
  for (const auto& u : units)
    if (u.expected > 0) fu.push_back({u.unit == u.site ? u.site : u.site + " " + u.unit, static_cast<double>(u.events), u.expected});
  auto fit = stats::Funnel(fu, {});
  if (!fit.ok()) return "<p>No funnel plot: " + svg::Escape(fit.status().ToString()) + "</p>";
  std::vector<svg::FunnelDot> dots;
  OJson pj = OJson::array();
  for (const auto& p : fit->points) {
    dots.push_back({p.name, p.expected, p.ratio, p.flag});
    pj.push_back({{"unit", p.name}, {"observed_rounded", p.observed}, {"expected", p.expected}, {"ratio", p.ratio}, {"flag", p.flag}});
  }
  *out = {{"tau2", fit->tau2}, {"phi", fit->phi}, {"points", pj}};
  return svg::FunnelChart(dots, fit->curve, {.title = title, .y_label = "observed / expected", .width = width, .height = 340,
                                             .x_label = "expected admissions", .unit_label = regions ? "region" : "practice"});
}

std::string FunnelPart(const NetworkFigures& f, OJson* out) {
  std::string h = "<h3>Funnel plots: regions and practices</h3>";
  h += fmt::format(
      "<p>Each region returned, per practice and per age band × sex stratum, its admissions and registered people, "
      "rounded; the analyst's Ark took the network's reference rate in each stratum from those counts and asked again "
      "with the rates, and each region returned each practice's expected count. A dot's ratio is its rounded observed "
      "count over its expected count; the limits are 95% (dashed) and 99.8% (solid), widened by an additive τ² when "
      "units differ by more than chance. {} practices with 7 or fewer admissions or people were withheld by their "
      "regions and are not shown.</p>",
      f.withheld);
  OJson rj, pj;
  h += "<div class=row>" + FunnelOf(f.region_totals, "Regions: observed / expected", 380, &rj) +
       FunnelOf(f.practices, "Practices across the network: observed / expected", 560, &pj) + "</div>";
  (*out)["funnel"] = {{"regions", rj}, {"practices", pj}, {"withheld", f.withheld}};
  return h;
}

std::string EbPart(const NetworkFigures& f, OJson* out) {
  std::string h = "<h3>Practice rates that borrow strength across the network</h3>";
  std::vector<double> n, x;
  for (const auto& u : f.practices) {
    n.push_back(static_cast<double>(u.events));
    x.push_back(static_cast<double>(u.people));
  }
  auto eb = stats::EmpiricalBayesRates(n, x);
  if (!eb.ok()) return h + "<p>No shrunk rates: " + svg::Escape(eb.status().ToString()) + "</p>";
  std::vector<size_t> order(f.practices.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return eb->estimate[a] < eb->estimate[b]; });
  std::vector<std::string> names;
  std::vector<std::optional<double>> raw;
  std::vector<double> shrunk;
  for (size_t i : order) {
    names.push_back(f.practices[i].site + " " + f.practices[i].unit);
    raw.push_back(1000 * eb->raw[i]);
    shrunk.push_back(1000 * eb->estimate[i]);
  }
  h += fmt::format(
      "<p>Emergency admissions per 1,000 registered people in each of the network's {} practices (the finest area a "
      "federated study definition names), shrunk towards the network's rate ({:.1f} per 1,000) by empirical Bayes "
      "(Poisson–gamma, Marshall's method of moments): a small practice's unstable rate borrows strength from all four "
      "regions. Raw and shrunk rates are both computed from the counts the regions released (rounded to 5).</p>",
      f.practices.size(), 1000 * eb->b);
  h += "<div class=row>" +
       svg::RankChart(names, raw, shrunk,
                      {.title = "Emergency admissions per 1,000 by practice, network-wide: raw and shrunk", .y_label = "per 1,000",
                       .width = 760, .height = 320, .x_label = "practices, ordered by shrunk rate"}) +
       "</div>";
  std::vector<std::vector<std::string>> rows;
  OJson top = OJson::array();
  for (size_t k = 0; k < std::min<size_t>(10, order.size()); ++k) {
    const size_t i = order[order.size() - 1 - k];
    const auto& u = f.practices[i];
    rows.push_back({std::to_string(k + 1), svg::Escape(u.site), svg::Escape(u.unit), svg::Grouped(static_cast<double>(u.people), 0),
                    svg::Grouped(static_cast<double>(u.events), 0), fmt::format("{:.1f}", 1000 * eb->raw[i]),
                    fmt::format("{:.1f}", 1000 * eb->estimate[i])});
    top.push_back({{"site", u.site}, {"practice", u.unit}, {"people", u.people}, {"admissions", u.events},
                   {"shrunk_per_1000", 1000 * eb->estimate[i]}});
  }
  h += "<p>The ten practices with the highest shrunk rates:</p>" +
       Table({"rank", "region", "practice", "registered (rounded)", "admitted (rounded)", "raw per 1,000", "shrunk per 1,000"}, rows);
  (*out)["eb"] = {{"practices", f.practices.size()}, {"network_per_1000", 1000 * eb->b}, {"top10", top}};
  return h;
}

}  // namespace

std::string NetworkSectionHtml(const NetworkFigures& f, OJson* out) {
  OJson j = OJson::object();
  std::string h = "<section><h2>Network: four regions that borrow strength</h2>";
  h += Intro(f);
  h += MeasurePart(f, &j);
  h += RegressionPart(f, &j);
  h += FunnelPart(f, &j);
  h += EbPart(f, &j);
  *out = std::move(j);
  return h + "</section>";
}

}  // namespace ark
