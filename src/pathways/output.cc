#include "pathways/output.h"

#include <cmath>

#include "core/csv.h"
#include "core/fs.h"
#include "disclosure/opensafely.h"
#include "pathways/graph_svg.h"
#include "report/svg.h"

namespace ark::pathways {
namespace {

using OJson = nlohmann::ordered_json;

OJson DistJson(const Distribution& d) {
  return OJson{{"n", d.n},           {"mean_s", d.mean}, {"median_s", d.median}, {"min_s", d.min},
               {"max_s", d.max},     {"p10_s", d.p10},   {"p25_s", d.p25},       {"p75_s", d.p75},
               {"p90_s", d.p90}};
}

std::string Name(const EventLog& log, uint32_t a) { return log.activities[a]; }

std::string JoinVariant(const EventLog& log, const Variant& v, const char* sep) {
  std::string s;
  for (size_t i = 0; i < v.activities.size(); ++i) {
    if (i) s += sep;
    s += log.activities[v.activities[i]];
  }
  return s;
}

std::string PlainShow(uint64_t n);
std::string SdcShow(uint64_t n) {
  auto p = sdc::PublishCount(static_cast<int64_t>(n));
  if (!p.ok()) return "?";
  return *p ? PlainShow(static_cast<uint64_t>(**p)) : sdc::Show(*p);
}
std::string PlainShow(uint64_t n) {
  std::string s = std::to_string(n), o;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) o += ',';
    o += s[i];
  }
  return o;
}
std::optional<double> SdcValue(uint64_t n, bool disclosure) {
  if (!disclosure) return static_cast<double>(n);
  auto p = sdc::PublishCount(static_cast<int64_t>(n));
  if (!p.ok() || !*p) return std::nullopt;
  return static_cast<double>(**p);
}

std::string Pct(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f%%", 100 * x);
  return b;
}

OJson CoreSummary(const EventLog& log, const Core& c) {
  OJson j;
  j["cases"] = c.cases;
  j["events"] = c.events;
  uint64_t acts = 0;
  for (auto n : c.activity_events) acts += n > 0;
  j["activities"] = acts;
  j["variants"] = c.variants.size();
  j["edges"] = c.edges.size();
  OJson st = OJson::object(), en = OJson::object();
  for (size_t a = 0; a < log.activities.size(); ++a) {
    if (c.start[a]) st[log.activities[a]] = c.start[a];
    if (c.end[a]) en[log.activities[a]] = c.end[a];
  }
  j["start_activities"] = st;
  j["end_activities"] = en;
  j["case_duration"] = DistJson(c.duration);
  j["approximate_quantiles"] = c.approximate_quantiles;
  OJson top = OJson::array();
  for (size_t i = 0; i < c.variants.size() && i < 10; ++i) {
    const Variant& v = c.variants[i];
    OJson acts_j = OJson::array();
    for (auto a : v.activities) acts_j.push_back(log.activities[a]);
    top.push_back({{"count", v.count}, {"share", v.share}, {"activities", acts_j}});
  }
  j["top_variants"] = top;
  return j;
}

}  // namespace

OJson SummaryJson(const Analysis& a) {
  const EventLog& log = *a.log;
  OJson j = CoreSummary(log, a.core);
  j["source"] = a.source;
  j["title"] = a.title;
  if (!a.waits.empty()) {
    OJson w = OJson::array();
    for (auto& x : a.waits)
      w.push_back({{"from", x.from}, {"to", x.to}, {"cases_with_from", x.cases_with_from},
                   {"cases_with_both", x.cases_with_both}, {"time", DistJson(x.time)}});
    j["waiting"] = w;
  }
  OJson r = OJson::array();
  for (auto& x : a.rework)
    r.push_back({{"activity", Name(log, x.activity)}, {"cases_repeated", x.cases_repeated},
                 {"extra_events", x.extra_events}, {"self_loops", x.self_loops}, {"short_loops", x.short_loops}});
  j["rework"] = r;
  if (a.comparison) {
    const Comparison& c = *a.comparison;
    OJson d = OJson::array();
    for (auto& x : c.differences)
      d.push_back({{"what", x.what}, {"a", x.a}, {"b", x.b}, {"diff", x.diff}, {"z", x.z}, {"highlight", x.highlight}});
    j["comparison"] = {{"attribute", c.attribute},
                       {"a", {{"label", c.label_a}, {"summary", CoreSummary(log, c.a)}}},
                       {"b", {{"label", c.label_b}, {"summary", CoreSummary(log, c.b)}}},
                       {"differences", d}};
  }
  if (a.conformance) {
    const Conformance& c = *a.conformance;
    OJson dv = OJson::array();
    for (auto& x : c.deviations) dv.push_back({{"deviation", x.what}, {"cases", x.cases}});
    j["conformance"] = {{"reference", c.reference}, {"cases", c.cases}, {"fitting", c.fitting},
                        {"fitting_share", c.cases ? static_cast<double>(c.fitting) / c.cases : 0.0},
                        {"contains", c.contains}, {"mean_fitness", c.mean_fitness}, {"deviations", dv}};
  }
  j["seconds"] = {{"read", a.read_seconds}, {"analyse", a.analyse_seconds}};
  return j;
}

OJson DfgJson(const Analysis& a) {
  const EventLog& log = *a.log;
  const Core& c = a.core;
  OJson acts = OJson::array();
  for (size_t x = 0; x < log.activities.size(); ++x)
    if (c.activity_events[x])
      acts.push_back({{"name", log.activities[x]}, {"events", c.activity_events[x]}, {"cases", c.activity_cases[x]},
                      {"start", c.start[x]}, {"end", c.end[x]}});
  OJson edges = OJson::array();
  for (const Edge& e : c.edges)
    edges.push_back({{"from", Name(log, e.from)}, {"to", Name(log, e.to)}, {"count", e.count}, {"cases", e.cases},
                     {"mean_s", e.time.mean}, {"median_s", e.time.median}, {"min_s", e.time.min},
                     {"max_s", e.time.max}, {"p90_s", e.time.p90}});
  return OJson{{"activities", acts}, {"edges", edges}, {"approximate_quantiles", c.approximate_quantiles}};
}

std::string VariantsCsv(const Analysis& a) {
  std::string out = "rank,count,share,length,mean_duration_s,variant\n";
  int rank = 0;
  for (const Variant& v : a.core.variants) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "%d,%llu,%.6f,%zu,%.1f,", ++rank, static_cast<unsigned long long>(v.count), v.share,
                  v.activities.size(), v.mean_duration_s);
    out += buf;
    AppendCsvField(&out, JoinVariant(*a.log, v, ","));
    out += '\n';
  }
  return out;
}

namespace {

std::string EdgesCsv(const Analysis& a) {
  std::string out = "from,to,count,cases,mean_s,median_s,min_s,max_s,p90_s\n";
  for (const Edge& e : a.core.edges) {
    AppendCsvField(&out, Name(*a.log, e.from));
    out += ',';
    AppendCsvField(&out, Name(*a.log, e.to));
    char buf[256];
    std::snprintf(buf, sizeof buf, ",%llu,%llu,%.3f,%.3f,%.3f,%.3f,%.3f\n", static_cast<unsigned long long>(e.count),
                  static_cast<unsigned long long>(e.cases), e.time.mean, e.time.median, e.time.min, e.time.max, e.time.p90);
    out += buf;
  }
  return out;
}

std::string DurationsCsv(const Analysis& a) {
  std::string out = "case_id,events,duration_s,variant_rank\n";
  const EventLog& log = *a.log;
  if (a.core.case_variant.size() != log.num_cases()) return out;  // analysed without per-case arrays
  for (size_t c = 0; c < log.num_cases(); ++c) {
    if (log.case_start[c] == log.case_start[c + 1]) continue;
    AppendCsvField(&out, log.case_ids[c]);
    char buf[96];
    std::snprintf(buf, sizeof buf, ",%llu,%.3f,%u\n",
                  static_cast<unsigned long long>(log.case_start[c + 1] - log.case_start[c]),
                  a.core.case_duration_ms[c] / 1000.0, a.core.case_variant[c] + 1);
    out += buf;
  }
  return out;
}

// Duration bins for the distribution charts.
const std::vector<std::pair<std::string, double>>& Bins() {
  static const std::vector<std::pair<std::string, double>> b = {
      {"< 1 h", 3600},       {"1-6 h", 6 * 3600},   {"6-24 h", 86400},      {"1-3 d", 3 * 86400},
      {"3-7 d", 7 * 86400},  {"1-2 wk", 14 * 86400}, {"2-4 wk", 28 * 86400}, {"1-3 mo", 91 * 86400},
      {"3-6 mo", 182 * 86400}, {"6-12 mo", 365 * 86400}, {"> 1 y", 1e300}};
  return b;
}

std::vector<uint64_t> Binned(const std::vector<int64_t>& ms) {
  std::vector<uint64_t> n(Bins().size(), 0);
  for (int64_t x : ms) {
    const double s = x / 1000.0;
    size_t i = 0;
    while (i + 1 < Bins().size() && s >= Bins()[i].second) ++i;
    ++n[i];
  }
  return n;
}

std::vector<int64_t> CaseDurations(const EventLog& log, const Core& c) {
  std::vector<int64_t> v;
  if (c.case_variant.size() != log.num_cases()) return v;
  for (size_t i = 0; i < log.num_cases(); ++i)
    if (c.case_variant[i] != UINT32_MAX) v.push_back(c.case_duration_ms[i]);
  return v;
}

std::string DistChart(const std::string& title, const std::vector<std::pair<std::string, std::vector<int64_t>>>& groups,
                      bool disclosure) {
  std::vector<std::string> cats;
  for (auto& b : Bins()) cats.push_back(b.first);
  std::vector<svg::Series> series;
  for (auto& [name, ms] : groups) {
    svg::Series s;
    s.name = name;
    auto n = Binned(ms);
    uint64_t total = ms.size();
    for (auto x : n) {
      auto v = SdcValue(x, disclosure);
      auto t = SdcValue(total, disclosure);
      if (!v || !t || *t == 0) s.values.push_back(std::nullopt);
      else s.values.push_back(100.0 * *v / *t);
    }
    series.push_back(std::move(s));
  }
  svg::ChartOptions o;
  o.title = title;
  o.y_label = "% of cases";
  o.decimals = 1;
  return svg::BarChart(cats, series, o);
}

const char* kStyle = R"(<style>
.ark-pathway{font-family:Helvetica,Arial,sans-serif;color:#222;max-width:1150px}
.ark-pathway table{border-collapse:collapse;margin:6px 0 14px;font-size:13px}
.ark-pathway th,.ark-pathway td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
.ark-pathway td.n{text-align:right;font-variant-numeric:tabular-nums}
.ark-pathway tr.hl td{background:#fff3cd;font-weight:600}
.ark-pathway .chip{display:inline-block;padding:1px 5px;margin:1px;border-radius:3px;font-size:11px;color:#fff}
.ark-pathway .bar{display:inline-block;height:10px;background:#4a6fa5;vertical-align:middle}
.ark-pathway .note{color:#666;font-size:12px}
.ark-pathway .kpi{display:inline-block;margin:0 22px 8px 0}.ark-pathway .kpi b{display:block;font-size:22px}
</style>)";

std::string Esc(const std::string& s) { return svg::Escape(s); }

std::string H(int level, const std::string& text) {
  return "<h" + std::to_string(level) + ">" + Esc(text) + "</h" + std::to_string(level) + ">\n";
}

std::string VariantsHtml(const Analysis& a, size_t top) {
  const EventLog& log = *a.log;
  auto show = a.disclosure ? SdcShow : PlainShow;
  std::string s = "<table><tr><th>#</th><th>cases</th><th>share</th><th></th><th>sequence</th></tr>\n";
  double max_share = a.core.variants.empty() ? 1 : a.core.variants[0].share;
  for (size_t i = 0; i < a.core.variants.size() && i < top; ++i) {
    const Variant& v = a.core.variants[i];
    if (a.disclosure && v.count <= static_cast<uint64_t>(sdc::kRedactAtOrBelow)) continue;  // rare sequences not shown
    char bar[128];
    std::snprintf(bar, sizeof bar, "<span class=\"bar\" style=\"width:%.0fpx\"></span>", 160 * v.share / max_share);
    // Under disclosure the share is computed from the published (rounded) counts, as every other rate in the report.
    auto num = SdcValue(v.count, a.disclosure), den = SdcValue(a.core.cases, a.disclosure);
    std::string share = num && den && *den > 0 ? Pct(*num / *den) : "";
    s += "<tr><td class=\"n\">" + std::to_string(i + 1) + "</td><td class=\"n\">" + show(v.count) + "</td><td class=\"n\">" +
         share + "</td><td>" + bar + "</td><td>";
    for (auto x : v.activities)
      s += "<span class=\"chip\" style=\"background:" + svg::Palette(x) + "\">" + Esc(log.activities[x]) + "</span>";
    s += "</td></tr>\n";
  }
  s += "</table>\n";
  if (a.core.variants.size() > top)
    s += "<p class=\"note\">" + std::to_string(top) + " most frequent of " +
         (a.disclosure ? std::string("all") : std::to_string(a.core.variants.size())) + " variants" +
         (a.disclosure ? "; variants of 7 cases or fewer are not shown" : "") + ".</p>\n";
  return s;
}

}  // namespace

// Distinct variants; under disclosure only those with more cases than the redaction threshold are counted, since the
// rest are not shown.
std::string VariantCount(const Core& c, bool disclosure) {
  if (!disclosure) return std::to_string(c.variants.size());
  size_t n = 0;
  for (const Variant& v : c.variants) n += v.count > static_cast<uint64_t>(sdc::kRedactAtOrBelow);
  return std::to_string(n);
}

std::string SectionHtml(const Analysis& a, int hl) {
  const EventLog& log = *a.log;
  const Core& c = a.core;
  auto show = a.disclosure ? SdcShow : PlainShow;
  std::string s = "<section class=\"ark-pathway\">\n" + std::string(kStyle) + H(hl, a.title);
  if (!a.description.empty()) s += "<p>" + Esc(a.description) + "</p>\n";
  uint64_t acts = 0;
  for (auto n : c.activity_events) acts += n > 0;
  s += "<div><span class=\"kpi\"><b>" + show(c.cases) + "</b>cases</span><span class=\"kpi\"><b>" + show(c.events) +
       "</b>events</span><span class=\"kpi\"><b>" + std::to_string(acts) + "</b>activities</span><span class=\"kpi\"><b>" +
       VariantCount(c, a.disclosure) + "</b>" + (a.disclosure ? "variants of 8+ cases" : "variants") + "</span><span class=\"kpi\"><b>" + HumanDuration(c.duration.median) +
       "</b>median case duration</span></div>\n";
  if (c.approximate_quantiles)
    s += "<p class=\"note\">Medians and percentiles are from log-scale histograms (within 1.6%).</p>\n";
  s += H(hl + 1, "Directly-follows graph");
  s += "<p class=\"note\">Boxes: activities (events). Arrows: one activity directly followed by another in a case; width by "
       "frequency, label: count and median time between them. Dashed: case start and end.</p>\n";
  GraphOptions go;
  go.show_count = a.disclosure ? SdcShow : nullptr;
  s += "<div>" + DfgSvg(log, c, go) + "</div>\n";
  s += H(hl + 1, "Variants");
  s += VariantsHtml(a, 15);
  s += H(hl + 1, "Start and end activities");
  s += "<table><tr><th>activity</th><th>cases</th><th>starts</th><th>ends</th><th>events</th></tr>\n";
  for (size_t x = 0; x < log.activities.size(); ++x)
    if (c.activity_events[x])
      s += "<tr><td>" + Esc(log.activities[x]) + "</td><td class=\"n\">" + show(c.activity_cases[x]) +
           "</td><td class=\"n\">" + show(c.start[x]) + "</td><td class=\"n\">" + show(c.end[x]) +
           "</td><td class=\"n\">" + show(c.activity_events[x]) + "</td></tr>\n";
  s += "</table>\n";
  s += H(hl + 1, "Case durations");
  std::vector<std::pair<std::string, std::vector<int64_t>>> groups;
  if (a.comparison) {
    groups.push_back({a.comparison->label_a, CaseDurations(log, a.comparison->a)});
    groups.push_back({a.comparison->label_b, CaseDurations(log, a.comparison->b)});
  } else {
    groups.push_back({"all cases", CaseDurations(log, c)});
  }
  s += DistChart("Case duration (first to last event)", groups, a.disclosure);
  s += "<p>Median " + HumanDuration(c.duration.median) + ", mean " + HumanDuration(c.duration.mean) + ", p90 " +
       HumanDuration(c.duration.p90) + ".</p>\n";
  if (!a.waits.empty()) {
    s += H(hl + 1, "Waiting times");
    s += "<table><tr><th>from</th><th>to</th><th>cases with both</th><th>median</th><th>p90</th><th>mean</th></tr>\n";
    for (auto& w : a.waits)
      s += "<tr><td>" + Esc(w.from) + "</td><td>" + Esc(w.to) + "</td><td class=\"n\">" + show(w.cases_with_both) +
           "</td><td class=\"n\">" + HumanDuration(w.time.median) + "</td><td class=\"n\">" + HumanDuration(w.time.p90) +
           "</td><td class=\"n\">" + HumanDuration(w.time.mean) + "</td></tr>\n";
    s += "</table>\n";
    std::vector<std::pair<std::string, std::vector<int64_t>>> wg;
    for (auto& w : a.waits)
      if (!w.samples_ms.empty()) wg.push_back({w.from + " → " + w.to, w.samples_ms});
    if (!wg.empty()) s += DistChart("Waiting time distributions", wg, a.disclosure);
  }
  if (!a.rework.empty()) {
    s += H(hl + 1, "Loops and rework");
    s += "<table><tr><th>activity</th><th>cases repeating it</th><th>extra events</th><th>self-loops</th><th>a→b→a</th></tr>\n";
    for (size_t i = 0; i < a.rework.size() && i < 12; ++i) {
      const Rework& r = a.rework[i];
      s += "<tr><td>" + Esc(log.activities[r.activity]) + "</td><td class=\"n\">" + show(r.cases_repeated) +
           "</td><td class=\"n\">" + show(r.extra_events) + "</td><td class=\"n\">" + show(r.self_loops) +
           "</td><td class=\"n\">" + show(r.short_loops) + "</td></tr>\n";
    }
    s += "</table>\n";
  }
  if (a.comparison) {
    const Comparison& cm = *a.comparison;
    s += H(hl + 1, "Compared: " + cm.label_a + " vs " + cm.label_b);
    s += "<p>" + Esc(cm.label_a) + ": " + show(cm.a.cases) + " cases, median duration " + HumanDuration(cm.a.duration.median) +
         ". " + Esc(cm.label_b) + ": " + show(cm.b.cases) + " cases, median duration " +
         HumanDuration(cm.b.duration.median) +
         ". Highlighted rows are differences too large to be chance: a share of cases differing by at least 2 percentage "
         "points with a z-score of 3 or more, or a median time differing by 25% or more.</p>\n";
    s += "<table><tr><th>measure</th><th>" + Esc(cm.label_a) + "</th><th>" + Esc(cm.label_b) +
         "</th><th>difference</th><th>z-score</th></tr>\n";
    size_t shown = 0;
    for (auto& d : cm.differences) {
      if (shown++ >= 20) break;
      const bool is_time = d.what.rfind("cases with", 0) != 0;
      char z[32];
      std::snprintf(z, sizeof z, "%.1f", d.z);
      s += std::string("<tr") + (d.highlight ? " class=\"hl\"" : "") + "><td>" + Esc(d.what) + "</td><td class=\"n\">" +
           (is_time ? HumanDuration(d.a) : Pct(d.a)) + "</td><td class=\"n\">" + (is_time ? HumanDuration(d.b) : Pct(d.b)) +
           "</td><td class=\"n\">" + (is_time ? HumanDuration(d.diff) : Pct(d.diff)) + "</td><td class=\"n\">" +
           (is_time ? "" : z) + "</td></tr>\n";
    }
    s += "</table>\n";
  }
  if (a.conformance) {
    const Conformance& cf = *a.conformance;
    s += H(hl + 1, "Conformance to the reference pathway");
    std::string ref;
    for (auto& r : cf.reference) ref += (ref.empty() ? "" : " → ") + r;
    s += "<p>Reference: " + Esc(ref) + ".</p>\n";
    const double fit = cf.cases ? static_cast<double>(cf.fitting) / cf.cases : 0;
    const double con = cf.cases ? static_cast<double>(cf.contains) / cf.cases : 0;
    s += "<p>" + Pct(fit) + " of cases follow it exactly; " + Pct(con) +
         " contain it in order (with other activities between); on average a case matches " + Pct(cf.mean_fitness) +
         " of the reference pathway (its fitness).</p>\n<table><tr><th>most common deviations</th><th>cases</th><th>share</th></tr>\n";
    for (size_t i = 0; i < cf.deviations.size() && i < 10; ++i)
      s += "<tr><td>" + Esc(cf.deviations[i].what) + "</td><td class=\"n\">" + show(cf.deviations[i].cases) +
           "</td><td class=\"n\">" + Pct(cf.cases ? static_cast<double>(cf.deviations[i].cases) / cf.cases : 0) +
           "</td></tr>\n";
    s += "</table>\n";
  }
  if (a.disclosure)
    s += "<p class=\"note\">Counts of cases and events follow OpenSAFELY's disclosure rules: 7 or fewer redacted, others "
         "rounded to the nearest 5.</p>\n";
  s += "</section>\n";
  return s;
}

std::string ReportHtml(const Analysis& a) {
  return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + Esc(a.title) +
         "</title></head><body style=\"margin:24px\">\n" + SectionHtml(a, 1) + "<p class=\"note\" style=\"font-family:sans-serif\">Source: " +
         Esc(a.source) + ". Written by ark pathways.</p>\n</body></html>\n";
}

Status WriteOutputs(const Analysis& a, const std::string& dir) {
  ARK_RETURN_IF_ERROR(MakeDirs(dir));
  ARK_RETURN_IF_ERROR(WriteFileAtomic(dir + "/summary.json", SummaryJson(a).dump(2) + "\n"));
  ARK_RETURN_IF_ERROR(WriteFileAtomic(dir + "/dfg.json", DfgJson(a).dump(2) + "\n"));
  ARK_RETURN_IF_ERROR(WriteFileAtomic(dir + "/variants.csv", VariantsCsv(a)));
  ARK_RETURN_IF_ERROR(WriteFileAtomic(dir + "/edges.csv", EdgesCsv(a)));
  ARK_RETURN_IF_ERROR(WriteFileAtomic(dir + "/durations.csv", DurationsCsv(a)));
  ARK_RETURN_IF_ERROR(WriteFileAtomic(dir + "/dfg.dot", DfgDot(*a.log, a.core)));
  return WriteFileAtomic(dir + "/report.html", ReportHtml(a));
}

}  // namespace ark::pathways
