// Hospital care: A&E attendances, spells with their labs and the AKI complication, electives,
// emergency admissions via the GP, readmissions and final admissions. Pathways that run through
// hospital (COPD, falls, sepsis, community AKI) are in pathways.cc.
#include <algorithm>
#include <cmath>

#include "core/time.h"
#include "synth/model.h"
#include "synth/simulator.h"

namespace ark::synth {

int32_t PersonSim::AeArrival(int32_t day) {
  static const double kHour[24] = {2, 1.5, 1.2, 1, 1, 1, 1.5, 2.5, 4, 5.5, 6, 6,
                                   5.8, 5.6, 5.5, 5.4, 5.4, 5.5, 5.4, 5, 4.5, 4, 3.5, 2.8};
  return MinutesOfDay(day) + static_cast<int32_t>(rng_.Weighted(kHour)) * 60 + rng_.Range(0, 59);
}

int32_t PersonSim::AeVisit(int32_t arrival, Complaint complaint, Disposal disposal, bool ambulance, uint16_t group) {
  const int32_t day = DayOfMinutes(arrival);
  double p4 = disposal == Disposal::kDischarged ? 0.88 : disposal == Disposal::kAdmitted ? 0.6 : 0.75;
  if (IsWinter(day)) p4 -= 0.08;
  if (CivilFromDays(day).year >= 2021) p4 -= 0.05;
  int32_t minutes;
  if (disposal == Disposal::kLeftUnseen) {
    minutes = rng_.Range(40, 220);
  } else if (disposal == Disposal::kDied) {
    minutes = rng_.Range(30, 200);
  } else if (rng_.Chance(p4)) {
    minutes = static_cast<int32_t>(std::clamp(rng_.LogNormal(disposal == Disposal::kDischarged ? 140 : 190, 0.35), 25.0, 239.0));
  } else {
    minutes = 240 + static_cast<int32_t>(std::min(rng_.Exponential(disposal == Disposal::kAdmitted ? 170 : 90), 1200.0));
  }
  const int32_t departure = arrival + minutes;
  buf_.ae.push_back({arrival, departure, index_, seq_++, group,
                     ambulance ? ArrivalMode::kAmbulance : ArrivalMode::kWalkIn, disposal, complaint});
  last_acute_ = std::max(last_acute_, departure);
  return departure;
}

std::vector<Icd> PersonSim::Comorbidities(int max) {
  std::vector<Icd> out;
  if (htn_) out.push_back(Icd::kI10);
  if (t2dm_) out.push_back(Icd::kE119);
  if (copd_) out.push_back(Icd::kJ449);
  if (ckd_) out.push_back(Icd::kN183);
  if (frailty_ == 3 && AgeAt(world_.end_day()) > 80) out.push_back(Icd::kF03);
  if (static_cast<int>(out.size()) > max) out.resize(static_cast<size_t>(max));
  return out;
}

PersonSim::SpellResult PersonSim::RunSpell(const SpellPlan& plan) {
  const uint32_t spell_no = spells_++;
  const double age = AgeAt(DayOfMinutes(plan.admitted));
  const bool emergency = plan.method != AdmissionMethod::kWaitingList && plan.method != AdmissionMethod::kBooked;
  int32_t discharged;
  if (plan.los_days < 0.5) {
    discharged = plan.admitted + rng_.Range(150, 480);
  } else {
    discharged = Minutes(DayOfMinutes(plan.admitted) + static_cast<int32_t>(std::lround(plan.los_days)), 10, 19);
    if (plan.dies) discharged = Minutes(DayOfMinutes(plan.admitted) + static_cast<int32_t>(std::lround(plan.los_days)), 0, 24);
    discharged = std::max(discharged, plan.admitted + 120);
  }

  // Acute kidney injury as a complication (or already present when the GP sent the patient in).
  int stage = plan.force_aki_stage;
  if (stage == 0 && emergency && !plan.no_aki) {
    double p = 0.03 * (age >= 75 ? 2.2 : age >= 65 ? 1.5 : 0.6) * (ckd_ ? 2.5 : 1) * (t2dm_ ? 1.4 : 1) *
               plan.aki_risk * model::DepRR(Decile(), 0.06);
    if (rng_.Chance(std::min(p, 0.7))) stage = rng_.Chance(0.65) ? 1 : (rng_.Chance(0.63) ? 2 : 3);
  }
  const bool aki = stage > 0;
  int32_t onset = 0, peak = 0;
  double ratio = 1;
  if (aki) {
    ratio = stage == 1 ? rng_.Uniform(1.6, 1.9) : stage == 2 ? rng_.Uniform(2.15, 2.8) : rng_.Uniform(3.2, 4.0);
    bool on_admission = plan.force_aki_stage > 0 || rng_.Chance(0.6);
    onset = on_admission ? plan.admitted - rng_.Range(12, 48) * 60 : plan.admitted + rng_.Range(24, 72) * 60;
    peak = std::max(onset, plan.admitted) + rng_.Range(12, 48) * 60;
    if (!plan.dies && peak + 24 * 60 > discharged) discharged = Minutes(DayOfMinutes(peak) + rng_.Range(2, 5), 10, 19);
  }

  SpellRow row{};
  row.admitted = plan.admitted;
  row.discharged = discharged;
  row.person = index_;
  row.seq = seq_++;
  row.mrn = plan.group;
  row.spell_no = spell_no;
  row.method = plan.method;
  row.dest = plan.dies ? DischargeDest::kDied : plan.dest;
  row.ward = static_cast<uint8_t>(!emergency ? 30 + rng_.Below(10) : age >= 75 ? 1 + rng_.Below(9) : 10 + rng_.Below(20));
  row.primary = plan.primary;
  for (int i = 0; i < plan.num_secondary && row.num_secondary < 3; ++i) row.secondary[row.num_secondary++] = plan.secondary[i];
  if (aki && plan.primary != Icd::kN179) {
    if (row.num_secondary < 3) row.secondary[row.num_secondary++] = Icd::kN179;
    else row.secondary[2] = Icd::kN179;
  }
  for (int i = 0; i < plan.num_opcs; ++i) row.opcs[row.num_opcs++] = plan.opcs[i];
  buf_.spells.push_back(row);
  open_spell_ = static_cast<int>(buf_.spells.size() - 1);
  open_spell_pathway_ = plan.pathway;
  open_spell_episode_ = plan.episode;
  busy_until_ = discharged;
  last_acute_ = std::max(last_acute_, discharged);

  SpellLabs(plan, spell_no, discharged, aki, onset, peak, ratio);

  if (aki) {
    uint16_t ep = plan.aki_episode;
    if (ep == 0) {
      ep = NewEpisode(Pathway::kAki);
      int32_t baseline = kNoTime;
      for (int32_t t : gp_creatinine_)
        if (t < plan.admitted && t >= plan.admitted - 365 * 1440) baseline = std::max(baseline, t);
      if (baseline != kNoTime) Step(Pathway::kAki, ep, baseline, "baseline_creatinine");
      Step(Pathway::kAki, ep, std::max(onset, plan.admitted), "creatinine_rise");
    }
    static const char* kStage[] = {"", "aki_stage_1", "aki_stage_2", "aki_stage_3"};
    Step(Pathway::kAki, ep, peak, kStage[stage]);
    if (plan.dies) {
      Step(Pathway::kAki, ep, discharged, "died");
    } else {
      Step(Pathway::kAki, ep, discharged, "discharged");
      if (rng_.Chance(0.4)) GpEvent(Weekday(DayOfMinutes(discharged) + rng_.Range(3, 10)), Gp::kAki);
    }
  }
  if (plan.dies) {
    if (plan.pathway != Pathway::kCount) Step(plan.pathway, plan.episode, discharged, "died");
    Die(discharged, plan.death_cause == Icd::kCount ? (plan.primary == Icd::kJ441 || plan.primary == Icd::kJ440 ? Icd::kJ449 : plan.primary)
                                                    : plan.death_cause);
  }
  return {discharged, plan.dies, aki};
}

void PersonSim::SpellLabs(const SpellPlan& plan, uint32_t spell_no, int32_t discharged, bool aki, int32_t onset,
                          int32_t peak, double ratio) {
  const double age = AgeAt(DayOfMinutes(plan.admitted));
  const int32_t recovery = peak + rng_.Range(3, 7) * 1440;
  auto mult = [&](int32_t t) {
    if (!aki || t <= onset) return 1.0;
    if (t <= peak) return 1 + (ratio - 1) * (t - onset) / std::max(1.0, static_cast<double>(peak - onset));
    if (t >= recovery) return 1.05;
    return ratio - (ratio - 1.05) * (t - peak) / static_cast<double>(recovery - peak);
  };
  const double hb_base = (sex_ == 'M' ? 142 : 128) - (age > 75 ? 8 : 0) - plan.hb_drop;
  double crp = plan.infection ? rng_.Uniform(60, 300) : std::clamp(rng_.LogNormal(6, 0.8), 1.0, 40.0);
  const bool day_case = plan.los_days < 0.5;
  const uint16_t g = plan.group;
  if (day_case && !rng_.Chance(0.4)) return;
  int32_t t = plan.admitted + rng_.Range(20, 120);
  LabResult(t, Lab::kCreatinine, Creatinine(mult(t)), spell_no, g);
  LabResult(t, Lab::kHaemoglobin, std::max(60.0, rng_.Normal(hb_base, 7)), spell_no, g);
  if (day_case) return;
  if (plan.infection || rng_.Chance(0.7)) LabResult(t, Lab::kCrp, crp, spell_no, g);
  if (aki || rng_.Chance(0.6))
    LabResult(t, Lab::kPotassium, std::clamp(rng_.Normal(4.3 + 0.5 * (mult(t) - 1), 0.35), 2.8, 7.2), spell_no, g);
  if (plan.sepsis) {
    int32_t lt = plan.admitted + rng_.Range(10, 50);
    double lactate = rng_.Uniform(2.2, 7.5);
    LabResult(lt, Lab::kLactate, lactate, spell_no, g);
    LabResult(lt + rng_.Range(120, 360), Lab::kLactate, lactate * rng_.Uniform(0.45, 0.9), spell_no, g);
    last_lactate_ = lt;
  }
  bool peak_sampled = false;
  int32_t day = DayOfMinutes(plan.admitted);
  for (int k = 0; k < 3; ++k) {
    day += rng_.Chance(0.4) ? 1 : 2;
    t = Minutes(day, 6, 10);
    if (t >= discharged) break;
    crp = plan.infection ? crp * rng_.Uniform(0.5, 0.8) : crp * rng_.Uniform(0.7, 1.1);
    if (aki && std::abs(t - peak) < 8 * 60) peak_sampled = true;
    LabResult(t, Lab::kCreatinine, Creatinine(mult(t)), spell_no, g);
    if (plan.infection || rng_.Chance(0.3)) LabResult(t, Lab::kCrp, std::max(1.0, crp), spell_no, g);
    if (rng_.Chance(0.15)) LabResult(t, Lab::kPotassium, std::clamp(rng_.Normal(4.2 + 0.5 * (mult(t) - 1), 0.35), 2.8, 7.2), spell_no, g);
  }
  if (aki && !peak_sampled && peak < discharged) LabResult(peak, Lab::kCreatinine, Creatinine(ratio), spell_no, g);
}

void PersonSim::BackgroundAe(int32_t day) {
  const double age = AgeAt(day);
  static const Complaint kChild[] = {Complaint::kFever, Complaint::kVomiting, Complaint::kLaceration, Complaint::kRash,
                                     Complaint::kWheeze, Complaint::kAbdominalPain, Complaint::kHeadache};
  static const Complaint kAdult[] = {Complaint::kChestPain, Complaint::kAbdominalPain, Complaint::kBreathless,
                                     Complaint::kLaceration, Complaint::kBackPain, Complaint::kLimbPain,
                                     Complaint::kHeadache, Complaint::kPalpitations, Complaint::kSyncope};
  static const Complaint kOlder[] = {Complaint::kBreathless, Complaint::kChestPain, Complaint::kConfusion,
                                     Complaint::kSyncope, Complaint::kAbdominalPain, Complaint::kLimbPain,
                                     Complaint::kFever};
  Complaint c = age < 16 ? kChild[rng_.Below(7)] : age < 65 ? kAdult[rng_.Below(9)] : kOlder[rng_.Below(7)];
  const double p_adm = AeAdmitProbability(age);
  Disposal disp = Disposal::kDischarged;
  double r = rng_.Uniform();
  if (r < p_adm) disp = Disposal::kAdmitted;
  else if (r < p_adm + (age >= 16 && age < 45 ? 0.05 : 0.025)) disp = Disposal::kLeftUnseen;
  else if (r < p_adm + 0.07 && rng_.Chance(0.25)) disp = Disposal::kTransferred;
  const bool amb = rng_.Chance((age >= 75 ? 0.5 : age >= 65 ? 0.32 : 0.1) + (disp == Disposal::kAdmitted ? 0.2 : 0));
  const uint16_t group = NewGroup();
  const int32_t arrival = AeArrival(day);
  if (disp == Disposal::kDischarged && rng_.Chance(age >= 16 ? 0.3 : 0.08)) {
    int32_t t = arrival + rng_.Range(20, 90);
    LabResult(t, Lab::kCreatinine, Creatinine(1), kNoSpell, group);
    LabResult(t, Lab::kHaemoglobin, rng_.Normal(sex_ == 'M' ? 142 : 128, 8), kNoSpell, group);
    LabResult(t, Lab::kCrp, std::clamp(rng_.LogNormal(8, 1.0), 1.0, 200.0), kNoSpell, group);
  }
  const int32_t departure = AeVisit(arrival, c, disp, amb, group);
  if (disp != Disposal::kAdmitted) return;

  SpellPlan plan;
  plan.method = AdmissionMethod::kEmergencyAe;
  plan.admitted = departure;
  plan.group = group;
  auto pick = [&](std::initializer_list<Icd> codes) { return codes.begin()[rng_.Below(static_cast<uint32_t>(codes.size()))]; };
  switch (c) {
    case Complaint::kChestPain: plan.primary = pick({Icd::kR074, Icd::kR074, Icd::kR074, Icd::kI219, Icd::kI48}); break;
    case Complaint::kAbdominalPain: plan.primary = pick({Icd::kR104, Icd::kR104, Icd::kK358, Icd::kK802, Icd::kK922}); break;
    case Complaint::kBreathless: plan.primary = pick({Icd::kJ189, Icd::kI509, Icd::kJ22}); plan.infection = plan.primary != Icd::kI509; break;
    case Complaint::kFever: plan.primary = pick({Icd::kN390, Icd::kJ22, Icd::kL031, Icd::kJ189}); plan.infection = true; break;
    case Complaint::kConfusion: plan.primary = pick({Icd::kF059, Icd::kN390, Icd::kE86}); plan.infection = plan.primary == Icd::kN390; break;
    case Complaint::kSyncope: plan.primary = pick({Icd::kR55, Icd::kR55, Icd::kI48}); break;
    case Complaint::kLaceration: plan.primary = pick({Icd::kS060, Icd::kS525}); break;
    case Complaint::kHeadache: plan.primary = pick({Icd::kR51, Icd::kR51, Icd::kI639}); break;
    case Complaint::kBackPain: plan.primary = Icd::kM545; break;
    case Complaint::kLimbPain: plan.primary = pick({Icd::kL031, Icd::kS525}); break;
    case Complaint::kPalpitations: plan.primary = Icd::kI48; break;
    case Complaint::kVomiting: plan.primary = pick({Icd::kE86, Icd::kR104}); break;
    case Complaint::kRash: plan.primary = Icd::kL031; plan.infection = true; break;
    case Complaint::kWheeze: plan.primary = asthma_ ? Icd::kJ459 : Icd::kJ22; break;
    default: plan.primary = Icd::kR104; break;
  }
  if (plan.primary == Icd::kS525) plan.opcs[plan.num_opcs++] = Opcs::kU051;
  for (Icd x : Comorbidities(3)) plan.secondary[plan.num_secondary++] = x;
  plan.los_days = rng_.Chance(0.12) ? 0 : rng_.LogNormal(age >= 75 ? 4.5 : age >= 65 ? 3 : 1.5, 0.8);
  plan.dest = care_home_ ? DischargeDest::kCareHome : rng_.Chance(0.015) ? DischargeDest::kOtherHospital : DischargeDest::kUsualResidence;
  SpellResult res = RunSpell(plan);
  if (res.died) return;
  const int32_t dday = DayOfMinutes(res.discharged);
  if (age >= 75 && !care_home_) {
    bool to_care_home = false;
    if (rng_.Chance(0.15)) {
      int delay = DischargeSupport(dday, DayOfMinutes(plan.admitted), 0, false, &to_care_home);
      if (delay > 0) {
        SpellRow& s = buf_.spells[static_cast<size_t>(open_spell_)];
        s.discharged = Minutes(dday + delay, 10, 19);
        busy_until_ = s.discharged;
        if (to_care_home) s.dest = DischargeDest::kCareHome;
      }
    }
    if (!to_care_home && rng_.Chance(0.25)) DistrictNursing(dday + rng_.Range(1, 5), rng_.Range(2, 6));
  }
  if (rng_.Chance(0.3)) GpEvent(Weekday(dday + rng_.Range(5, 20)), Gp::kConsultation);
  MaybeReadmit(busy_until_, ReadmissionRisk(age));
}

void PersonSim::Elective(int32_t day) {
  day = Weekday(day);
  const double age = AgeAt(day);
  struct Proc {
    Icd dx;
    Opcs op, op2;
    double min_age, weight, day_case, los;
    char sex;
  };
  static const Proc kProcs[] = {
      {Icd::kH259, Opcs::kC712, Opcs::kC751, 60, 5, 0.97, 1, ' '},
      {Icd::kM169, Opcs::kW371, Opcs::kCount, 55, 1.2, 0, 3.5, ' '},
      {Icd::kM169, Opcs::kW381, Opcs::kCount, 55, 0.8, 0, 3.5, ' '},
      {Icd::kM179, Opcs::kW401, Opcs::kCount, 55, 1.8, 0, 3.0, ' '},
      {Icd::kD126, Opcs::kH229, Opcs::kCount, 40, 2.5, 0.98, 1, ' '},
      {Icd::kK573, Opcs::kH229, Opcs::kCount, 45, 1.5, 0.98, 1, ' '},
      {Icd::kK219, Opcs::kG451, Opcs::kCount, 30, 1.5, 0.98, 1, ' '},
      {Icd::kK409, Opcs::kT201, Opcs::kCount, 0, 1.5, 0.75, 1, 'M'},
      {Icd::kK802, Opcs::kJ183, Opcs::kCount, 25, 1.2, 0.5, 1.5, ' '},
      {Icd::kR31, Opcs::kM459, Opcs::kCount, 45, 1.5, 0.97, 1, ' '},
      {Icd::kN40, Opcs::kM459, Opcs::kCount, 55, 0.8, 0.9, 1, 'M'},
      {Icd::kN920, Opcs::kQ074, Opcs::kCount, 35, 0.6, 0, 2.5, 'F'},
      {Icd::kI251, Opcs::kK751, Opcs::kCount, 50, 0.6, 0.3, 1, ' '},
      {Icd::kI251, Opcs::kK401, Opcs::kCount, 55, 0.15, 0, 7, 'M'},
  };
  double weights[sizeof(kProcs) / sizeof(kProcs[0])];
  double total = 0;
  for (size_t i = 0; i < sizeof(kProcs) / sizeof(kProcs[0]); ++i) {
    const Proc& p = kProcs[i];
    bool ok = age >= p.min_age && (p.sex == ' ' || p.sex == sex_) && !(p.dx == Icd::kN920 && age > 60);
    weights[i] = ok ? p.weight : 0;
    total += weights[i];
  }
  if (total <= 0) return;
  const Proc& p = kProcs[rng_.Weighted(weights)];
  SpellPlan plan;
  plan.method = rng_.Chance(0.75) ? AdmissionMethod::kWaitingList : AdmissionMethod::kBooked;
  plan.primary = p.dx;
  plan.opcs[plan.num_opcs++] = p.op;
  if (p.op2 != Opcs::kCount) plan.opcs[plan.num_opcs++] = p.op2;
  for (Icd x : Comorbidities(2)) plan.secondary[plan.num_secondary++] = x;
  const bool day_case = rng_.Chance(p.day_case);
  plan.admitted = Minutes(day, 7, day_case ? 12 : 9);
  plan.los_days = day_case ? 0 : std::max(1.0, rng_.LogNormal(p.los, 0.4));
  plan.dest = care_home_ ? DischargeDest::kCareHome : DischargeDest::kUsualResidence;
  plan.group = NewGroup();
  plan.no_aki = day_case;
  plan.aki_risk = 0.3;
  if (p.op == Opcs::kW371 || p.op == Opcs::kW381 || p.op == Opcs::kW401) plan.hb_drop = 12;
  SpellResult res = RunSpell(plan);
  if (!res.died && rng_.Chance(0.25)) GpEvent(Weekday(DayOfMinutes(res.discharged) + rng_.Range(7, 21)), Gp::kConsultation);
}

void PersonSim::GpEmergency(int32_t day) {
  day = Weekday(day);
  const double age = AgeAt(day);
  GpEvent(day, Gp::kConsultation);
  SpellPlan plan;
  plan.method = AdmissionMethod::kEmergencyGp;
  static const Icd kDx[] = {Icd::kI509, Icd::kN390, Icd::kJ189, Icd::kE86, Icd::kF059, Icd::kL031, Icd::kI48, Icd::kK922};
  plan.primary = kDx[rng_.Below(8)];
  plan.infection = plan.primary == Icd::kN390 || plan.primary == Icd::kJ189 || plan.primary == Icd::kL031;
  if (plan.primary == Icd::kK922) plan.hb_drop = 25;
  for (Icd x : Comorbidities(3)) plan.secondary[plan.num_secondary++] = x;
  plan.admitted = Minutes(day, 12, 20);
  if (rng_.Chance(0.15)) plan.method = AdmissionMethod::kEmergencyOther;  // e.g. from a clinic
  plan.los_days = rng_.LogNormal(age >= 75 ? 5 : 3, 0.7);
  plan.dest = care_home_ ? DischargeDest::kCareHome : DischargeDest::kUsualResidence;
  plan.group = NewGroup();
  const SpellResult res = RunSpell(plan);
  if (!res.died) MaybeReadmit(res.discharged, ReadmissionRisk(age));
}

double PersonSim::ReadmissionRisk(double age) {
  return 0.08 * (age >= 75 ? 1.5 : age >= 65 ? 1.2 : 1) * (1 + 0.1 * Conditions()) * model::DepRR(Decile(), 0.1);
}

void PersonSim::MaybeReadmit(int32_t discharged, double p) {
  if (!rng_.Chance(p)) return;
  const int32_t day = DayOfMinutes(discharged) + rng_.Range(1, 29);
  if (natural_death_day_ != kNoTime && day >= natural_death_day_) return;
  static const Icd kDx[] = {Icd::kN390, Icd::kJ189, Icd::kI509, Icd::kE86, Icd::kF059, Icd::kR55, Icd::kL031, Icd::kR104};
  SpellPlan plan;
  plan.group = NewGroup();
  plan.method = AdmissionMethod::kEmergencyAe;
  plan.admitted = AeVisit(AeArrival(day), Complaint::kBreathless, Disposal::kAdmitted, rng_.Chance(0.5), plan.group);
  plan.primary = kDx[rng_.Below(8)];
  plan.infection = plan.primary == Icd::kN390 || plan.primary == Icd::kJ189 || plan.primary == Icd::kL031;
  for (Icd x : Comorbidities(3)) plan.secondary[plan.num_secondary++] = x;
  plan.los_days = rng_.LogNormal(AgeAt(day) >= 75 ? 5 : 3, 0.7);
  plan.dest = care_home_ ? DischargeDest::kCareHome : DischargeDest::kUsualResidence;
  RunSpell(plan);
}

void PersonSim::TerminalAdmission(int32_t day, Icd cause) {
  const uint16_t group = NewGroup();
  const int32_t last = std::max(last_acute_, busy_until_);
  int32_t earliest = last == kNoTime ? entry_ : std::max(entry_, DayOfMinutes(last) + 1);
  if (earliest > day) earliest = day;
  if (rng_.Chance(kDiesInAe)) {  // dies in A&E
    const int32_t dep = AeVisit(AeArrival(day), Complaint::kBreathless, Disposal::kDied, true, group);
    Die(dep, cause);
    return;
  }
  const int32_t aday = std::max(earliest, day - rng_.Range(0, 12));
  SpellPlan plan;
  plan.group = group;
  plan.dies = true;
  plan.death_cause = cause;
  plan.los_days = day - aday;
  Complaint c = Complaint::kBreathless;
  switch (cause) {
    case Icd::kI219: case Icd::kI251: plan.primary = rng_.Chance(0.5) ? Icd::kI219 : Icd::kI509; c = Complaint::kChestPain; break;
    case Icd::kI639: plan.primary = Icd::kI639; c = Complaint::kConfusion; break;
    case Icd::kF03: case Icd::kG309: plan.primary = rng_.Chance(0.5) ? Icd::kJ189 : Icd::kN390; plan.infection = true; c = Complaint::kConfusion; break;
    case Icd::kJ449: plan.primary = Icd::kJ441; plan.infection = true; break;
    case Icd::kJ189: plan.primary = Icd::kJ189; plan.infection = true; break;
    case Icd::kN183: case Icd::kE119: plan.primary = Icd::kN179; plan.force_aki_stage = 3; break;
    case Icd::kW19: plan.primary = Icd::kS720; c = Complaint::kFall; break;
    case Icd::kX59: plan.primary = Icd::kS060; c = Complaint::kLaceration; break;
    default: plan.primary = cause; break;
  }
  for (Icd x : Comorbidities(2)) plan.secondary[plan.num_secondary++] = x;
  if (rng_.Chance(0.2) || cause == Icd::kP073) {  // admitted directly (GP or other route)
    plan.method = cause == Icd::kP073 ? AdmissionMethod::kEmergencyOther : AdmissionMethod::kEmergencyGp;
    plan.admitted = Minutes(aday, 10, 20);
  } else {
    plan.method = AdmissionMethod::kEmergencyAe;
    plan.admitted = AeVisit(AeArrival(aday), c, Disposal::kAdmitted, rng_.Chance(0.85), group);
  }
  if (plan.force_aki_stage > 0) plan.aki_episode = NewEpisode(Pathway::kAki);
  if (plan.aki_episode) Step(Pathway::kAki, plan.aki_episode, plan.admitted, "creatinine_rise");
  RunSpell(plan);
}

}  // namespace ark::synth
