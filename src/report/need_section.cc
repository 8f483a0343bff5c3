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
#include "ark/status.h"

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
  return svg::HtmlTable(head, rows);
}

using Strata = std::map<uint32_t, std::array<NeedCell, kNeedStrata>>;

// Units (practices or small areas) with their observed admissions, people and expected count
// from the region's own age-band x sex rates (indirect standardisation).
struct Standardised {
  std::vector<uint32_t> ids;
  std::vector<int64_t> observed, people;  // exact: only ever shown through Pub()
  std::vector<double> expected;
};

Result<Standardised> Standardise(const Strata& units) {
  std::vector<int> strata;  // strata with people somewhere (a stratum with none has no rate)
  for (int s = 0; s < kNeedStrata; ++s) {
    int64_t n = 0;
    for (auto& [id, cells] : units) n += cells[s].people;
    if (n > 0) strata.push_back(s);
  }
  Standardised out;
  std::vector<std::vector<double>> events, people;
  for (auto& [id, cells] : units) {
    std::vector<double> e, p;
    int64_t o = 0, n = 0;
    for (int s : strata) {
      e.push_back(static_cast<double>(cells[s].admissions));
      p.push_back(static_cast<double>(cells[s].people));
      o += cells[s].admissions, n += cells[s].people;
    }
    out.ids.push_back(id);
    out.observed.push_back(o);
    out.people.push_back(n);
    events.push_back(std::move(e));
    people.push_back(std::move(p));
  }
  if (strata.empty()) return Status::FailedPrecondition("nobody registered");
  ARK_ASSIGN_OR_RETURN(auto rates, stats::ReferenceRates(events, people));
  ARK_ASSIGN_OR_RETURN(out.expected, stats::ExpectedCounts(people, rates));
  return out;
}

// Ratios shrunk by empirical Bayes on the published counts: observed rounded to 5 against the
// expected count; units whose admissions or people are 7 or fewer (or with nothing expected) are
// left out. Excess admissions E x (shrunk - 1).
struct Shrunk {
  std::vector<size_t> unit;  // index into Standardised
  std::vector<double> observed, raw, shrunk, excess;
  size_t left_out = 0;
  double b = 0;  // the overall ratio of the units kept (about 1)
};

Result<Shrunk> ShrinkRatios(const Standardised& s) {
  Shrunk out;
  std::vector<double> e;
  for (size_t u = 0; u < s.ids.size(); ++u) {
    if (s.people[u] <= 0) continue;
    const Opt o = Pub(s.observed[u]), n = Pub(s.people[u]);
    if (!o || !n || !(s.expected[u] > 0)) {
      ++out.left_out;
      continue;
    }
    out.unit.push_back(u);
    out.observed.push_back(static_cast<double>(*o));
    e.push_back(s.expected[u]);
  }
  if (out.unit.size() < 2) return Status::FailedPrecondition("fewer than two units with more than 7 admissions");
  ARK_ASSIGN_OR_RETURN(stats::EbRates eb, stats::EmpiricalBayesRates(out.observed, e));
  out.raw = eb.raw, out.shrunk = eb.estimate, out.b = eb.b;
  for (size_t k = 0; k < e.size(); ++k) out.excess.push_back(e[k] * (out.shrunk[k] - 1));
  return out;
}

std::string LeftOut(size_t n, const char* one, const char* many) {
  return n == 0 ? fmt::format("no {} is left out", one)
                : fmt::format("{} {} {} left out", n, n == 1 ? one : many, n == 1 ? "is" : "are");
}

// Practices: observed against expected from the region's age-band x sex rates.
std::string FunnelPart(const NeedCounts& c, const Dictionaries& dicts, int year, OJson* out) {
  std::string h = "<h3>GP practices: a funnel plot</h3>";
  if (c.practice.size() < 2) return h + "<p>Fewer than two practices with registered people: no funnel plot.</p>";
  auto st = Standardise(c.practice);
  if (!st.ok()) return h + "<p>No funnel plot: " + svg::Escape(st.status().ToString()) + "</p>";
  std::vector<stats::FunnelUnit> units;
  int hidden = 0;
  for (size_t u = 0; u < st->ids.size(); ++u) {
    const Opt pub = Pub(st->observed[u]);
    if (!pub || !(st->expected[u] > 0)) {
      ++hidden;
      continue;
    }
    units.push_back({Name(dicts.practices, st->ids[u]), static_cast<double>(*pub), st->expected[u]});
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

// The ranking by excess admissions (highest first, only units above what is expected).
struct RankRow {
  std::string name;
  int decile = 0;  // small areas: IMD decile; 0 none
  Opt people, admissions;
  double expected = 0, raw = 0, shrunk = 0, excess = 0;
};

std::vector<RankRow> Ranking(const Standardised& st, const Shrunk& sh, const std::vector<std::string>& dict,
                             const std::map<uint32_t, int>* deciles, size_t limit) {
  std::vector<size_t> order(sh.unit.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return sh.excess[a] > sh.excess[b]; });
  std::vector<RankRow> rows;
  for (size_t k : order) {
    if (rows.size() >= limit || !(sh.excess[k] > 0)) break;
    const size_t u = sh.unit[k];
    RankRow r{Name(dict, st.ids[u]), 0, Pub(st.people[u]), Pub(st.observed[u]), st.expected[u], sh.raw[k], sh.shrunk[k], sh.excess[k]};
    if (deciles) {
      auto it = deciles->find(st.ids[u]);
      r.decile = it == deciles->end() ? 0 : it->second;
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

std::string RankingHtml(const std::vector<RankRow>& rows, const char* unit, bool with_decile, OJson* out) {
  std::vector<std::vector<std::string>> t;
  OJson j = OJson::array();
  for (size_t k = 0; k < rows.size(); ++k) {
    const RankRow& r = rows[k];
    std::vector<std::string> row = {std::to_string(k + 1), r.name};
    if (with_decile) row.push_back(r.decile ? std::to_string(r.decile) : "unknown");
    for (auto& v : {ShowN(r.people), ShowN(r.admissions), svg::Grouped(r.expected, 1), fmt::format("{:.2f}", r.raw),
                    fmt::format("{:.2f}", r.shrunk), svg::Grouped(r.excess, 1)})
      row.push_back(v);
    t.push_back(std::move(row));
    OJson e = {{unit, r.name}};
    if (with_decile) e["imd_decile"] = r.decile ? OJson(r.decile) : OJson("unknown");
    e["people"] = r.people ? OJson(*r.people) : OJson("[REDACTED]");
    e["admissions"] = r.admissions ? OJson(*r.admissions) : OJson("[REDACTED]");
    e["expected"] = r.expected, e["ratio"] = r.raw, e["shrunk_ratio"] = r.shrunk, e["excess_admissions"] = r.excess;
    j.push_back(std::move(e));
  }
  *out = j;
  if (rows.empty()) return std::string("<p>No ") + unit + " has more admissions than its age and sex predict once chance is allowed for.</p>";
  std::vector<std::string> head = {"rank", unit};
  if (with_decile) head.push_back("IMD decile");
  for (const char* h : {"registered people", "admissions", "expected", "ratio", "shrunk ratio", "excess admissions"}) head.push_back(h);
  return Table(head, t);
}

// Small areas: standardised ratios, raw against shrunk, a grid of tiles and the ranking.
std::string AreaPart(const NeedCounts& c, const Dictionaries& dicts, int year, OJson* out) {
  std::string h = "<h3>Small areas: ratios that borrow strength</h3>";
  if (c.area.size() < 2) return h + "<p>Fewer than two small areas with registered people.</p>";
  auto st = Standardise(c.area);
  if (!st.ok()) return h + "<p>No small-area ratios: " + svg::Escape(st.status().ToString()) + "</p>";
  auto sh = ShrinkRatios(*st);
  if (!sh.ok()) return h + "<p>No small-area ratios: " + svg::Escape(sh.status().message()) + "</p>";
  std::vector<size_t> order(sh->unit.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return sh->shrunk[a] < sh->shrunk[b]; });
  std::vector<std::string> names;
  std::vector<std::optional<double>> raw;
  std::vector<double> shrunk;
  for (size_t k : order) {
    names.push_back(Name(dicts.areas, st->ids[sh->unit[k]]));
    raw.push_back(sh->raw[k]);
    shrunk.push_back(sh->shrunk[k]);
  }
  h += fmt::format(
      "<p>The same comparison for each of the region's {} small areas (LSOAs): emergency "
      "admissions in {} among the people registered with a GP and living there, divided by the number expected at "
      "the region's rates for their age band and sex. In an area of a few hundred registered people two or three "
      "admissions more or fewer swing the ratio a long way, so the areas with the most extreme raw ratios are often "
      "just the smallest. Each area's ratio is therefore shrunk towards the region's ({:.2f}), the more so the fewer "
      "admissions it expects (empirical Bayes): an area keeps a high ratio only if its numbers are large enough to "
      "show it is real. Both ratios use admissions rounded to 5; {} (7 or fewer admissions or registered people).</p>",
      st->ids.size(), year, sh->b, LeftOut(sh->left_out, "area", "areas"));
  h += "<div class=row>" +
       svg::RankChart(names, raw, shrunk,
                      {.title = "Emergency admissions by small area: observed / expected, raw and shrunk",
                       .y_label = "observed / expected", .width = 760, .height = 340, .x_label = "small areas, ordered by shrunk ratio"},
                      "raw ratio", "shrunk ratio") +
       "</div>";
  // The grid: every area, ordered by IMD decile (most deprived first), then by code.
  std::vector<uint32_t> grid_ids;
  for (auto& [id, cells] : c.area) grid_ids.push_back(id);
  auto decile = [&](uint32_t id) { auto it = c.area_decile.find(id); return it == c.area_decile.end() ? 99 : it->second; };
  std::stable_sort(grid_ids.begin(), grid_ids.end(), [&](uint32_t a, uint32_t b) {
    return decile(a) != decile(b) ? decile(a) < decile(b) : Name(dicts.areas, a) < Name(dicts.areas, b);
  });
  std::map<uint32_t, double> shrunk_of;
  for (size_t k = 0; k < sh->unit.size(); ++k) shrunk_of[st->ids[sh->unit[k]]] = sh->shrunk[k];
  std::vector<svg::Tile> tiles;
  for (uint32_t id : grid_ids) {
    const int d = decile(id);
    auto it = shrunk_of.find(id);
    tiles.push_back({Name(dicts.areas, id) + (d == 99 ? std::string(" (IMD decile unknown)") : fmt::format(" (IMD decile {})", d)),
                     it == shrunk_of.end() ? std::nullopt : std::optional<double>(it->second)});
  }
  const int columns = std::max(5, static_cast<int>(std::ceil(std::sqrt(1.6 * static_cast<double>(tiles.size())))));
  h += "<p>The grid below shows every small area as one tile, coloured by its shrunk ratio: red where emergency "
       "admissions run above what the people's ages and sexes predict, blue where below; grey where the counts are "
       "too small to publish.</p>";
  h += "<div class=row>" +
       svg::TileGrid(tiles, columns, 1.0, 1.5,
                     "Not a map: the synthetic region has no coordinates for its small areas, so the tiles are laid out "
                     "in reading order (left to right, top to bottom) by the area's deprivation decile, most deprived "
                     "first, then by LSOA code. Position shows deprivation, not geography.",
                     {.title = fmt::format("Small areas by shrunk ratio of emergency admissions, {}", year),
                      .y_label = "observed / expected", .width = 760, .height = 200, .x_label = ""}) +
       "</div>";
  // Where extra capacity would prevent the most admissions.
  const auto rows = Ranking(*st, *sh, dicts.areas, &c.area_decile, 10);
  double total_excess = 0, top_excess = 0;
  size_t above = 0;
  for (double e : sh->excess) total_excess += std::max(0.0, e), above += e > 0;
  for (const RankRow& r : rows) top_excess += r.excess;
  h += "<h3>Where extra capacity would prevent the most admissions</h3>";
  h += fmt::format(
      "<p>A community matron, or any team that keeps people out of hospital, can only prevent admissions that would "
      "otherwise happen. An area's <b>excess admissions</b> are its expected admissions times its shrunk ratio minus "
      "one: the emergency admissions a year above what the region's rates for its people's ages and sexes predict, "
      "after allowing for chance. Areas are ranked by it, so a large area with a moderately high ratio can come "
      "before a small one with a higher ratio. {} extra caseload placed there has the most admissions to work "
      "against. Counts are rounded to 5 and ratios use the rounded counts.</p>",
      rows.empty() ? std::string("No area has more admissions than expected once chance is allowed for.")
      : rows.size() == above ? fmt::format("{} area{} {} above expectation, with {} excess admissions a year between them;", rows.size(),
                                           rows.size() == 1 ? "" : "s", rows.size() == 1 ? "is" : "are", svg::Grouped(total_excess, 1))
                             : fmt::format("The {} areas below hold {} of the {} excess admissions a year in the {} areas above "
                                           "expectation;", rows.size(), svg::Grouped(top_excess, 1), svg::Grouped(total_excess, 1), above));
  OJson ranked;
  h += RankingHtml(rows, "small area", true, &ranked);
  (*out)["small_areas"] = {{"year", year},
                           {"areas", st->ids.size()},
                           {"left_out_7_or_fewer", sh->left_out},
                           {"region_ratio", sh->b},
                           {"excess_admissions_all_areas_above_expected", total_excess},
                           {"grid_order", "IMD decile (most deprived first), then LSOA code; no coordinates"},
                           {"ranking", ranked}};
  // Practices, by the same measure.
  if (c.practice.size() >= 2) {
    auto pst = Standardise(c.practice);
    auto psh = pst.ok() ? ShrinkRatios(*pst) : Result<Shrunk>(pst.status());
    if (psh.ok()) {
      h += "<p>The same ranking for GP practices (the practice's registered list, wherever its patients live):</p>";
      OJson pr;
      h += RankingHtml(Ranking(*pst, *psh, dicts.practices, nullptr, 10), "practice", false, &pr);
      (*out)["practices"]["ranking"] = pr;
      (*out)["practices"]["left_out_from_ranking_7_or_fewer"] = psh->left_out;
    }
  }
  return h;
}

}  // namespace

std::string NeedSectionHtml(const NeedCounts& c, const Dictionaries& dicts, int year, OJson* out) {
  OJson j = OJson::object();
  std::string h = "<section><h2>Where need is highest: practices and small areas</h2>";
  h += FunnelPart(c, dicts, year, &j);
  h += AreaPart(c, dicts, year, &j);
  (*out)["need"] = j;
  return h + "</section>";
}

}  // namespace ark
