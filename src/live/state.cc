#include "live/state.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "clinical/news2.h"
#include "clinical/readmission.h"

namespace ark::live {
namespace {

using nlohmann::json;

constexpr Seconds kFourHours = 4 * 3600;
constexpr Seconds kYear = 365 * kSecondsPerDay;

Seconds When(const PseudoRecord& r, Seconds preferred) {
  if (preferred != kNoTime) return preferred;
  if (r.event_time != kNoTime) return r.event_time;
  return r.message_time;
}

bool IsLoinc(const std::string& s) { return s == "LN" || s == "LOINC" || s == "http://loinc.org"; }

// NEWS2 parameters by LOINC code (or the local codes RR, SPO2, SBP, HR, TEMP, O2).
enum class Vital { kNone, kResp, kSpo2, kSystolic, kPulse, kTemp, kO2Conc, kO2Flow };
Vital VitalOf(const PseudoObs& o) {
  const std::string& c = o.code;
  if (IsLoinc(o.system)) {
    if (c == "9279-1") return Vital::kResp;
    if (c == "59408-5" || c == "2708-6" || c == "20564-1") return Vital::kSpo2;
    if (c == "8480-6") return Vital::kSystolic;
    if (c == "8867-4") return Vital::kPulse;
    if (c == "8310-5" || c == "8331-1" || c == "8332-9" || c == "8328-7") return Vital::kTemp;
    if (c == "3150-0") return Vital::kO2Conc;
    if (c == "3151-8") return Vital::kO2Flow;
    return Vital::kNone;
  }
  if (c == "RR") return Vital::kResp;
  if (c == "SPO2") return Vital::kSpo2;
  if (c == "SBP") return Vital::kSystolic;
  if (c == "HR" || c == "PULSE") return Vital::kPulse;
  if (c == "TEMP") return Vital::kTemp;
  if (c == "O2") return Vital::kO2Flow;
  return Vital::kNone;
}

std::string Label(const std::string& s) { return s.empty() ? "unknown" : s; }

}  // namespace

std::string AlertJson(const Alert& a) {
  json j = {
      {"id", a.id},
      {"rule", a.rule},
      {"signal", a.signal},
      {"severity", a.severity},
      {"value", a.value},
      {"person", a.person},
      {"site", a.site},
      {"ward", a.ward},
      {"message_type", a.message_type},
      {"control_id", a.control_id},
      {"event_time", a.event_time == kNoTime ? json(nullptr) : json(FormatTime(a.event_time))},
      {"received_us", a.received_us},
      {"emitted_us", a.emitted_us}};
  if (!a.practice.empty()) j["practice"] = a.practice;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);  // never throws on bad UTF-8
}

void LiveState::Leave(PersonState& p) {
  if (!p.in_bed) return;
  auto& n = beds_[Label(p.place.site)][Label(p.place.ward)];
  if (--n <= 0) {
    beds_[Label(p.place.site)].erase(Label(p.place.ward));
    if (beds_[Label(p.place.site)].empty()) beds_.erase(Label(p.place.site));
  }
  p.in_bed = false;
}

void LiveState::Enter(PersonState& p, const Place& place) {
  Leave(p);
  p.place = place;
  p.in_bed = true;
  ++beds_[Label(place.site)][Label(place.ward)];
}

void LiveState::CloseAttendance(PersonState& p, Seconds t) {
  if (p.ae_arrival == kNoTime) return;
  DayAe& d = ae_days_[DayOf(p.ae_arrival)];
  const bool breach = t - p.ae_arrival > kFourHours;
  (breach ? d.breached : d.within) += 1;
  signals_.push_back({"ae_4h_breach", breach ? 1.0 : 0.0});
  p.ae_arrival = kNoTime;
  --ae_open_;
}

void LiveState::SetAki(PersonState& p, int stage) {
  if (p.aki_stage > 0) --aki_persons_[p.aki_stage];
  p.aki_stage = stage;
  if (stage > 0) ++aki_persons_[stage];
}

void LiveState::SetNews(PersonState& p, int score, bool single3) {
  if (p.news2 >= 5) --news2_5_;
  if (p.news2 >= 7) --news2_7_;
  if (p.news2_single3) --news2_single3_;
  p.news2 = score;
  p.news2_single3 = single3;
  if (score >= 5) ++news2_5_;
  if (score >= 7) ++news2_7_;
  if (single3) ++news2_single3_;
}

void LiveState::Merge(PersonKey from, PersonKey into) {
  if (from == into || from == kNoPerson) return;
  auto it = persons_.find(from);
  if (it == persons_.end()) return;
  PersonState old = std::move(it->second);
  persons_.erase(it);
  PersonState& p = persons_[into];
  if (old.in_bed) {
    Place place = old.place;
    Leave(old);
    if (!p.in_bed) Enter(p, place);
  }
  if (old.last_discharge != kNoTime &&
      (p.last_discharge == kNoTime || old.last_discharge > p.last_discharge)) {
    p.last_discharge = old.last_discharge;
  }
  if (old.ae_arrival != kNoTime) {
    if (p.ae_arrival == kNoTime)
      p.ae_arrival = old.ae_arrival;
    else
      --ae_open_;
  }
  p.creatinine.insert(p.creatinine.end(), old.creatinine.begin(), old.creatinine.end());
  std::sort(p.creatinine.begin(), p.creatinine.end(),
            [](auto& a, auto& b) { return a.time < b.time; });
  const int stage = std::max(p.aki_stage, old.aki_stage);
  SetAki(old, 0);
  SetAki(p, stage);
  if (old.news2 >= 0 && p.news2 < 0) {
    const int s = old.news2;
    const bool s3 = old.news2_single3;
    SetNews(old, -1, false);
    SetNews(p, s, s3);
  } else {
    SetNews(old, -1, false);
  }
}

void LiveState::Results(const PseudoRecord& r, PersonState& p) {
  clinical::Vitals v;
  int vitals = 0;
  Seconds vt = kNoTime;
  for (const PseudoObs& o : r.observations) {
    if (std::isnan(o.value)) continue;
    const Seconds t = When(r, o.time);
    const double umol = clinical::CreatinineUmolPerL(o.system, o.code, o.value, o.unit);
    if (!std::isnan(umol)) {
      ++creatinine_results_;
      const clinical::Creatinine c{t, umol};
      const int stage = clinical::AkiStage(p.creatinine, c);
      p.creatinine.insert(std::upper_bound(p.creatinine.begin(), p.creatinine.end(), c,
                                           [](auto& a, auto& b) { return a.time < b.time; }),
                          c);
      const Seconds latest = p.creatinine.back().time;
      while (!p.creatinine.empty() && p.creatinine.front().time < latest - kYear)
        p.creatinine.erase(p.creatinine.begin());
      if (p.creatinine.size() > 256) p.creatinine.erase(p.creatinine.begin());
      if (t >= latest) SetAki(p, stage);
      signals_.push_back({"aki_stage", static_cast<double>(stage)});
      continue;
    }
    switch (VitalOf(o)) {
      case Vital::kResp:
        v.resp_rate = o.value;
        break;
      case Vital::kSpo2:
        v.spo2 = o.value;
        break;
      case Vital::kSystolic:
        v.systolic = o.value;
        break;
      case Vital::kPulse:
        v.pulse = o.value;
        break;
      case Vital::kTemp:
        v.temperature = o.value;
        break;
      case Vital::kO2Conc:
        v.on_oxygen = v.on_oxygen || o.value > 21;
        break;
      case Vital::kO2Flow:
        v.on_oxygen = v.on_oxygen || o.value > 0;
        break;
      case Vital::kNone:
        continue;
    }
    ++vitals;
    vt = t;
  }
  // A set of vital signs: at least three of the physiological parameters.
  if (vitals >= 3) {
    ++news2_sets_;
    const clinical::News2Result n = clinical::News2(v);
    SetNews(p, n.score, n.any_single_3);
    signals_.push_back({"news2_score", static_cast<double>(n.score)});
    signals_.push_back({"news2_any_single_3", n.any_single_3 ? 1.0 : 0.0});
    signals_.push_back({"news2_complete", n.complete ? 1.0 : 0.0});
  }
  (void)vt;
}

std::vector<Alert> LiveState::Apply(const PseudoRecord& r) {
  signals_.clear();
  ++records_;
  const Seconds t = When(r, kNoTime);
  if (t != kNoTime && (clock_ == kNoTime || t > clock_)) clock_ = t;
  using K = LiveRecord::Kind;
  if (r.kind == K::kMerge) {
    Merge(r.merged_person, r.person);
    return {};
  }
  if (r.person == kNoPerson) return {};
  PersonState& p = persons_[r.person];
  const Place place{r.site, r.ward, r.bed};
  switch (r.kind) {
    case K::kAdmit: {
      const Seconds at = When(r, r.admit_time);
      if (p.ae_arrival != kNoTime) CloseAttendance(p, at);  // admitted from A&E
      const bool emergency =
          clinical::IsEmergencyAdmissionType(r.admission_type) || r.patient_class == "E";
      if (emergency && !clinical::ExcludedSpecialty(r.specialty)) {
        ++emergency_admissions_;
        const bool re = clinical::IsReadmission(p.last_discharge, at);
        auto& d = readmit_days_[DayOf(at)];
        ++d.first;
        if (re) {
          ++readmissions_;
          ++d.second;
        }
        signals_.push_back({"emergency_readmission_30d", re ? 1.0 : 0.0});
      }
      Enter(p, place);
      break;
    }
    case K::kTransfer:
      if (!r.ward.empty() || !r.bed.empty()) Enter(p, place);
      break;
    case K::kDischarge: {
      const Seconds at = When(r, r.discharge_time);
      if (p.ae_arrival != kNoTime) CloseAttendance(p, at);
      if (p.in_bed || r.patient_class != "E") p.last_discharge = at;
      Leave(p);
      break;
    }
    case K::kRegister:
      if (r.patient_class == "E" || r.patient_class.empty()) {
        if (p.ae_arrival != kNoTime) CloseAttendance(p, When(r, r.admit_time));
        p.ae_arrival = When(r, r.admit_time);
        if (p.ae_arrival != kNoTime) {
          ++ae_days_[DayOf(p.ae_arrival)].arrivals;
          ++ae_open_;
        }
      }
      break;
    case K::kUpdate:
      if (p.in_bed && (!r.ward.empty() || !r.bed.empty())) Enter(p, place);
      break;
    case K::kResult:
      Results(r, p);
      break;
    case K::kMerge:
      break;
  }
  while (ae_days_.size() > 8) ae_days_.erase(ae_days_.begin());
  while (readmit_days_.size() > 8) readmit_days_.erase(readmit_days_.begin());

  std::vector<Alert> out;
  for (size_t i = 0; i < rules_.rules.size(); ++i) {
    const AlertRule& rule = rules_.rules[i];
    for (const Signal& s : signals_) {
      if (s.name != rule.signal || !rule.Matches(s.value)) continue;
      Alert a;
      a.id = r.seq * 64 + i;
      a.rule = rule.name;
      a.signal = s.name;
      a.severity = rule.severity;
      a.value = s.value;
      a.person = r.person;
      a.site = p.in_bed ? p.place.site : r.site;
      a.ward = p.in_bed ? p.place.ward : r.ward;
      a.message_type = r.message_type;
      a.control_id = r.control_id;
      a.event_time = r.event_time;
      a.received_us = r.received_us;
      ++alerts_;
      ++alerts_by_rule_[rule.name];
      out.push_back(std::move(a));
      break;  // one alert per rule per record
    }
  }
  return out;
}

std::string LiveState::IndicatorsJson() const {
  json j;
  j["as_of"] = clock_ == kNoTime ? json(nullptr) : json(FormatTime(clock_));
  j["records"] = records_;
  j["persons"] = persons_.size();
  json sites = json::object();
  int64_t total = 0;
  for (const auto& [site, wards] : beds_) {
    int64_t st = 0;
    json w = json::object();
    for (const auto& [ward, n] : wards) {
      w[ward] = n;
      st += n;
    }
    sites[site] = {{"occupied", st}, {"wards", w}};
    total += st;
  }
  j["bed_occupancy"] = {{"occupied", total}, {"by_site", sites}};
  const int32_t today = clock_ == kNoTime ? 0 : DayOf(clock_);
  DayAe d;
  if (auto it = ae_days_.find(today); it != ae_days_.end()) d = it->second;
  const uint64_t done = d.within + d.breached;
  j["ae_4h"] = {{"day", clock_ == kNoTime ? json(nullptr) : json(FormatDate(today))},
                {"attendances", d.arrivals},
                {"completed", done},
                {"within_4h", d.within},
                {"breached", d.breached},
                {"open", ae_open_},
                {"performance", done ? json(static_cast<double>(d.within) / done) : json(nullptr)},
                {"standard", 0.95}};
  // The last days kept (up to 8), oldest first: "today" is often just begun, so a reader can
  // show the latest day with completed attendances.
  json by_day = json::array();
  for (const auto& [day, x] : ae_days_) {
    const uint64_t n = x.within + x.breached;
    by_day.push_back({{"day", FormatDate(day)},
                      {"attendances", x.arrivals},
                      {"completed", n},
                      {"within_4h", x.within},
                      {"breached", x.breached},
                      {"performance", n ? json(static_cast<double>(x.within) / n) : json(nullptr)}});
  }
  j["ae_4h"]["by_day"] = std::move(by_day);
  std::pair<uint64_t, uint64_t> rd{0, 0};
  if (auto it = readmit_days_.find(today); it != readmit_days_.end()) rd = it->second;
  j["readmissions_30d"] = {
      {"emergency_admissions", emergency_admissions_},
      {"readmissions", readmissions_},
      {"rate", emergency_admissions_
                   ? json(static_cast<double>(readmissions_) / emergency_admissions_)
                   : json(nullptr)},
      {"today", {{"emergency_admissions", rd.first}, {"readmissions", rd.second}}}};
  j["aki"] = {{"results", creatinine_results_},
              {"persons_stage_1", aki_persons_[1]},
              {"persons_stage_2", aki_persons_[2]},
              {"persons_stage_3", aki_persons_[3]}};
  j["news2"] = {{"observation_sets", news2_sets_},
                {"persons_5_or_more", news2_5_},
                {"persons_7_or_more", news2_7_},
                {"persons_single_3", news2_single3_}};
  j["alerts"] = {{"total", alerts_}, {"by_rule", alerts_by_rule_}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);  // never throws on bad UTF-8
}

}  // namespace ark::live
