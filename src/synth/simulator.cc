// Life course of a synthetic person: birth or presence at the start, long-term conditions,
// moves, practice changes, death; and the helpers that emit rows.
#include "synth/simulator.h"

#include <algorithm>
#include <cmath>

#include "core/time.h"
#include "synth/model.h"

namespace ark::synth {

namespace {
enum OccurrenceKind : uint8_t {
  kMove, kBackgroundAe, kElective, kGpEmergency, kCopd, kFall, kSepsis, kCommunityAki,
  kSocialNeeds, kCarer, kDistrictNursing,
};
struct Occurrence {
  int32_t day;
  uint8_t kind;
};
}  // namespace

void PersonSim::Run(uint32_t index, ShardOutput* out) {
  Init(index);
  SimulateYears();
  Finish(out);
}

void PersonSim::Init(uint32_t index) {
  rng_ = Rng::ForStream(world_.seed(), kPersonStream, index);
  index_ = index;
  risk_day_ = DaysFromCivil(CivilFromDays(world_.end_day()).year, 1, 1);
  risk12_ = -1;
  // Reset per-person state, keeping buffer capacity.
  for (auto* v : {&buf_.gp_patients, &buf_.acute_patients, &buf_.clients, &buf_.social_people, &buf_.deaths}) v->clear();
  buf_.persons.clear(), buf_.gp_events.clear(), buf_.ae.clear(), buf_.spells.clear(), buf_.labs.clear();
  buf_.contacts.clear(), buf_.assessments.clear(), buf_.services.clear(), buf_.episodes.clear();
  residences_.clear(), registrations_.clear(), gp_creatinine_.clear();
  former_family_ = kNoName, name_change_day_ = kNoTime;
  death_minute_ = kNoTime, natural_death_day_ = kNoTime, dead_ = false, death_cause_ = Icd::kX59;
  copd_ = asthma_ = t2dm_ = htn_ = ckd_ = care_home_ = false;
  smoking_ = 0, frailty_ = 0, hba1c_drift_ = 0;
  next_hba1c_ = kNoTime, diabetes_diag_ = kNoTime, diabetes_episode_ = 0;
  busy_until_ = kNoTime, last_acute_ = kNoTime, home_care_row_ = -1, care_home_row_ = -1;
  last_lactate_ = kNoTime;
  seq_ = 0, spells_ = 0, groups_ = 0, open_spell_ = -1;
  open_spell_pathway_ = Pathway::kCount, open_spell_episode_ = 0;
  for (auto& e : episodes_) e = 0;

  const int32_t start = world_.start_day(), end = world_.end_day();
  double age = 0;
  if (rng_.Chance(model::BornInWindowShare(world_.years()))) {
    sex_ = rng_.Chance(0.512) ? 'M' : 'F';
    dob_ = start + static_cast<int32_t>(rng_.Below(static_cast<uint32_t>(end - start + 1)));
    entry_ = dob_;
  } else {
    const RegionProfile& profile = world_.profile();
    model::DrawStartAgeSex(rng_, &age, &sex_, profile.is_default ? nullptr : profile.age_weight.data());
    dob_ = start - 1 - static_cast<int32_t>(age * 365.25);
    entry_ = start;
  }
  name_ = DrawName(sex_, CivilFromDays(dob_).year, rng_);
  uint32_t lsoa = world_.DrawLsoa(rng_);
  residences_.push_back({entry_, lsoa, world_.DrawPostcode(lsoa, rng_)});
  optout_ = rng_.Chance(0.03);
  dup_mrn_ = rng_.Chance(0.005);
  never_registers_ = rng_.Chance(sex_ == 'M' && age >= 18 && age < 40 ? 0.045 : 0.015);
  if (!never_registers_) {
    int32_t from = dob_ + rng_.Range(10, 60);
    if (entry_ == start && from < start) {
      int32_t span = std::min<int32_t>(start - from, 25 * 365);
      from = start - 1 - static_cast<int32_t>(rng_.Below(static_cast<uint32_t>(span)));
    }
    if (from <= end) registrations_.push_back({from, kNoTime, world_.DrawPractice(world_.lsoas()[lsoa].district, rng_)});
  }

  // Long-term conditions at entry.
  age = AgeAt(entry_);
  const int d = Decile();
  if (age >= 16) {
    if (rng_.Chance(model::SmokingPrevalence(age) * model::DepRR(d, 0.15))) smoking_ = 2;
    else if (rng_.Chance(age >= 30 ? 0.25 : 0.06)) smoking_ = 1;
  }
  const double smoke = smoking_ == 2 ? 2.5 : (smoking_ == 1 ? 1.8 : 0.35);
  copd_ = rng_.Chance(model::CopdPrevalence(age) * model::DepRR(d, 0.2) * smoke);
  asthma_ = rng_.Chance(model::AsthmaPrevalence(age) * model::DepRR(d, 0.05));
  t2dm_ = rng_.Chance(model::DiabetesPrevalence(age) * model::DepRR(d, 0.1) * (name_.tradition == 1 ? 2.0 : 1.0));
  htn_ = rng_.Chance(model::HypertensionPrevalence(age) * model::DepRR(d, 0.04));
  ckd_ = rng_.Chance(model::CkdPrevalence(age) * model::DepRR(d, 0.05));

  creat_base_ = age < 16 ? 25 + 3.2 * age : (sex_ == 'M' ? rng_.Normal(84, 11) : rng_.Normal(66, 9));
  creat_base_ += 0.25 * std::max(0.0, age - 50);
  if (ckd_) creat_base_ *= 1.6;
  creat_base_ = std::clamp(creat_base_, 20.0, 260.0);
  sbp_base_ = 112 + 0.45 * std::max(0.0, age - 25) + rng_.Normal(0, 8) + (htn_ ? 12 : 0);
  bmi_base_ = std::clamp(rng_.Normal(27, 4.5) + 0.25 * (5.5 - d), 17.0, 50.0);
  frailty_effect_ = rng_.Normal(0, 0.35);
  if (t2dm_) {
    hba1c_ = std::clamp(rng_.Normal(55, 9) + 0.8 * (5.5 - d), 40.0, 110.0);
    hba1c_drift_ = rng_.Normal(1.5, 2.0);
    next_hba1c_ = entry_ + static_cast<int32_t>(rng_.Below(300));
    diabetes_episode_ = NewEpisode(Pathway::kDiabetes);
  }
}

void PersonSim::SimulateYears() {
  std::vector<Occurrence> occ;
  const int first_year = CivilFromDays(world_.start_day()).year;
  for (int year = first_year; year <= 2025 && !dead_; ++year) {
    const int32_t y0 = DaysFromCivil(year, 1, 1), y1 = DaysFromCivil(year + 1, 1, 1);
    const int32_t t0 = std::max(y0, entry_);
    if (t0 >= y1) continue;
    const double frac = (y1 - t0) / 365.25;
    const double age = AgeAt(t0 + (y1 - t0) / 2);
    UpdateConditions(t0, y1, age);
    const int d = Decile();

    // Natural death: age, sex, deprivation and health.
    const double death_hazard = DeathHazard(age, d);
    if (rng_.Chance(1 - std::exp(-death_hazard * frac))) {
      for (;;) {  // more deaths in winter
        int32_t day = t0 + static_cast<int32_t>(rng_.Below(static_cast<uint32_t>(y1 - t0)));
        double doy = day - y0;
        if (rng_.Uniform() * 1.3 < 1 + 0.3 * std::cos(6.2832 * (doy - 15) / 365.0)) {
          natural_death_day_ = day;
          break;
        }
      }
    }

    GpYear(t0, y1, age);
    if (t2dm_) DiabetesYear(t0, y1);
    SocialCareYear(t0, y1);  // may move the person into a care home: rates after it
    const YearRates rates = Rates(age, d);
    if (t0 == risk_day_) {  // truth: the risk of an emergency admission in the 12 months from here
      risk12_ = EmergencyAdmissionRisk(t0, y1, rates, death_hazard);
    }

    occ.clear();
    auto add = [&](double rate, uint8_t kind) {
      for (int n = rng_.Poisson(rate * frac); n > 0; --n)
        occ.push_back({t0 + static_cast<int32_t>(rng_.Below(static_cast<uint32_t>(y1 - t0))), kind});
    };
    // The order of the calls fixes the random stream: keep it.
    if (rates.move > 0) add(rates.move, kMove);
    add(rates.ae, kBackgroundAe);
    add(rates.elective, kElective);
    add(rates.gp_emergency, kGpEmergency);
    if (rates.copd > 0) add(rates.copd, kCopd);
    if (age >= 65) {
      add(rates.fall, kFall);
      add(rates.community_aki, kCommunityAki);
    }
    add(rates.sepsis, kSepsis);
    if (age >= 18 && !care_home_) {
      add(rates.social_needs, kSocialNeeds);
      if (rates.carer > 0) add(rates.carer, kCarer);
    }
    if (rates.district_nursing > 0) add(rates.district_nursing, kDistrictNursing);
    std::sort(occ.begin(), occ.end(), [](const Occurrence& a, const Occurrence& b) {
      return a.day != b.day ? a.day < b.day : a.kind < b.kind;
    });

    for (const Occurrence& o : occ) {
      if (dead_ || (natural_death_day_ != kNoTime && o.day >= natural_death_day_)) break;
      if (busy_until_ != kNoTime && o.day <= DayOfMinutes(busy_until_)) continue;  // in hospital that day
      switch (o.kind) {
        case kMove: if (!care_home_) Move(o.day, false); break;
        case kBackgroundAe: BackgroundAe(o.day); break;
        case kElective: Elective(o.day); break;
        case kGpEmergency: GpEmergency(o.day); break;
        case kCopd: CopdExacerbation(o.day); break;
        case kFall: Fall(o.day); break;
        case kSepsis: Sepsis(o.day); break;
        case kCommunityAki: CommunityAki(o.day); break;
        case kSocialNeeds: SocialNeeds(o.day); break;
        case kCarer: CarerAssessment(o.day); break;
        case kDistrictNursing: DistrictNursing(o.day, rng_.Range(3, 10)); break;
      }
    }
    if (!dead_ && natural_death_day_ != kNoTime && natural_death_day_ < y1) NaturalDeath(natural_death_day_);
  }
}

PersonSim::YearRates PersonSim::Rates(double age, int d) const {
  YearRates r;
  if (!care_home_) r.move = model::MoveRate(age);
  r.ae = model::AeRate(age) * model::DepRR(d, 0.1);
  r.elective = model::ElectiveRate(age) * model::DepRR(d, -0.02);
  r.gp_emergency = model::GpEmergencyRate(age) * model::DepRR(d, 0.1) * (1 + 0.5 * Conditions());
  if (copd_) r.copd = 1.1 * model::DepRR(d, 0.08) * (smoking_ == 2 ? 1.2 : 1);
  if (age >= 65) {
    const double by_frailty[4] = {0.025, 0.05, 0.10, 0.18};
    r.fall = by_frailty[frailty_] * (1 + (age - 65) / 30) * model::DepRR(d, 0.05) * (care_home_ ? 1.5 : 1);
    r.community_aki = (ckd_ ? 0.006 : 0.002) * model::DepRR(d, 0.06);
  }
  r.sepsis = model::SepsisRate(age) * model::DepRR(d, 0.1) * (t2dm_ ? 1.5 : 1) * (copd_ ? 1.5 : 1) *
             (care_home_ ? 2 : 1) * (1 + 0.3 * frailty_);
  if (age >= 18 && !care_home_) {
    r.social_needs = model::SocialNeedsRate(age) * (1 + 0.6 * frailty_) * model::DepRR(d, 0.06);
    if (age >= 35 && age < 85) r.carer = 0.004;
  }
  if (!care_home_ && (age >= 80 || frailty_ == 3)) r.district_nursing = frailty_ == 3 ? 0.25 : 0.08;
  return r;
}

double PersonSim::DeathHazard(double age, int d) const {
  const double risk = model::DepRR(d, 0.09) * (copd_ ? 1.8 : 1) * (t2dm_ ? 1.3 : 1) * (ckd_ ? 1.3 : 1) *
                      (smoking_ == 2 && age > 40 ? 1.5 : 1) * (care_home_ ? 1.8 : 1) *
                      (frailty_ == 1 ? 1.3 : frailty_ == 2 ? 1.8 : frailty_ == 3 ? 2.6 : 1) / 2.4;
  return model::Mortality(age, sex_) * risk;
}

void PersonSim::UpdateConditions(int32_t from, int32_t to, double age) {
  const int d = Decile();
  const double frac = (to - from) / 365.25;
  auto onset = [&](bool* flag, double (*prev)(double), double rr, Gp code) {
    if (*flag || !rng_.Chance(model::Incidence(prev, age) * rr * frac)) return kNoTime;
    *flag = true;
    int32_t day = from + static_cast<int32_t>(rng_.Below(static_cast<uint32_t>(to - from)));
    GpEvent(day, code);
    return day;
  };
  const double smoke = smoking_ == 2 ? 2.5 : (smoking_ == 1 ? 1.8 : 0.35);
  onset(&copd_, model::CopdPrevalence, model::DepRR(d, 0.2) * smoke, Gp::kCopd);
  onset(&htn_, model::HypertensionPrevalence, model::DepRR(d, 0.04), Gp::kHypertension);
  if (onset(&ckd_, model::CkdPrevalence, model::DepRR(d, 0.05), Gp::kCkd3) != kNoTime) creat_base_ *= 1.5;
  int32_t diag = onset(&t2dm_, model::DiabetesPrevalence, model::DepRR(d, 0.1) * (name_.tradition == 1 ? 2 : 1),
                       Gp::kType2Diabetes);
  if (diag != kNoTime) {
    hba1c_ = std::clamp(rng_.Normal(62, 10) + 0.8 * (5.5 - d), 48.0, 120.0);
    hba1c_drift_ = rng_.Normal(-4, 3);  // falls after diagnosis and treatment
    diabetes_diag_ = diag;
    next_hba1c_ = diag + rng_.Range(60, 120);
    diabetes_episode_ = NewEpisode(Pathway::kDiabetes);
    Step(Pathway::kDiabetes, diabetes_episode_, Minutes(diag, 9, 17), "diabetes_diagnosed");
    GpEvent(diag, Gp::kHba1c, static_cast<int32_t>(std::lround(hba1c_)) * 10);
  }
  if (smoking_ == 2 && rng_.Chance(0.05 * frac)) smoking_ = 1;
  if (age >= 65) {
    double score = (age - 65) / 22 + 0.22 * Conditions() + 0.05 * (5.5 - d) + frailty_effect_ + (care_home_ ? 0.6 : 0);
    frailty_ = std::max(frailty_, score < 0.55 ? 0 : score < 1.0 ? 1 : score < 1.45 ? 2 : 3);
  }
  if (sex_ == 'F' && former_family_ == kNoName && age >= 20 && age < 42 && rng_.Chance(0.012 * frac)) {
    former_family_ = name_.family;
    name_.family = DrawFamilyName(name_.tradition, sex_, rng_);
    name_change_day_ = from + static_cast<int32_t>(rng_.Below(static_cast<uint32_t>(to - from)));
  }
}

const PersonSim::Residence& PersonSim::ResidenceAt(int32_t day) const {
  const Residence* r = &residences_.front();
  for (const Residence& x : residences_)
    if (x.day <= day) r = &x;
  return *r;
}

int PersonSim::Decile() const { return world_.lsoas()[residences_.back().lsoa].imd_decile; }

int32_t PersonSim::Minutes(int32_t day, int hour_lo, int hour_hi) {
  return MinutesOfDay(day) + rng_.Range(hour_lo * 60, hour_hi * 60 - 1);
}

int32_t PersonSim::Weekday(int32_t day) {
  int wd = ((day + 3) % 7 + 7) % 7;  // 0 = Monday (1970-01-01 was a Thursday)
  if (wd == 5) return day + 2;
  if (wd == 6) return day + 1;
  return day;
}

bool PersonSim::IsWinter(int32_t day) const {
  unsigned m = CivilFromDays(day).month;
  return m == 12 || m <= 2;
}

void PersonSim::Move(int32_t day, bool to_care_home) {
  const Residence cur = ResidenceAt(day);
  uint32_t lsoa;
  if (to_care_home) {
    const auto& local = world_.districts()[world_.lsoas()[cur.lsoa].district].lsoas;
    lsoa = local[rng_.Below(static_cast<uint32_t>(local.size()))];
  } else {
    lsoa = world_.DrawMove(cur.lsoa, rng_);
  }
  Residence next{day, lsoa, world_.DrawPostcode(lsoa, rng_)};
  auto at = std::upper_bound(residences_.begin(), residences_.end(), day,
                             [](int32_t d, const Residence& r) { return d < r.day; });
  residences_.insert(at, next);
  if (registrations_.empty() || registrations_.back().to != kNoTime || registrations_.back().from >= day) return;
  const uint16_t district = world_.lsoas()[lsoa].district;
  const bool moved_away = world_.practices()[registrations_.back().practice].district != district;
  const double p = to_care_home ? 0.3 : (moved_away ? 0.85 : 0.06);
  if (registrations_.size() < kMaxRegistrations && rng_.Chance(p)) {
    registrations_.back().to = day;
    registrations_.push_back({day, kNoTime, world_.DrawPractice(district, rng_)});
  }
}

void PersonSim::NaturalDeath(int32_t day) {
  const Icd cause = DrawCause(day);
  const int32_t minute = Minutes(day, 0, 24);
  if (busy_until_ != kNoTime && busy_until_ > minute) {
    Die(minute, cause);  // dies during a stay: the spell ends in death
    return;
  }
  if (rng_.Chance(TerminalAdmissionProbability())) {
    TerminalAdmission(day, cause);
    return;
  }
  Die(minute, cause);
}

void PersonSim::Die(int32_t minute, Icd cause) {
  if (dead_) return;
  dead_ = true;
  death_minute_ = minute;
  death_cause_ = cause;
  const int32_t day = DayOfMinutes(minute);
  if (!registrations_.empty() && registrations_.back().to == kNoTime && registrations_.back().from <= day)
    registrations_.back().to = day + rng_.Range(1, 21);  // deduction follows the death
  if (open_spell_ >= 0) {
    SpellRow& s = buf_.spells[static_cast<size_t>(open_spell_)];
    if (s.admitted <= minute && (s.discharged == kNoTime || s.discharged > minute)) {
      s.discharged = minute;
      s.dest = DischargeDest::kDied;
      busy_until_ = minute;
      if (open_spell_pathway_ != Pathway::kCount) Step(open_spell_pathway_, open_spell_episode_, minute, "died");
    }
  }
}

Icd PersonSim::DrawCause(int32_t day) {
  const double age = AgeAt(day);
  if (age < 1) return Icd::kP073;
  if (copd_ && rng_.Chance(0.35)) return Icd::kJ449;
  if (age < 40) return rng_.Chance(0.6) ? Icd::kX59 : (rng_.Chance(0.5) ? Icd::kG409 : Icd::kI219);
  const bool old = age >= 75;
  const Icd causes[] = {Icd::kI219, Icd::kI251, Icd::kI639, Icd::kC349, Icd::kC189, Icd::kC509, Icd::kC61,
                        Icd::kF03,  Icd::kG309, Icd::kJ189, Icd::kI509, Icd::kE119, Icd::kN183, Icd::kW19,
                        Icd::kX59};
  const double weights[] = {0.10, 0.11, 0.07, 0.07 * (smoking_ ? 2 : 1), 0.04, sex_ == 'F' ? 0.05 : 0,
                            sex_ == 'M' ? 0.05 : 0, old ? 0.11 : 0.01, old ? 0.05 : 0.005, 0.06, 0.05,
                            t2dm_ ? 0.06 : 0.005, ckd_ ? 0.05 : 0.002, old ? 0.015 : 0.002, 0.02};
  return causes[rng_.Weighted(weights)];
}

// ---- emitters ----

void PersonSim::GpEvent(int32_t day, Gp code, int32_t value10) {
  buf_.gp_events.push_back({day, index_, seq_++, 0, code, value10});
}

void PersonSim::GpCreatinine(int32_t day, double value) {
  GpEvent(day, Gp::kCreatinine, static_cast<int32_t>(std::lround(value)) * 10);
  const int32_t minute = Minutes(day, 9, 16);
  LabResult(minute, Lab::kCreatinine, value, kNoSpell, 0);  // GP bloods go to the trust's lab
  gp_creatinine_.push_back(minute);
}

void PersonSim::LabResult(int32_t minute, Lab code, double value, uint32_t spell_no, uint16_t group) {
  const int dec = Info(code).decimals;
  int32_t v10 = dec == 0 ? static_cast<int32_t>(std::lround(value)) * 10 : static_cast<int32_t>(std::lround(value * 10));
  buf_.labs.push_back({minute, index_, seq_++, group, spell_no, code, v10});
}

void PersonSim::Contact(int32_t day, Service service, bool phone) {
  buf_.contacts.push_back({day, index_, seq_++, 0, service, phone ? ContactType::kTelephone : ContactType::kFaceToFace});
}

void PersonSim::Assessment(int32_t day, AssessmentType type, Outcome outcome) {
  buf_.assessments.push_back({day, index_, seq_++, 0, type, outcome});
}

void PersonSim::CareServiceRow(CareService type, int32_t start, int32_t end, double weekly_hours) {
  int32_t h10 = weekly_hours > 0 ? static_cast<int32_t>(std::lround(weekly_hours * 2)) * 5 : kNoValue;
  buf_.services.push_back({start, end, index_, seq_++, 0, type, h10});
}

void PersonSim::Step(Pathway p, uint16_t episode, int32_t minute, const char* activity) {
  buf_.episodes.push_back({minute, index_, p, episode, 0, activity});
}

}  // namespace ark::synth
