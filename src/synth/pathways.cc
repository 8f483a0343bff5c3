// Care pathways across providers, each recorded as a truth episode: COPD exacerbations, falls
// in older people, sepsis and community-acquired AKI, and the social care around discharge.
#include <algorithm>
#include <cmath>

#include "synth/model.h"
#include "synth/simulator.h"

namespace ark::synth {

void PersonSim::CopdExacerbation(int32_t day) {
  const Pathway P = Pathway::kCopd;
  const double age = AgeAt(day);
  const int d = Decile();
  const uint16_t ep = NewEpisode(P);
  const bool severe = rng_.Chance(CopdSevereProbability(age, d));
  if (!severe || rng_.Chance(0.4)) {
    const int32_t gday = Weekday(severe ? day - rng_.Range(1, 3) : day);
    Step(P, ep, Minutes(gday, 8, 18), "gp_consultation");
    GpEvent(gday, rng_.Chance(0.3) ? Gp::kTelephone : Gp::kConsultation);
    GpEvent(gday, Gp::kCopdExacerbation);
    GpEvent(gday, Gp::kSalbutamol);
    if (!severe) {
      if (rng_.Chance(0.45)) {
        const int32_t fu = Weekday(gday + rng_.Range(7, 14));
        GpEvent(fu, Gp::kConsultation);
        Step(P, ep, Minutes(fu, 8, 18), "gp_follow_up");
      }
      return;
    }
  }
  for (int admission = 0; admission < 2; ++admission) {
    const uint16_t group = NewGroup();
    const int32_t arrival = AeArrival(day);
    Step(P, ep, arrival, "ae_arrival");
    SpellPlan plan;
    plan.method = AdmissionMethod::kEmergencyAe;
    plan.admitted = AeVisit(arrival, rng_.Chance(0.7) ? Complaint::kBreathless : Complaint::kWheeze,
                            Disposal::kAdmitted, rng_.Chance(0.7), group);
    Step(P, ep, plan.admitted, admission == 0 ? "emergency_admission" : "readmission");
    plan.group = group;
    plan.primary = rng_.Chance(0.7) ? Icd::kJ441 : Icd::kJ440;
    if (rng_.Chance(0.25)) plan.secondary[plan.num_secondary++] = Icd::kJ189;
    for (Icd x : Comorbidities(2)) if (x != Icd::kJ449) plan.secondary[plan.num_secondary++] = x;
    if (rng_.Chance(0.15)) plan.opcs[plan.num_opcs++] = Opcs::kE851;
    plan.los_days = std::max(1.0, rng_.LogNormal(4, 0.6));
    plan.infection = true;
    plan.aki_risk = 1.5;
    plan.dest = care_home_ ? DischargeDest::kCareHome : DischargeDest::kUsualResidence;
    plan.dies = rng_.Chance(std::clamp(0.03 + 0.002 * (age - 65), 0.01, 0.12));
    plan.pathway = P;
    plan.episode = ep;
    const SpellResult res = RunSpell(plan);
    if (res.died) return;
    Step(P, ep, res.discharged, "discharged");
    const int32_t dday = DayOfMinutes(res.discharged);
    if (rng_.Chance(0.6)) {
      const int32_t fu = Weekday(dday + rng_.Range(3, 14));
      GpEvent(fu, Gp::kConsultation);
      GpEvent(fu, Gp::kCopd);
      Step(P, ep, Minutes(fu, 8, 18), "gp_follow_up");
    }
    if (rng_.Chance(0.4)) {
      const int32_t first = dday + rng_.Range(2, 10);
      Step(P, ep, Minutes(first, 9, 17), "community_resp_contact");
      for (int k = rng_.Range(1, 3); k > 0; --k) Contact(first + 7 * (k - 1), Service::kRespiratory, rng_.Chance(0.3));
    }
    if (admission == 1 || !rng_.Chance(0.17 * model::DepRR(d, 0.1))) return;
    day = dday + rng_.Range(2, 29);  // emergency readmission within 30 days
  }
}

void PersonSim::Fall(int32_t day) {
  const Pathway P = Pathway::kFalls;
  const double age = AgeAt(day);
  const uint16_t ep = NewEpisode(P);
  const int32_t fall = Minutes(day, 6, 22);
  Step(P, ep, fall, "fall");
  if (!rng_.Chance(kFallToAe)) {  // no A&E: seen by the GP
    const int32_t gday = Weekday(day + rng_.Range(1, 10));
    GpEvent(gday, Gp::kConsultation);
    GpEvent(gday, Gp::kFall);
    Step(P, ep, Minutes(gday, 8, 18), "gp_consultation");
    if (rng_.Chance(0.4)) {
      const int32_t first = gday + rng_.Range(7, 35);
      Step(P, ep, Minutes(first, 9, 17), "falls_service_contact");
      for (int k = rng_.Range(1, 3); k > 0; --k) Contact(first + 7 * (k - 1), Service::kFalls, rng_.Chance(0.25));
    }
    return;
  }
  const int32_t arrival = fall + rng_.Range(20, 180);
  Step(P, ep, arrival, "ae_arrival");
  const uint16_t group = NewGroup();
  const bool hip = rng_.Chance(HipFractureProbability(age));
  const bool admit = hip || rng_.Chance(FallAdmitProbability());
  if (!admit) {
    const int32_t dep = AeVisit(arrival, Complaint::kFall, Disposal::kDischarged, rng_.Chance(0.6), group);
    Step(P, ep, dep, "ae_discharged");
    if (rng_.Chance(0.45)) {
      const int32_t first = DayOfMinutes(dep) + rng_.Range(7, 42);
      Step(P, ep, Minutes(first, 9, 17), "falls_service_contact");
      for (int k = rng_.Range(1, 4); k > 0; --k) Contact(first + 7 * (k - 1), Service::kFalls, rng_.Chance(0.25));
    }
    if (rng_.Chance(0.5)) {
      const int32_t gday = Weekday(day + rng_.Range(3, 20));
      GpEvent(gday, Gp::kConsultation);
      GpEvent(gday, Gp::kFall);
      Step(P, ep, Minutes(gday, 8, 18), "gp_follow_up");
    }
    return;
  }
  SpellPlan plan;
  plan.method = AdmissionMethod::kEmergencyAe;
  plan.admitted = AeVisit(arrival, Complaint::kFall, Disposal::kAdmitted, rng_.Chance(0.85), group);
  Step(P, ep, plan.admitted, "emergency_admission");
  plan.group = group;
  if (hip) {
    plan.primary = rng_.Chance(0.65) ? Icd::kS720 : Icd::kS721;
    double r = rng_.Uniform();
    plan.opcs[plan.num_opcs++] = r < 0.45 ? Opcs::kW461 : r < 0.8 ? Opcs::kW191 : Opcs::kW371;
    plan.hb_drop = 18;
    plan.los_days = std::max(3.0, rng_.LogNormal(10, 0.4));
  } else {
    double r = rng_.Uniform();
    plan.primary = r < 0.3 ? Icd::kS060 : r < 0.55 ? Icd::kS525 : Icd::kR296;
    if (plan.primary == Icd::kS060) plan.opcs[plan.num_opcs++] = Opcs::kU051;
    plan.los_days = std::max(1.0, rng_.LogNormal(4.5, 0.6));
  }
  plan.secondary[plan.num_secondary++] = Icd::kW19;
  for (Icd x : Comorbidities(2)) plan.secondary[plan.num_secondary++] = x;
  plan.aki_risk = 1.3;
  plan.dest = care_home_ ? DischargeDest::kCareHome : DischargeDest::kUsualResidence;
  plan.dies = rng_.Chance((hip ? 0.06 : 0.02) + 0.015 * frailty_);
  plan.death_cause = rng_.Chance(0.3) ? Icd::kW19 : DrawCause(day);
  plan.pathway = P;
  plan.episode = ep;
  const bool was_in_care_home = care_home_;
  const SpellResult res = RunSpell(plan);
  if (res.died) return;
  const int32_t fit_day = DayOfMinutes(res.discharged);
  bool to_care_home = false;
  const int delay = was_in_care_home ? 0 : DischargeSupport(fit_day, DayOfMinutes(plan.admitted), ep, hip, &to_care_home);
  int32_t discharged = res.discharged;
  if (delay > 0) {
    Step(P, ep, res.discharged, "medically_fit");
    discharged = Minutes(fit_day + delay, 10, 19);
    buf_.spells[static_cast<size_t>(open_spell_)].discharged = discharged;
    busy_until_ = discharged;
  }
  if (to_care_home) buf_.spells[static_cast<size_t>(open_spell_)].dest = DischargeDest::kCareHome;
  Step(P, ep, discharged, "discharged");
  const int32_t dday = DayOfMinutes(discharged);
  if (hip && rng_.Chance(0.6)) {
    const int32_t first = dday + rng_.Range(2, 10);
    Step(P, ep, Minutes(first, 9, 17), "rehab_contact");
    for (int k = rng_.Range(3, 8); k > 0; --k) Contact(first + 7 * (k - 1), Service::kRehab, false);
  }
  if (!to_care_home && age >= 75 && rng_.Chance(0.3)) DistrictNursing(dday + rng_.Range(1, 4), rng_.Range(2, 6));
  if (rng_.Chance(0.5)) {
    const int32_t gday = Weekday(dday + rng_.Range(5, 20));
    GpEvent(gday, Gp::kConsultation);
    GpEvent(gday, hip ? Gp::kHipFracture : Gp::kFall);
    Step(P, ep, Minutes(gday, 8, 18), "gp_follow_up");
  }
}

int PersonSim::DischargeSupport(int32_t fit_day, int32_t admitted_day, uint16_t ep, bool hip, bool* care_home) {
  const Pathway P = Pathway::kFalls;
  *care_home = false;
  if (!rng_.Chance((hip ? 0.7 : 0.45) + (frailty_ >= 2 ? 0.15 : 0))) return 0;
  const int32_t assess = std::max(admitted_day, fit_day - rng_.Range(1, 4));
  if (ep) Step(P, ep, Minutes(assess, 9, 17), "social_care_assessment");
  const double r = rng_.Uniform();
  const double p_home = 0.1 + 0.07 * frailty_ + (home_care_row_ >= 0 ? 0.1 : 0);
  enum { kCareHome, kReablement, kHomeCare, kNone } plan =
      r < p_home ? kCareHome : r < p_home + 0.38 ? kReablement : r < p_home + 0.66 ? kHomeCare : kNone;
  if (plan == kNone) {
    Assessment(assess, AssessmentType::kNeeds, rng_.Chance(0.6) ? Outcome::kNoService : Outcome::kSignpost);
    return 0;
  }
  Assessment(assess, AssessmentType::kNeeds, Outcome::kService);
  int delay = 0;
  if (rng_.Chance(0.3 + (IsWinter(fit_day) ? 0.15 : 0))) delay = plan == kCareHome ? rng_.Range(5, 30) : rng_.Range(2, 14);
  const int32_t start = fit_day + delay;
  switch (plan) {
    case kCareHome:
      EnterCareHome(start, rng_.Chance(0.4));
      *care_home = true;
      if (ep) Step(P, ep, Minutes(start, 10, 19), "care_home_admission");
      break;
    case kReablement: {
      const int32_t end = start + rng_.Range(21, 42);
      CareServiceRow(CareService::kReablement, start, end, rng_.Uniform(6, 14));
      if (ep) Step(P, ep, Minutes(start, 10, 19), "reablement_start");
      if (rng_.Chance(0.35) && home_care_row_ < 0) {
        StartHomeCare(end, rng_.Uniform(4, 14));
        if (ep) Step(P, ep, Minutes(end, 10, 19), "home_care_start");
      }
      break;
    }
    case kHomeCare:
      StartHomeCare(start, rng_.Uniform(5, 20));
      if (ep) Step(P, ep, Minutes(start, 10, 19), "home_care_start");
      break;
    default: break;
  }
  return delay;
}

void PersonSim::Sepsis(int32_t day) {
  const Pathway P = Pathway::kSepsis;
  const double age = AgeAt(day);
  const uint16_t ep = NewEpisode(P);
  SpellPlan plan;
  plan.group = NewGroup();
  if (rng_.Chance(0.1)) {
    day = Weekday(day);
    GpEvent(day, Gp::kConsultation);
    Step(P, ep, Minutes(day, 8, 12), "gp_consultation");
    plan.method = AdmissionMethod::kEmergencyGp;
    plan.admitted = Minutes(day, 12, 19);
  } else {
    const int32_t arrival = AeArrival(day);
    Step(P, ep, arrival, "ae_arrival");
    static const Complaint kC[] = {Complaint::kFever, Complaint::kConfusion, Complaint::kBreathless};
    plan.method = AdmissionMethod::kEmergencyAe;
    plan.admitted = AeVisit(arrival, kC[rng_.Below(3)], Disposal::kAdmitted, rng_.Chance(0.8), plan.group);
  }
  Step(P, ep, plan.admitted, "emergency_admission");
  plan.primary = Icd::kA419;
  const double r = rng_.Uniform();
  if (r < 0.3) plan.secondary[plan.num_secondary++] = Icd::kN390;
  else if (r < 0.65) plan.secondary[plan.num_secondary++] = Icd::kJ189;
  else if (r < 0.75) plan.secondary[plan.num_secondary++] = Icd::kL031;
  for (Icd x : Comorbidities(2)) plan.secondary[plan.num_secondary++] = x;
  plan.sepsis = plan.infection = true;
  plan.aki_risk = 4;
  plan.dies = rng_.Chance(std::clamp(0.08 + 0.004 * std::max(0.0, age - 50) + 0.04 * frailty_ + (care_home_ ? 0.05 : 0), 0.03, 0.5));
  plan.los_days = plan.dies ? rng_.Range(0, 14) : std::max(2.0, rng_.LogNormal(7, 0.6));
  plan.dest = care_home_ ? DischargeDest::kCareHome : DischargeDest::kUsualResidence;
  plan.pathway = P;
  plan.episode = ep;
  last_lactate_ = kNoTime;
  const SpellResult res = RunSpell(plan);
  if (last_lactate_ != kNoTime) Step(P, ep, last_lactate_, "lactate_measured");
  if (res.died) return;
  Step(P, ep, res.discharged, "discharged");
  if (rng_.Chance(0.5)) {
    const int32_t gday = Weekday(DayOfMinutes(res.discharged) + rng_.Range(5, 21));
    GpEvent(gday, Gp::kConsultation);
    GpEvent(gday, Gp::kSepsis);
    Step(P, ep, Minutes(gday, 8, 18), "gp_follow_up");
  }
  MaybeReadmit(res.discharged, 0.12);
}

void PersonSim::CommunityAki(int32_t day) {
  const Pathway P = Pathway::kAki;
  day = Weekday(day);
  const uint16_t ep = NewEpisode(P);
  int32_t baseline = kNoTime;
  for (int32_t t : gp_creatinine_)
    if (t < MinutesOfDay(day) && t >= MinutesOfDay(day - 365)) baseline = std::max(baseline, t);
  if (baseline != kNoTime) Step(P, ep, baseline, "baseline_creatinine");
  GpEvent(day, Gp::kConsultation);
  const int stage = rng_.Chance(kAkiStage1) ? 1 : (rng_.Chance(0.6) ? 2 : 3);
  const double ratio = stage == 1 ? rng_.Uniform(1.6, 1.9) : stage == 2 ? rng_.Uniform(2.15, 2.8) : rng_.Uniform(3.2, 4.0);
  GpCreatinine(day, Creatinine(ratio));
  Step(P, ep, gp_creatinine_.back(), "creatinine_rise");
  if (stage == 1 && rng_.Chance(kAkiStage1AtHome)) {  // managed in primary care
    const int32_t again = Weekday(day + rng_.Range(3, 10));
    GpCreatinine(again, Creatinine(1.1));
    Step(P, ep, gp_creatinine_.back(), "recovered");
    return;
  }
  SpellPlan plan;
  plan.method = AdmissionMethod::kEmergencyGp;
  plan.admitted = std::max(gp_creatinine_.back() + 120, Minutes(day, 14, 21));
  Step(P, ep, plan.admitted, "emergency_admission");
  plan.primary = Icd::kN179;
  if (rng_.Chance(0.5)) plan.secondary[plan.num_secondary++] = Icd::kE86;
  for (Icd x : Comorbidities(2)) plan.secondary[plan.num_secondary++] = x;
  plan.force_aki_stage = stage;
  plan.aki_episode = ep;
  plan.los_days = std::max(1.0, rng_.LogNormal(4, 0.6));
  plan.dest = care_home_ ? DischargeDest::kCareHome : DischargeDest::kUsualResidence;
  plan.group = NewGroup();
  plan.dies = rng_.Chance(0.05 + 0.03 * stage);
  RunSpell(plan);
}

}  // namespace ark::synth
