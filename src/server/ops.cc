#include "server/ops.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>

#include "disclosure/opensafely.h"

namespace ark::server {

using OJson = nlohmann::ordered_json;

bool SeesOperations(const Principal& p) {
  return p.kind == Principal::Kind::kInterim ||
         (p.kind == Principal::Kind::kUser && (p.Has("engineer") || p.Has("admin")));
}

bool SeesExactCounts(const Principal& p) { return p.kind == Principal::Kind::kInterim; }

namespace {

std::optional<int64_t> Published(const OJson& v) {
  if (!v.is_number()) return std::nullopt;
  auto r = sdc::PublishCount(std::max<int64_t>(0, v.get<int64_t>()));
  return r.ok() ? *r : std::nullopt;
}

// Replaces j[key] (a count of people) by its published value (null when redacted).
void Count(OJson& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return;
  const auto p = Published(j[key]);
  j[key] = p ? OJson(*p) : OJson(nullptr);
}

OJson Rate(const OJson& num, const OJson& den) {
  const std::optional<int64_t> n = num.is_number() ? std::optional<int64_t>(num.get<int64_t>()) : std::nullopt;
  const std::optional<int64_t> d = den.is_number() ? std::optional<int64_t>(den.get<int64_t>()) : std::nullopt;
  const auto r = sdc::PublishRate(n, d, 1.0);
  return r ? OJson(*r) : OJson(nullptr);
}

void AeDay(OJson& d) {
  for (const char* k : {"attendances", "completed", "within_4h", "breached", "open"}) Count(d, k);
  if (d.contains("performance")) d["performance"] = Rate(d["within_4h"], d["completed"]);
}

}  // namespace

std::string DiscloseIndicators(const std::string& indicators_json, bool exact) {
  OJson j = OJson::parse(indicators_json, nullptr, false);
  if (!j.is_object()) return indicators_json;
  if (exact) {
    j["disclosure"] = "exact (the clinical reader)";
    return j.dump(-1, ' ', false, OJson::error_handler_t::replace);
  }
  Count(j, "persons");
  if (j.contains("bed_occupancy")) {
    OJson& b = j["bed_occupancy"];
    Count(b, "occupied");
    if (b.contains("by_site") && b["by_site"].is_object()) {
      for (auto& [site, s] : b["by_site"].items()) {
        Count(s, "occupied");
        if (s.contains("wards") && s["wards"].is_object())
          for (auto& [ward, n] : s["wards"].items()) n = Published(n) ? OJson(*Published(n)) : OJson(nullptr);
      }
    }
  }
  if (j.contains("ae_4h")) {
    AeDay(j["ae_4h"]);
    if (j["ae_4h"].contains("by_day"))
      for (auto& d : j["ae_4h"]["by_day"]) AeDay(d);
  }
  if (j.contains("readmissions_30d")) {
    OJson& r = j["readmissions_30d"];
    Count(r, "emergency_admissions");
    Count(r, "readmissions");
    r["rate"] = Rate(r["readmissions"], r["emergency_admissions"]);
    if (r.contains("today")) {
      Count(r["today"], "emergency_admissions");
      Count(r["today"], "readmissions");
    }
  }
  if (j.contains("aki"))
    for (const char* k : {"persons_stage_1", "persons_stage_2", "persons_stage_3"}) Count(j["aki"], k);
  if (j.contains("news2"))
    for (const char* k : {"persons_5_or_more", "persons_7_or_more", "persons_single_3"}) Count(j["news2"], k);
  // Each alert is about one person: alert counts are counts of people too.
  if (j.contains("alerts")) {
    Count(j["alerts"], "total");
    if (j["alerts"].contains("by_rule") && j["alerts"]["by_rule"].is_object())
      for (auto& [rule, n] : j["alerts"]["by_rule"].items()) n = Published(n) ? OJson(*Published(n)) : OJson(nullptr);
  }
  if (j.contains("risk") && j["risk"].is_object()) {
    Count(j["risk"], "persons");
    Count(j["risk"], "alerts");
  }
  j["disclosure"] = "opensafely: counts of people <= 7 redacted (null), others rounded to the nearest 5";
  return j.dump(-1, ' ', false, OJson::error_handler_t::replace);
}

namespace {
void Gauge(std::string* o, const std::string& name, const std::string& help, const std::string& labels,
           const OJson& v, bool head = true) {
  if (head) *o += "# HELP " + name + " " + help + "\n# TYPE " + name + " gauge\n";
  if (!v.is_number()) return;
  *o += name + (labels.empty() ? "" : "{" + labels + "}") + " " + v.dump() + "\n";
}
const OJson& At(const OJson& j, const char* a, const char* b) {
  static const OJson kNull;
  if (!j.contains(a) || !j[a].is_object() || !j[a].contains(b)) return kNull;
  return j[a][b];
}
}  // namespace

std::string ClinicalPrometheus(const std::string& disclosed_json) {
  const OJson j = OJson::parse(disclosed_json, nullptr, false);
  if (!j.is_object()) return "";
  std::string o;
  Gauge(&o, "ark_live_beds_occupied", "Persons in a bed (live, all sites).", "", At(j, "bed_occupancy", "occupied"));
  Gauge(&o, "ark_live_ae_4h_attendances", "A&E attendances on the feed's current day.", "", At(j, "ae_4h", "attendances"));
  Gauge(&o, "ark_live_ae_4h_performance", "Share of today's completed A&E attendances within 4 hours.", "",
        At(j, "ae_4h", "performance"));
  Gauge(&o, "ark_live_ae_4h_open", "A&E attendances open now.", "", At(j, "ae_4h", "open"));
  Gauge(&o, "ark_live_readmissions_30d_rate", "30-day emergency readmissions per emergency admission.", "",
        At(j, "readmissions_30d", "rate"));
  o += "# HELP ark_live_aki_persons Persons by current AKI stage.\n# TYPE ark_live_aki_persons gauge\n";
  for (int s = 1; s <= 3; ++s)
    Gauge(&o, "ark_live_aki_persons", "", "stage=\"" + std::to_string(s) + "\"",
          At(j, "aki", ("persons_stage_" + std::to_string(s)).c_str()), false);
  o += "# HELP ark_live_news2_persons Persons by latest NEWS2 score.\n# TYPE ark_live_news2_persons gauge\n";
  Gauge(&o, "ark_live_news2_persons", "", "score=\"5_or_more\"", At(j, "news2", "persons_5_or_more"), false);
  Gauge(&o, "ark_live_news2_persons", "", "score=\"7_or_more\"", At(j, "news2", "persons_7_or_more"), false);
  Gauge(&o, "ark_live_news2_persons", "", "score=\"single_3\"", At(j, "news2", "persons_single_3"), false);
  return o;
}

namespace {
OJson HistogramJson(const live::Histogram& h) {
  const auto counts = h.Counts();
  const auto& bounds = h.bounds();
  OJson buckets = OJson::array();
  for (size_t i = 0; i < counts.size(); ++i)
    buckets.push_back({{"le", i < bounds.size() ? OJson(bounds[i]) : OJson(nullptr)}, {"count", counts[i]}});
  auto q = [&](double p) { const double v = h.Quantile(p); return h.count() == 0 || !std::isfinite(v) ? OJson(nullptr) : OJson(v); };
  return {{"count", h.count()}, {"sum_seconds", h.sum_seconds()}, {"p50_seconds", q(0.5)}, {"p95_seconds", q(0.95)},
          {"buckets", buckets}};
}
}  // namespace

std::string LatencyJson(const live::Metrics& m) {
  OJson j = {{"from_receipt", HistogramJson(m.action_receipt)}, {"from_event", HistogramJson(m.action_event)}};
  return j.dump();
}

}  // namespace ark::server
