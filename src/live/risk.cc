#include "live/risk.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "clinical/readmission.h"
#include "live/ingestor.h"
#include "study/codes.h"

namespace ark::live {
namespace {

constexpr size_t kSamples = 10000;

Seconds WhenOf(const PseudoRecord& r, Seconds preferred) {
  if (preferred != kNoTime) return preferred;
  if (r.event_time != kNoTime) return r.event_time;
  if (r.message_time != kNoTime) return r.message_time;
  return r.received_us / 1000000;
}

nlohmann::json Quantiles(std::deque<double> v) {
  if (v.empty()) return {{"p50", nullptr}, {"p99", nullptr}, {"max", nullptr}};
  std::sort(v.begin(), v.end());
  auto q = [&](double p) { return v[std::min(v.size() - 1, static_cast<size_t>(std::ceil(p * v.size())) - (p > 0 ? 1 : 0))] / 1000; };
  return {{"p50", q(0.5)}, {"p99", q(0.99)}, {"max", v.back() / 1000}};
}

void Keep(std::deque<double>* d, double v) {
  d->push_back(v);
  if (d->size() > kSamples) d->pop_front();
}

}  // namespace

std::vector<std::pair<std::string, Seconds>> LiveCodes(const PseudoRecord& r) {
  std::vector<std::pair<std::string, Seconds>> out;
  for (const AppendEvent& e : StoreEvents(r)) out.emplace_back(e.code, e.time);
  using K = LiveRecord::Kind;
  if (r.kind == K::kRegister && (r.patient_class == "E" || r.patient_class.empty()))
    out.emplace_back("AE/attendance", WhenOf(r, r.admit_time));
  if (r.kind == K::kAdmit) {
    const std::string& t = r.admission_type;
    const bool method = t.size() == 2 && t[0] == '2' && std::isdigit(static_cast<unsigned char>(t[1]));
    if (method && t[1] != '9') {
      out.emplace_back("ADMIMETH/" + t, WhenOf(r, r.admit_time));
    } else if ((clinical::IsEmergencyAdmissionType(t) || r.patient_class == "E") && !clinical::ExcludedSpecialty(r.specialty)) {
      out.emplace_back(r.patient_class == "E" ? "ADMIMETH/21" : "ADMIMETH/28", WhenOf(r, r.admit_time));
    }
  }
  return out;
}

Result<std::unique_ptr<LiveRisk>> LiveRisk::Create(stats::Scorer scorer, std::vector<FeatureUpdate> updates,
                                                   RiskBaseline baseline, RuleSet rules, Metrics* metrics) {
  std::unique_ptr<LiveRisk> r(new LiveRisk());
  const size_t cols = scorer.features.size();
  if (baseline.x.cols != cols || baseline.x.values.size() != baseline.x.rows * cols ||
      baseline.persons.size() != baseline.x.rows || baseline.practice.size() != baseline.x.rows)
    return Status::InvalidArgument("live risk: the baseline's rows do not have the model's " + std::to_string(cols) + " features");
  for (const FeatureUpdate& u : updates)
    if (u.feature >= cols) return Status::InvalidArgument("live risk: feature index " + std::to_string(u.feature) + " out of range");
  if (scorer.type == "gbt") {
    ARK_ASSIGN_OR_RETURN(stats::GbtPredictor p, stats::GbtPredictor::Load(scorer.gbt, cols));
    r->gbt_ = std::make_unique<stats::GbtPredictor>(std::move(p));
  }
  r->scorer_ = std::move(scorer);
  r->updates_ = std::move(updates);
  r->base_ = std::move(baseline);
  r->rules_ = std::move(rules);
  r->metrics_ = metrics;
  ARK_ASSIGN_OR_RETURN(r->risk_, r->scorer_.Score(r->base_.x, 1));
  r->above_.assign(r->rules_.rules.size(), 0);
  for (double p : r->risk_) {
    r->total_ += p;
    for (size_t i = 0; i < r->rules_.rules.size(); ++i)
      if (r->rules_.rules[i].signal == "risk" && r->rules_.rules[i].Matches(p)) ++r->above_[i];
  }
  r->row_of_.reserve(r->base_.persons.size());
  for (size_t i = 0; i < r->base_.persons.size(); ++i) r->row_of_[r->base_.persons[i]] = i;
  return r;
}

Result<double> LiveRisk::Score(const double* row) const {
  if (gbt_) return gbt_->Predict(row);
  double eta = scorer_.intercept;
  for (size_t j = 0; j < scorer_.features.size(); ++j) eta += scorer_.coefficient[j] * (row[j] - scorer_.mean[j]) / scorer_.sd[j];
  return 1 / (1 + std::exp(-eta));
}

size_t LiveRisk::Update(const PseudoRecord& r, double* before) {
  if (r.person == kNoPerson || r.kind == LiveRecord::Kind::kMerge) return SIZE_MAX;
  const auto it = row_of_.find(r.person);
  if (it == row_of_.end()) return SIZE_MAX;  // not in the baseline: no features to score
  const size_t cols = base_.x.cols;
  double* row = base_.x.values.data() + it->second * cols;
  bool changed = false;
  for (const auto& [code, time] : LiveCodes(r)) {
    const int32_t day = DayOf(time);
    for (const FeatureUpdate& u : updates_) {
      if (day < u.from_day || !study::CodelistMatches(u.codelist, code)) continue;
      double& v = row[u.feature];
      const double nv = u.count ? v + 1 : 1;
      changed = changed || nv != v;
      v = nv;
    }
  }
  if (!changed) return SIZE_MAX;
  auto p = Score(row);
  if (!p.ok()) return SIZE_MAX;  // the row was scored at the start; a failure here is not expected
  *before = risk_[it->second];
  risk_[it->second] = *p;
  total_ += *p - *before;
  for (size_t i = 0; i < rules_.rules.size(); ++i) {
    if (rules_.rules[i].signal != "risk") continue;
    above_[i] += rules_.rules[i].Matches(*p) ? 1 : 0;
    above_[i] -= rules_.rules[i].Matches(*before) ? 1 : 0;
  }
  return it->second;
}

std::vector<Alert> LiveRisk::Replay(const PseudoRecord& r) {
  double before = 0;
  const size_t at = Update(r, &before);
  if (at == SIZE_MAX) return {};
  ++replayed_;
  return Crossed(r, at, before);
}

std::vector<Alert> LiveRisk::Crossed(const PseudoRecord& r, size_t at, double before) const {
  const double* p = &risk_[at];
  std::vector<Alert> out;
  for (size_t i = 0; i < rules_.rules.size(); ++i) {
    const AlertRule& rule = rules_.rules[i];
    if (rule.signal != "risk" || !rule.Matches(*p) || rule.Matches(before)) continue;
    Alert a;
    a.id = r.seq * 64 + i;
    a.rule = rule.name;
    a.signal = "risk";
    a.severity = rule.severity;
    a.value = *p;
    a.person = r.person;
    a.practice = base_.practice[at];
    a.site = r.site;
    a.ward = r.ward;
    a.message_type = r.message_type;
    a.control_id = r.control_id;
    a.event_time = r.event_time;
    a.received_us = r.received_us;
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<Alert> LiveRisk::Apply(const PseudoRecord& r) {
  if (r.person == kNoPerson || r.kind == LiveRecord::Kind::kMerge || !row_of_.count(r.person)) return {};
  const int64_t t0 = NowMicros();
  ++events_;
  double before = 0;
  const size_t at = Update(r, &before);
  if (at == SIZE_MAX) return {};
  ++rescored_;
  const int64_t t1 = NowMicros();
  Keep(&rescore_us_, static_cast<double>(t1 - t0));
  if (metrics_) metrics_->risk_rescore.Observe((t1 - t0) / 1e6);
  if (r.received_us > 0) {
    Keep(&receipt_us_, static_cast<double>(t1 - r.received_us));
    if (metrics_) metrics_->risk_from_receipt.Observe((t1 - r.received_us) / 1e6);
  }
  std::vector<Alert> out = Crossed(r, at, before);
  alerts_ += out.size();
  return out;
}

Result<double> LiveRisk::RiskOf(PersonKey p) const {
  const auto it = row_of_.find(p);
  if (it == row_of_.end()) return Status::NotFound("person " + std::to_string(p) + " is not in the live risk baseline");
  return risk_[it->second];
}

std::string LiveRisk::Json() const {
  nlohmann::json live = nlohmann::json::array();
  for (const FeatureUpdate& u : updates_) live.push_back(scorer_.features[u.feature]);
  nlohmann::json above = nlohmann::json::object();
  for (size_t i = 0; i < rules_.rules.size(); ++i)
    if (rules_.rules[i].signal == "risk") above[rules_.rules[i].name] = above_[i];
  nlohmann::json j = {{"model", scorer_.type},
                      {"baseline_date", base_.date},
                      {"persons", base_.persons.size()},
                      {"features_live", live},
                      {"events", events_},
                      {"rescored", rescored_},
                      {"alerts", alerts_},
                      {"replayed", replayed_},
                      {"risk_total", total_},
                      {"at_or_above", above},
                      {"rescore_ms", Quantiles(rescore_us_)},
                      {"from_receipt_ms", Quantiles(receipt_us_)}};
  return j.dump();
}

}  // namespace ark::live
