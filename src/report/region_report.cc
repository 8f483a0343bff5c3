#include "report/region_report.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <map>

#include "catalog/catalog.h"
#include "core/event.h"
#include "core/fs.h"
#include "disclosure/opensafely.h"
#include "ingest/staging.h"
#include "link/cluster.h"
#include "report/need_section.h"
#include "report/svg.h"
#include "store/store.h"

namespace ark {
namespace {

using OJson = nlohmann::ordered_json;
using Opt = std::optional<int64_t>;

const std::vector<std::string> kAgeBands = {"0-17", "18-39", "40-64", "65-79", "80+"};
int AgeBand(int age) { return age < 18 ? 0 : age < 40 ? 1 : age < 65 ? 2 : age < 80 ? 3 : 4; }

Opt Pub(int64_t n) { return *sdc::PublishCount(n); }
std::optional<double> D(const Opt& v) { return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt; }
OJson J(const Opt& v) { return v ? OJson(*v) : OJson("[REDACTED]"); }
std::string Pct(double x) { return fmt::format("{:.1f}%", 100 * x); }
// A published count for people to read: "12,345" or "[REDACTED]".
std::string ShowN(const Opt& v) { return v ? svg::Grouped(static_cast<double>(*v), 0) : "[REDACTED]"; }
// A table cell that is a whole number of 4 or more digits, with thousands separated.
std::string GroupDigits(const std::string& c) {
  const size_t digits = c.size() - (!c.empty() && c[0] == '-');
  if (digits < 4 || c.find_first_not_of("-0123456789") != std::string::npos || c.find('-', 1) != std::string::npos)
    return c;
  return svg::Grouped(std::stod(c), 0);
}

struct Figures {
  int ref_year = 0;
  int first_year = 1 << 30;  // first year with at least 5% of the busiest year's events
  int32_t mid_day = 0;
  // Population (allowed for planning use, alive at mid-year).
  std::array<std::array<int64_t, 2>, 19> pyramid{};  // 5-year bands to 90+, [male, female]
  std::array<int64_t, 11> by_decile{};               // 0 = unknown
  int64_t population = 0, excluded_optout = 0, excluded_unknown = 0;
  // Events by source and year (all events: data volume, not people).
  std::map<std::string, std::map<int, int64_t>> volume;
  // Emergency admissions in the reference year: [decile][age band].
  std::array<std::array<int64_t, 5>, 11> adm{}, den{};
  // Linkage by decile: records and linked records.
  // Linkage by decile: records, records with a valid NHS number (linked by it), and records linked
  // after probabilistic linkage too (valid NHS number, or sharing a person with another record).
  std::array<int64_t, 11> link_records{}, link_linked{}, link_after{};
  // The same admissions and registered people by practice and stratum, and by small area.
  NeedCounts need;
};

Status Compute(const ReportContext& ctx, Figures* f) {
  ARK_ASSIGN_OR_RETURN(auto store, Store::Open(ctx.ark_dir + "/store"));
  auto dicts = store->dicts();
  std::vector<uint8_t> emergency(dicts->codes.size()), reg(dicts->codes.size());
  for (size_t c = 0; c < dicts->codes.size(); ++c) {
    emergency[c] = dicts->codes[c].rfind("ADMIMETH/2", 0) == 0;
    reg[c] = dicts->codes[c].rfind("REG/", 0) == 0;
  }
  // The reference year: the last year with at least half the busiest year's events (a few
  // stray late or early events must not pick an empty year).
  std::map<int, int64_t> per_year;
  ARK_RETURN_IF_ERROR(store->ForEachPerson([&](const Person&, std::span<const Event> ev) {
    for (const Event& e : ev) ++per_year[CivilFromDays(DayOf(e.time)).year];
    return Status::OK();
  }));
  int64_t busiest = 0;
  for (auto& [y, n] : per_year) busiest = std::max(busiest, n);
  for (auto& [y, n] : per_year) {
    if (2 * n >= busiest) f->ref_year = y;
    if (20 * n >= busiest) f->first_year = std::min(f->first_year, y);
  }
  f->mid_day = DaysFromCivil(f->ref_year, 7, 1);
  const Seconds y0 = static_cast<Seconds>(DaysFromCivil(f->ref_year, 1, 1)) * kSecondsPerDay;
  const Seconds y1 = static_cast<Seconds>(DaysFromCivil(f->ref_year + 1, 1, 1)) * kSecondsPerDay;
  const Seconds mid = static_cast<Seconds>(f->mid_day) * kSecondsPerDay;
  std::vector<uint8_t> decile_of(store->num_persons(), 0);
  ARK_RETURN_IF_ERROR(store->ForEachPerson([&](const Person& p, std::span<const Event> ev) {
    decile_of[p.key] = p.imd_decile;
    for (const Event& e : ev) {
      const std::string& src = e.source < dicts->sources.size() ? dicts->sources[e.source] : "";
      ++f->volume[src][CivilFromDays(DayOf(e.time)).year];
    }
    const bool alive = !p.has_death() || p.death_day > f->mid_day;
    if (!alive || p.birth_year == 0) return Status::OK();
    if (!(p.flags & kOptOutKnown)) {
      ++f->excluded_unknown;
      return Status::OK();
    }
    if (!AllowedForSecondaryUse(p)) {
      ++f->excluded_optout;
      return Status::OK();
    }
    const int age = f->ref_year - p.birth_year - (p.birth_month > 7 ? 1 : 0);
    if (age < 0) return Status::OK();
    ++f->population;
    if (p.sex == 'M' || p.sex == 'F') ++f->pyramid[std::min(age / 5, 18)][p.sex == 'F'];
    ++f->by_decile[p.imd_decile];
    bool registered = false;
    int64_t n = 0;
    for (const Event& e : ev) {
      if (reg[e.code] && e.time <= mid && (e.end == kNoTime || e.end > mid)) registered = true;
      if (emergency[e.code] && e.time >= y0 && e.time < y1) ++n;
    }
    if (registered) {
      ++f->den[p.imd_decile][AgeBand(age)];
      f->adm[p.imd_decile][AgeBand(age)] += n;
      if (p.practice != 0) {
        NeedCell& cell = f->need.practice[p.practice][NeedStratum(AgeBand(age), p.sex)];
        ++cell.people;
        cell.admissions += n;
      }
      if (p.lsoa != 0) {
        NeedCell& cell = f->need.area[p.lsoa][NeedStratum(AgeBand(age), p.sex)];
        ++cell.people;
        cell.admissions += n;
        if (p.imd_decile) f->need.area_decile.emplace(p.lsoa, p.imd_decile);
      }
    }
    return Status::OK();
  }));
  // Linkage rate by the person's deprivation decile.
  ARK_ASSIGN_OR_RETURN(auto cat, Catalog::Open(ctx.ark_dir));
  ARK_ASSIGN_OR_RETURN(auto batches, cat->Batches());
  std::vector<uint32_t> records_of(store->num_persons(), 0);
  struct Rec { uint32_t key; bool valid; };
  std::vector<Rec> recs;
  for (auto& b : batches) {
    ARK_ASSIGN_OR_RETURN(StagedBatch sb, ReadStagedBatch(ctx.ark_dir + "/" + b.dir + "/batch.bin", /*with_events=*/false, /*with_encodings=*/false));
    ARK_ASSIGN_OR_RETURN(auto keys, ReadPersonKeys(ctx.ark_dir, b.id, sb.records.size()));
    for (size_t i = 0; i < sb.records.size(); ++i) {
      if (keys[i] < records_of.size()) ++records_of[keys[i]];
      recs.push_back({keys[i], sb.records[i].nhs_status == NhsStatusCode::kValid});
    }
  }
  for (const Rec& r : recs) {
    const bool known = r.key < decile_of.size();
    const uint8_t d = known ? decile_of[r.key] : 0;
    ++f->link_records[d];
    if (r.valid) ++f->link_linked[d];
    if (r.valid || (known && records_of[r.key] > 1)) ++f->link_after[d];
  }
  return Status::OK();
}

std::string Table(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows) {
  std::string t = "<table><thead><tr>";
  for (auto& h : head) t += "<th>" + svg::Escape(h) + "</th>";
  t += "</tr></thead><tbody>";
  for (auto& r : rows) {
    t += "<tr>";
    for (auto& c : r) t += "<td>" + svg::Escape(GroupDigits(c)) + "</td>";
    t += "</tr>";
  }
  return t + "</tbody></table>";
}

// How the linked records group into people: the size distribution, the largest cluster, clusters
// holding two different valid NHS numbers (hard conflicts: must be none), merges refused and the
// model's expected false-merge rate (cluster counts rounded as every count here).
std::string ClusteringHtml(const PprlStats& p, OJson* out) {
  const ClusterStats& c = p.clustering;
  std::vector<std::vector<std::string>> rows;
  OJson sizes = OJson::object();
  for (size_t b = 0; b < c.sizes.size(); ++b) {
    if (!c.sizes[b]) continue;
    const Opt n = Pub(static_cast<int64_t>(c.sizes[b]));
    rows.push_back({ClusterSizeBucketLabel(b), ShowN(n)});
    sizes[ClusterSizeBucketLabel(b)] = J(n);
  }
  (*out)["pprl_clustering"] = {{"clusters", J(Pub(static_cast<int64_t>(p.clusters)))},
                               {"largest_cluster", c.largest},
                               {"cluster_sizes", sizes},
                               {"clusters_with_two_valid_nhs_numbers", c.two_group_clusters},
                               {"merges", J(Pub(static_cast<int64_t>(c.merges)))},
                               {"merges_refused_two_valid_nhs_numbers", J(Pub(static_cast<int64_t>(p.refused_merges)))},
                               {"merges_refused_incoherent", J(Pub(static_cast<int64_t>(c.incoherent_merges)))},
                               {"expected_false_merge_rate", c.ExpectedFalseMergeRate()}};
  return fmt::format(
             "<h4>How records group into people</h4><p>Joining every linked pair would chain strangers together "
             "(A looks like B, B like C, so A, B and C become one person). Instead two groups of records are "
             "merged only when their records agree on average (mean match probability &ge; {:.2f} over all their "
             "pairs), and never when that would put two different valid NHS numbers together. The largest group "
             "holds <b>{}</b> records; <b>{}</b> groups hold two different valid NHS numbers (this must be 0). "
             "Merges refused: {} that would join two valid NHS numbers, {} whose records did not agree. The model "
             "expects <b>{:.2f}%</b> of the {} merges it made to be wrong (expected false-merge rate).</p>",
             c.bound, c.largest, c.two_group_clusters, ShowN(Pub(static_cast<int64_t>(p.refused_merges))),
             ShowN(Pub(static_cast<int64_t>(c.incoherent_merges))), 100 * c.ExpectedFalseMergeRate(),
             ShowN(Pub(static_cast<int64_t>(c.merges)))) +
         Table({"records in the group", "groups (people)"}, rows);
}

// The privacy-preserving linkage part of the linkage section: what the model estimated and who
// is linked, by custodian, deprivation decile, age band and sex (record counts rounded to 5).
std::string PprlHtml(const LinkReport& link, OJson* out) {
  const PprlStats& p = *link.pprl;
  std::string h = fmt::format(
      "<h3>Probabilistic linkage on privacy-preserving encodings</h3><p>Records without a valid NHS number are "
      "then compared on privacy-preserving encodings of names, dates of birth and postcodes, never on the "
      "names themselves. A statistical model fitted to this region's own records scores every pair and sets "
      "its own threshold: two records are joined when the model puts the chance that they are the same person "
      "at {:.0f}% or more. <b>{}</b> of {} records without a valid NHS number were linked this way; the model "
      "expects about {} of its links to be wrong and about {} true links to be missed. Two records with "
      "different valid NHS numbers are never joined ({} such joins refused).</p>"
      "<details><summary>Details for analysts</summary><p>{} candidate pairs from the blocking rules; "
      "Fellegi&ndash;Sunter model estimated by EM, match share &lambda; = {:.2e}; threshold match weight {:.1f} "
      "(posterior &ge; {:.2f}).</p></details>",
      100 * p.threshold_probability, ShowN(Pub(p.linked_without_nhs)), ShowN(Pub(p.records_without_nhs)),
      svg::Grouped(std::round(p.expected_false_matches), 0), svg::Grouped(std::round(p.expected_missed_matches), 0),
      svg::Grouped(static_cast<double>(p.refused_merges), 0), svg::Grouped(static_cast<double>(p.candidate_pairs), 0),
      p.lambda, p.threshold_weight, p.threshold_probability);
  auto block = [&](const std::string& title, const std::string& key, const std::vector<RateRow>& rows) {
    std::vector<std::string> names;
    std::vector<std::optional<double>> rates, recall;
    std::vector<std::vector<std::string>> trows;
    OJson j = OJson::array();
    bool truth = false;
    for (auto& r : rows) {
      names.push_back(r.group);
      rates.push_back(100 * r.linked_rate);
      truth |= r.truth_recall >= 0;
      recall.push_back(r.truth_recall >= 0 ? std::optional<double>(100 * r.truth_recall) : std::nullopt);
      trows.push_back({r.group, ShowN(Pub(static_cast<int64_t>(r.records))), ShowN(Pub(static_cast<int64_t>(r.linked))),
                       Pct(r.linked_rate), r.truth_recall >= 0 ? Pct(r.truth_recall) : "&ndash;"});
      j.push_back({{"group", r.group}, {"records", J(Pub(static_cast<int64_t>(r.records)))}, {"linked_rate", r.linked_rate},
                   {"truth_recall", r.truth_recall >= 0 ? OJson(r.truth_recall) : OJson(nullptr)}});
    }
    std::vector<svg::Series> series{{"linked %", rates, ""}};
    if (truth) series.push_back({"true links %", recall, ""});
    (*out)["pprl_" + key] = j;
    return "<div class=row>" + svg::BarChart(names, series, {.title = title, .y_label = "%", .width = 460, .height = 300, .decimals = 1}) +
           "</div>" + Table({key, "records", "linked", "linked %", "true links found (truth)"}, trows);
  };
  h += ClusteringHtml(p, out);
  h += block("Linkage by deprivation decile (1 = most deprived)", "deprivation decile", link.bias.by_decile);
  h += block("Linkage by age band", "age band", link.bias.by_age_band);
  h += block("Linkage by sex", "sex", link.bias.by_sex);
  (*out)["pprl"] = {{"candidate_pairs", p.candidate_pairs}, {"threshold_weight", p.threshold_weight},
                    {"lambda", p.lambda}, {"decile_gap_pp", link.bias.decile_gap}};
  return h;
}


}  // namespace

Result<OJson> WriteRegionReport(const ReportContext& ctx, const std::string& html_path) {
  Figures f;
  ARK_RETURN_IF_ERROR(Compute(ctx, &f));
  ARK_ASSIGN_OR_RETURN(auto store, Store::Open(ctx.ark_dir + "/store"));
  const StoreStats st = store->Stats();
  OJson out;
  std::string body;

  // --- Headline.
  body += "<section><h2>At a glance</h2><div class=cards>";
  auto card = [&](const std::string& v, const std::string& l) {
    body += "<div class=card><b>" + svg::Escape(v) + "</b><span>" + svg::Escape(l) + "</span></div>";
  };
  card(svg::Grouped(static_cast<double>(st.persons), 0), "person timelines in the store");
  card(svg::Grouped(static_cast<double>(st.events), 0), "events on those timelines");
  card(fmt::format("{:.2f}", st.events ? static_cast<double>(st.bytes_on_disk) / st.events : 0.0), "bytes per event on disk");
  if (ctx.link && ctx.link->quality) card(fmt::format("{:.4f}", ctx.link->quality->precision), "linkage precision (vs truth)");
  if (ctx.link && ctx.link->quality) card(fmt::format("{:.4f}", ctx.link->quality->recall), "linkage recall (vs truth)");
  body += "</div><p>Every record below arrived pseudonymised at source: NHS numbers were replaced by keyed "
          "pseudonyms inside each custodian, and names, dates of birth, postcodes and local identifiers never "
          "entered the Ark. Counts of people follow OpenSAFELY's disclosure rules: any count of 7 or less is "
          "shown as [REDACTED], all others are rounded to the nearest 5, and rates are computed from the "
          "rounded counts.</p></section>";

  // --- Region profile.
  std::vector<std::string> bands;
  std::vector<std::optional<double>> male, female;
  OJson pyr = OJson::array();
  for (int b = 0; b < 19; ++b) {
    bands.push_back(b == 18 ? "90+" : fmt::format("{}-{}", b * 5, b * 5 + 4));
    Opt m = Pub(f.pyramid[b][0]), w = Pub(f.pyramid[b][1]);
    male.push_back(D(m));
    female.push_back(D(w));
    pyr.push_back({{"band", bands.back()}, {"male", J(m)}, {"female", J(w)}});
  }
  const Opt pop = Pub(f.population), ex_o = Pub(f.excluded_optout), ex_u = Pub(f.excluded_unknown);
  body += fmt::format("<section><h2>The region's people on 1 July {}</h2><p>Population counted for planning: <b>{}</b> "
                      "people alive on that date. Excluded, as the national data opt-out requires: <b>{}</b> people who "
                      "opted out and <b>{}</b> whose opt-out status cannot be confirmed because their records carry no "
                      "valid NHS number (opt-outs fail closed).</p><div class=row>",
                      f.ref_year, ShowN(pop), ShowN(ex_o), ShowN(ex_u));
  body += svg::Pyramid(bands, male, female, {.title = "Age and sex (5-year bands)", .width = 460, .height = 360});
  std::vector<std::string> deciles;
  std::vector<std::optional<double>> dec_v;
  OJson dec_j = OJson::object();
  for (int d = 1; d <= 10; ++d) {
    deciles.push_back(std::to_string(d));
    Opt v = Pub(f.by_decile[d]);
    dec_v.push_back(D(v));
    dec_j[std::to_string(d)] = J(v);
  }
  body += svg::BarChart(deciles, {{"people", dec_v, ""}},
                        {.title = "People by deprivation decile (1 = most deprived)", .y_label = "people", .width = 460, .height = 360});
  body += "</div></section>";
  out["population"] = J(pop);
  out["excluded_opted_out"] = J(ex_o);
  out["excluded_optout_unknown"] = J(ex_u);
  out["age_sex"] = pyr;
  out["people_by_imd_decile"] = dec_j;

  // --- Data volume.
  const int y_lo = f.first_year, y_hi = f.ref_year;
  std::vector<std::string> years;
  for (int y = y_lo; y <= y_hi; ++y) years.push_back(std::to_string(y));
  std::vector<svg::Series> vol;
  std::vector<std::vector<std::string>> vol_rows;
  OJson vol_j = OJson::object();
  for (auto& [src, ys] : f.volume) {
    svg::Series s{src.empty() ? "(appended)" : src, {}, ""};
    std::vector<std::string> row = {s.name};
    int64_t total = 0;
    for (int y = y_lo; y <= y_hi; ++y) {
      auto it = ys.find(y);
      const int64_t n = it == ys.end() ? 0 : it->second;
      s.values.push_back(static_cast<double>(n));
      row.push_back(std::to_string(n));
      vol_j[s.name][std::to_string(y)] = n;
    }
    for (auto& [y, n] : ys) if (y >= y_lo && y <= y_hi) total += n;
    row.push_back(std::to_string(total));
    vol_rows.push_back(row);
    vol.push_back(std::move(s));
  }
  std::vector<std::string> vol_head = {"custodian"};
  vol_head.insert(vol_head.end(), years.begin(), years.end());
  vol_head.push_back(fmt::format("{}-{}", y_lo, y_hi));
  body += fmt::format("<section><h2>Data volume by custodian and year</h2><p>Events on the linked timelines, by the "
                      "custodian that sent them and the year they happened, {}–{} (these count records, not people; "
                      "registration events reach further back, to when people first registered with a practice).</p>",
                      y_lo, y_hi);
  body += svg::LineChart(years, vol, {.title = "Events per year by custodian", .y_label = "events", .width = 760, .height = 300});
  body += Table(vol_head, vol_rows) + "</section>";
  out["events_by_custodian_year"] = vol_j;

  // --- Linkage.
  body += "<section><h2>Linkage</h2><p>Records are joined into one timeline per person by the pseudonym of "
          "their NHS number. Records without a valid NHS number cannot be linked this way yet: each keeps a "
          "timeline of its own, and probabilistic linkage on privacy-preserving encodings resolves them later. "
          "Missing NHS numbers are not random: the table by deprivation shows who is left out.</p>";
  if (ctx.link) {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> names;
    std::vector<std::optional<double>> rates;
    OJson lj = OJson::object();
    // Before (by NHS number alone) and after probabilistic linkage, the same way in both tables.
    const bool pprl = ctx.link->pprl.has_value();
    std::vector<std::optional<double>> before_c, after_c;
    for (auto& [feed, c] : ctx.link->feeds) {
      const Opt n = Pub(static_cast<int64_t>(c.records));
      const Opt by_nhs = Pub(static_cast<int64_t>(c.records - std::min(c.records, c.missing_nhs + c.invalid_nhs)));
      const Opt after = Pub(static_cast<int64_t>(c.linked));
      const auto rb = sdc::PublishRate(by_nhs, n, 100), ra = sdc::PublishRate(after, n, 100);
      std::vector<std::string> row = {feed, ShowN(n), ShowN(Pub(static_cast<int64_t>(c.missing_nhs))),
                                      ShowN(Pub(static_cast<int64_t>(c.invalid_nhs))),
                                      rb ? fmt::format("{:.1f}%", *rb) : "[REDACTED]"};
      if (pprl) row.push_back(ra ? fmt::format("{:.1f}%", *ra) : "[REDACTED]");
      rows.push_back(row);
      names.push_back(feed);
      before_c.push_back(rb);
      after_c.push_back(ra);
      lj[feed] = {{"records", J(n)}, {"linked_by_nhs_number_pct", rb ? OJson(*rb) : OJson("[REDACTED]")},
                  {"linked_after_pprl_pct", ra ? OJson(*ra) : OJson("[REDACTED]")}};
    }
    std::vector<svg::Series> cs{{"by NHS number", before_c, ""}};
    if (pprl) cs.push_back({"after probabilistic linkage", after_c, ""});
    body += "<div class=row>" + svg::BarChart(names, cs,
                                              {.title = "Records linked, by custodian (%)", .y_label = "% linked", .width = 520, .height = 300, .decimals = 1});
    std::vector<std::optional<double>> drate, darate;
    std::vector<std::vector<std::string>> drows;
    OJson dj = OJson::object();
    for (int d = 1; d <= 10; ++d) {
      Opt n = Pub(f.link_records[d]), k = Pub(f.link_linked[d]), a = Pub(f.link_after[d]);
      auto r = sdc::PublishRate(k, n, 100), ra = sdc::PublishRate(a, n, 100);
      drate.push_back(r);
      darate.push_back(ra);
      std::vector<std::string> row = {std::to_string(d), ShowN(n), r ? fmt::format("{:.1f}%", *r) : "[REDACTED]"};
      if (pprl) row.push_back(ra ? fmt::format("{:.1f}%", *ra) : "[REDACTED]");
      drows.push_back(row);
      dj[std::to_string(d)] = {{"records", J(n)}, {"linked_by_nhs_number_pct", r ? OJson(*r) : OJson("[REDACTED]")},
                               {"linked_after_pprl_pct", ra ? OJson(*ra) : OJson("[REDACTED]")}};
    }
    std::vector<svg::Series> ds{{"by NHS number", drate, ""}};
    if (pprl) ds.push_back({"after probabilistic linkage", darate, ""});
    body += svg::BarChart(deciles, ds,
                          {.title = "Records linked, by deprivation decile (%)", .y_label = "% linked", .width = 520, .height = 300, .decimals = 1});
    std::vector<std::string> ch = {"custodian", "records", "NHS number missing", "NHS number invalid", "linked by NHS number"};
    std::vector<std::string> dh = {"deprivation decile", "records", "linked by NHS number"};
    if (pprl) {
      ch.push_back("linked after probabilistic linkage");
      dh.push_back("linked after probabilistic linkage");
    }
    body += "</div>" + Table(ch, rows) + Table(dh, drows);
    auto gap = [](const std::vector<std::optional<double>>& v) {
      return v.size() == 10 && v[0] && v[9] ? fmt::format("{:.1f}", *v[9] - *v[0]) : std::string("[REDACTED]");
    };
    body += "<p>The least deprived tenth of the region has <b>" + gap(drate) +
            "</b> percentage points more of its records linked by NHS number than the most deprived tenth" +
            (pprl ? "; after probabilistic linkage the gap is <b>" + gap(darate) + "</b> points" : std::string()) + ".</p>";
    if (ctx.link->quality) {
      const auto& q = *ctx.link->quality;
      body += fmt::format("<p>Against the synthetic region's ground truth (which never enters the Ark): pairwise "
                          "precision <b>{:.4f}</b>, recall <b>{:.4f}</b>, F1 <b>{:.4f}</b>; {} true people, {} person "
                          "keys found (rounded).</p>", q.precision, q.recall, q.f1, ShowN(Pub(static_cast<int64_t>(q.true_persons))),
                          ShowN(Pub(static_cast<int64_t>(q.found_persons))));
      out["link_quality"] = {{"precision", q.precision}, {"recall", q.recall}, {"f1", q.f1}};
    }
    out["linkage_by_custodian"] = lj;
    out["linkage_by_imd_decile"] = dj;
    if (ctx.link->pprl) body += PprlHtml(*ctx.link, &out);
  }
  body += "</section>";

  // --- Emergency admissions.
  std::vector<svg::Series> adm_series;
  std::vector<std::vector<std::string>> adm_rows;
  OJson adm_j = OJson::array();
  std::vector<std::optional<double>> all_rate;
  for (int d = 1; d <= 10; ++d) {
    int64_t n = 0, p = 0;
    for (int a = 0; a < 5; ++a) { n += f.adm[d][a]; p += f.den[d][a]; }
    all_rate.push_back(sdc::PublishRate(Pub(n), Pub(p), 1000));
  }
  for (int a = 0; a < 5; ++a) {
    svg::Series s{kAgeBands[a], {}, ""};
    for (int d = 1; d <= 10; ++d) {
      Opt n = Pub(f.adm[d][a]), p = Pub(f.den[d][a]);
      auto r = sdc::PublishRate(n, p, 1000);
      s.values.push_back(r);
      adm_rows.push_back({std::to_string(d), kAgeBands[a], ShowN(n), ShowN(p), r ? fmt::format("{:.1f}", *r) : "[REDACTED]"});
      adm_j.push_back({{"imd_decile", d}, {"age_band", kAgeBands[a]}, {"admissions", J(n)}, {"population", J(p)},
                       {"per_1000", r ? OJson(*r) : OJson("[REDACTED]")}});
    }
    adm_series.push_back(std::move(s));
  }
  body += fmt::format("<section><h2>Emergency admissions per 1,000 people, {}</h2><p>Emergency admissions (admission "
                      "methods 21–28) during {} among people registered with a GP practice on 1 July {}, by the "
                      "deprivation decile of where they live (1 = most deprived) and by age. The gradient is the point: "
                      "the most deprived areas carry the most emergency care.</p><div class=row>",
                      f.ref_year, f.ref_year, f.ref_year);
  body += svg::BarChart(deciles, {{"all ages", all_rate, ""}},
                        {.title = "All ages, by deprivation decile", .y_label = "per 1,000", .width = 460, .height = 300, .decimals = 1});
  body += svg::BarChart(deciles, adm_series,
                        {.title = "By age band and deprivation decile", .y_label = "per 1,000", .width = 560, .height = 300, .decimals = 1, .ordered = true});
  body += "</div><details><summary>Table (counts after disclosure control)</summary>" +
          Table({"deprivation decile", "age band", "admissions", "registered people", "per 1,000"}, adm_rows) + "</details></section>";
  out["emergency_admissions"] = {{"year", f.ref_year}, {"cells", adm_j}};

  // --- Practices and small areas.
  body += NeedSectionHtml(f.need, *store->dicts(), f.ref_year, &out);

  // --- Pipeline.
  if (!ctx.steps.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (auto& [name, s] : ctx.steps) rows.push_back({name, fmt::format("{:.2f} s", s)});
    body += "<section><h2>How this report was made</h2><p>Each step of the pipeline, as a custodian and an Ark "
            "engineer would run it, with the time it took on this machine.</p>" + Table({"step", "time"}, rows) + "</section>";
  }

  const std::string html = fmt::format(R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{0}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; line-height: 1.45; padding: 0 1rem; }}
h1 {{ font-size: 1.6rem; margin-bottom: .2rem; }} h2 {{ font-size: 1.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2rem; }}
.cards {{ display: flex; gap: .8rem; flex-wrap: wrap; }} .card {{ background: #f4f7f9; border-radius: 6px; padding: .6rem 1rem; min-width: 140px; }}
.card b {{ display: block; font-size: 1.3rem; }} .card span {{ color: #555; font-size: .85rem; }}
.row {{ display: flex; gap: 1rem; flex-wrap: wrap; align-items: flex-start; }}
table {{ border-collapse: collapse; margin: .8rem 0; font-size: .85rem; }} th, td {{ border: 1px solid #ddd; padding: .2rem .5rem; text-align: right; }}
nav.toc {{ background: #f4f7f9; border-radius: 6px; padding: .5rem 1rem; margin: 1rem 0; columns: 2; }} nav.toc ol {{ margin: .3rem 0; }}
svg {{ max-width: 100%; height: auto; }}
figure.tiles {{ margin: 0; }} figcaption {{ color: #555; font-size: .85rem; max-width: 760px; }}
th {{ background: #f4f7f9; }} td:first-child, th:first-child {{ text-align: left; }} table.text td, table.text th {{ text-align: left; }} .muted {{ color: #666; }}
</style></head><body>
<h1>{0}</h1><p class=muted>Generated {1} from the Ark at <code>{2}</code>. All data are synthetic.</p>
{3}
</body></html>
)", svg::Escape(ctx.title), UtcNow(), svg::Escape(ctx.ark_dir), body);
  ARK_RETURN_IF_ERROR(WriteFileAtomic(html_path, html));
  return out;
}

std::string PprlClusteringHtml(const PprlStats& p, OJson* out) { return ClusteringHtml(p, out); }

}  // namespace ark
