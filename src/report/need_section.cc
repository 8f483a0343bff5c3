#include "report/need_section.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <vector>

#include "disclosure/opensafely.h"
#include "report/svg.h"
#include "stats/eb.h"
#include "stats/funnel.h"

namespace ark {
namespace {

using OJson = nlohmann::ordered_json;
using Opt = std::optional<int64_t>;

Opt Pub(int64_t n) { return *sdc::PublishCount(n); }
std::string ShowN(const Opt& v) { return v ? svg::Grouped(static_cast<double>(*v), 0) : "[REDACTED]"; }
std::string Name(const std::vector<std::string>& dict, uint32_t id) {
  return id < dict.size() && !dict[id].empty() ? dict[id] : fmt::format("#{}", id);
}

std::string Table(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows) {
  std::string t = "<table><thead><tr>";
  for (auto& h : head) t += "<th>" + svg::Escape(h) + "</th>";
  t += "</tr></thead><tbody>";
  for (auto& r : rows) {
    t += "<tr>";
    for (auto& c : r) t += "<td>" + svg::Escape(c) + "</td>";
    t += "</tr>";
  }
  return t + "</tbody></table>";
}

// Practices: observed against expected from the region's age-band × sex rates.
std::string FunnelPart(const NeedCounts& c, const Dictionaries& dicts, int year, OJson* out) {
  std::vector<int> strata;  // strata with people somewhere (a stratum with none has no rate)
  for (int s = 0; s < kNeedStrata; ++s) {
    int64_t n = 0;
    for (auto& [id, cells] : c.practice) n += cells[s].people;
    if (n > 0) strata.push_back(s);
  }
  std::vector<uint32_t> ids;
  std::vector<std::vector<double>> events, people;
  for (auto& [id, cells] : c.practice) {
    std::vector<double> e, p;
    for (int s : strata) {
      e.push_back(static_cast<double>(cells[s].admissions));
      p.push_back(static_cast<double>(cells[s].people));
    }
    ids.push_back(id);
    events.push_back(std::move(e));
    people.push_back(std::move(p));
  }
  std::string h = "<h3>GP practices: a funnel plot</h3>";
  if (ids.size() < 2 || strata.empty()) return h + "<p>Fewer than two practices with registered people: no funnel plot.</p>";
  auto rates = stats::ReferenceRates(events, people);
  if (!rates.ok()) return h + "<p>No funnel plot: " + svg::Escape(rates.status().ToString()) + "</p>";
  auto expected = stats::ExpectedCounts(people, *rates);
  if (!expected.ok()) return h + "<p>No funnel plot: " + svg::Escape(expected.status().ToString()) + "</p>";
  std::vector<stats::FunnelUnit> units;
  int hidden = 0;
  for (size_t u = 0; u < ids.size(); ++u) {
    const int64_t o = static_cast<int64_t>(std::accumulate(events[u].begin(), events[u].end(), 0.0));
    const Opt pub = Pub(o);
    if (!pub || !((*expected)[u] > 0)) {
      ++hidden;
      continue;
    }
    units.push_back({Name(dicts.practices, ids[u]), static_cast<double>(*pub), (*expected)[u]});
  }
  h += fmt::format(
      "<p>Each dot is a GP practice: its emergency admissions in {0} among the people registered with it on 1 July "
      "{0}, divided by the number expected if its patients were admitted at the region's own rates for their age "
      "band and sex. A ratio of 1 is what the region as a whole would predict; 1.5 means half as many again. Small "
      "practices scatter widely by chance, so the lines narrow as the expected number grows: 19 in 20 practices "
      "should fall inside the dashed lines and 998 in 1,000 inside the solid ones if chance alone were at work.</p>",
      year);
  if (units.size() < 2) {
    return h + fmt::format("<p>Too few practices with more than 7 admissions to draw the plot ({} hidden).</p>", hidden);
  }
  auto fit = stats::Funnel(units);
  if (!fit.ok()) return h + "<p>No funnel plot: " + svg::Escape(fit.status().ToString()) + "</p>";
  const bool widened = fit->applied == stats::Overdispersion::kAdditive;
  h += widened ? "<p>Practices differ by more than chance: the people they serve differ in ways age and sex do not "
                 "capture. The limits allow for this with a fixed extra spread between practices, estimated from the "
                 "practices themselves (an additive allowance), so that a large practice is not flagged merely for "
                 "being large while small practices' limits stay nearly as chance alone would draw them.</p>"
               : "<p>Practices here vary no more than chance explains, so the limits are chance alone (an additive "
                 "allowance for extra spread between practices was estimated and is zero).</p>";
  h += "<p>To protect privacy, each ratio is computed from the practice's admissions rounded to the nearest 5, and a "
       "practice with 7 or fewer admissions is not plotted at all (neither a dot nor a count): " +
       (hidden == 0 ? std::string("here there are none.</p>")
                    : fmt::format("{} practice{} left out.</p>", hidden, hidden == 1 ? " is" : "s are"));
  std::vector<svg::FunnelDot> dots;
  std::vector<std::vector<std::string>> rows;
  OJson pj = OJson::array();
  for (auto& p : fit->points) {
    dots.push_back({p.name, p.expected, p.ratio, p.flag});
    pj.push_back({{"practice", p.name}, {"observed_rounded", p.observed}, {"expected", p.expected}, {"ratio", p.ratio},
                  {"flag", p.flag}});
    if (std::abs(p.flag) >= 2)
      rows.push_back({p.name, ShowN(static_cast<int64_t>(p.observed)), svg::Grouped(p.expected, 1), fmt::format("{:.2f}", p.ratio),
                      p.flag > 0 ? "higher than expected" : "lower than expected"});
  }
  h += "<div class=row>" +
       svg::FunnelChart(dots, fit->curve,
                        {.title = fmt::format("Emergency admissions by GP practice, {}: observed / expected", year),
                         .y_label = "observed / expected", .width = 760, .height = 380, .x_label = "expected admissions"}) +
       "</div>";
  h += rows.empty() ? "<p>No practice lies outside the 99.8% limits.</p>"
                    : "<p>Practices outside the 99.8% limits:</p>" +
                          Table({"practice", "admissions (rounded)", "expected", "ratio", ""}, rows);
  (*out)["practices"] = {{"year", year}, {"not_shown_7_or_fewer", hidden}, {"tau2", fit->tau2}, {"phi", fit->phi},
                         {"overdispersion", widened ? "additive" : "none"}, {"points", pj}};
  return h;
}

// Small areas: raw against empirical-Bayes shrunk rates.
std::string AreaPart(const NeedCounts& c, const Dictionaries& dicts, OJson* out) {
  std::vector<uint32_t> ids;
  std::vector<double> n, x;
  // Shrinkage works on the published counts only (rounded to 5; an area where either count is 7 or
  // fewer is left out), so a shrunk rate, given with the region's constants, reveals nothing finer
  // than the rounded counts.
  size_t left_out = 0;
  for (auto& [id, cell] : c.area) {
    if (cell.people <= 0) continue;
    const Opt p = Pub(cell.people), a = Pub(cell.admissions);
    if (!p || !a || *p <= 0) {
      ++left_out;
      continue;
    }
    ids.push_back(id);
    n.push_back(static_cast<double>(*a));
    x.push_back(static_cast<double>(*p));
  }
  std::string h = "<h3>Small areas: rates that borrow strength</h3>";
  if (ids.size() < 2) return h + "<p>Fewer than two small areas with registered people.</p>";
  auto eb = stats::EmpiricalBayesRates(n, x);
  if (!eb.ok()) return h + "<p>No shrunk rates: " + svg::Escape(eb.status().ToString()) + "</p>";
  std::vector<size_t> order(ids.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return eb->estimate[a] < eb->estimate[b]; });
  std::vector<std::string> names;
  std::vector<std::optional<double>> raw;
  std::vector<double> shrunk;
  for (size_t i : order) {
    const auto& cell = c.area.at(ids[i]);
    names.push_back(Name(dicts.areas, ids[i]));
    raw.push_back(sdc::PublishRate(Pub(cell.admissions), Pub(cell.people), 1000));
    shrunk.push_back(1000 * eb->estimate[i]);
  }
  h += fmt::format(
      "<p>Emergency admissions per 1,000 registered people in each of the region's {} small areas (LSOAs). In an "
      "area of a few hundred people, two or three admissions more or fewer swing the rate a long way, so the "
      "areas with the highest raw rates are often just the smallest. Each area's rate is therefore shrunk towards "
      "the region's rate ({:.1f} per 1,000), the more so the fewer people it has (empirical Bayes): an area keeps "
      "a high rate only if its numbers are large enough to show it is real. Both rates are computed from counts "
      "rounded to 5; {}.</p>",
      ids.size(), 1000 * eb->b,
      left_out == 0   ? std::string("no area has a count of 7 or fewer, so none is left out")
      : left_out == 1 ? std::string("1 area where either count is 7 or fewer is left out")
                      : std::to_string(left_out) + " areas where either count is 7 or fewer are left out");
  h += "<div class=row>" +
       svg::RankChart(names, raw, shrunk,
                      {.title = "Emergency admissions per 1,000 by small area: raw and shrunk", .y_label = "per 1,000",
                       .width = 760, .height = 340, .x_label = "small areas, ordered by shrunk rate"}) +
       "</div>";
  std::vector<std::vector<std::string>> rows;
  OJson top = OJson::array();
  for (size_t k = 0; k < std::min<size_t>(10, order.size()); ++k) {
    const size_t i = order[order.size() - 1 - k];
    const auto& cell = c.area.at(ids[i]);
    const Opt p = Pub(cell.people), a = Pub(cell.admissions);
    const auto r = sdc::PublishRate(a, p, 1000);
    rows.push_back({std::to_string(k + 1), Name(dicts.areas, ids[i]), ShowN(p), ShowN(a),
                    r ? fmt::format("{:.1f}", *r) : "[REDACTED]", fmt::format("{:.1f}", 1000 * eb->estimate[i])});
    top.push_back({{"area", Name(dicts.areas, ids[i])}, {"people", p ? OJson(*p) : OJson("[REDACTED]")},
                   {"admissions", a ? OJson(*a) : OJson("[REDACTED]")}, {"raw_per_1000", r ? OJson(*r) : OJson("[REDACTED]")},
                   {"shrunk_per_1000", 1000 * eb->estimate[i]}});
  }
  h += "<p>The ten areas with the highest shrunk rates:</p>" +
       Table({"rank", "small area", "registered people", "admissions", "raw per 1,000", "shrunk per 1,000"}, rows);
  (*out)["small_areas"] = {{"areas", ids.size()}, {"region_per_1000", 1000 * eb->b}, {"top10", top}};
  return h;
}

}  // namespace

std::string NeedSectionHtml(const NeedCounts& c, const Dictionaries& dicts, int year, OJson* out) {
  OJson j = OJson::object();
  std::string h = "<section><h2>Where need is highest: practices and small areas</h2>";
  h += FunnelPart(c, dicts, year, &j);
  h += AreaPart(c, dicts, &j);
  (*out)["need"] = j;
  return h + "</section>";
}

}  // namespace ark
