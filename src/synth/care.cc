// Primary, community and social care: routine GP activity, annual reviews of long-term
// conditions, diabetes monitoring, district nursing, home care and care homes.
#include <algorithm>
#include <cmath>

#include "core/time.h"
#include "synth/model.h"
#include "synth/simulator.h"

namespace ark::synth {

namespace {
int32_t Round10(double v) { return static_cast<int32_t>(std::lround(v)) * 10; }
}  // namespace

void PersonSim::GpYear(int32_t from, int32_t to, double age) {
  const double frac = (to - from) / 365.25;
  const uint32_t span = static_cast<uint32_t>(to - from);
  const double rate = model::GpConsultRate(age, sex_) * (1 + 0.25 * Conditions()) *
                      model::DepRR(Decile(), 0.04) * (care_home_ ? 1.4 : 1);
  for (int n = rng_.Poisson(rate * frac); n > 0; --n) {
    const int32_t day = Weekday(from + static_cast<int32_t>(rng_.Below(span)));
    const bool phone = rng_.Chance(CivilFromDays(day).year >= 2020 ? 0.4 : 0.2);
    GpEvent(day, phone ? Gp::kTelephone : Gp::kConsultation);
    if (phone || age < 18) continue;
    if (rng_.Chance(0.05)) {
      const double sbp = sbp_base_ + rng_.Normal(0, 9);
      GpEvent(day, Gp::kSystolic, Round10(sbp));
      GpEvent(day, Gp::kDiastolic, Round10(std::clamp(0.5 * sbp + rng_.Normal(14, 6), 45.0, 125.0)));
    }
    if (rng_.Chance(0.03)) GpEvent(day, Gp::kBmi, static_cast<int32_t>(std::lround((bmi_base_ + rng_.Normal(0, 0.5)) * 10)));
  }
  bmi_base_ += rng_.Normal(0.1, 0.15);
  const bool chronic = Conditions() > 0 || (age >= 65 && frailty_ > 0);
  if (chronic) AnnualReview(from + static_cast<int32_t>(rng_.Below(span)), age);
  else if (age >= 70 && rng_.Chance(0.4)) GpCreatinine(Weekday(from + static_cast<int32_t>(rng_.Below(span))), Creatinine(1));

  // Repeat prescriptions (one issue recorded every six months).
  const Gp meds[] = {Gp::kAmlodipine, Gp::kMetformin, Gp::kSalbutamol, Gp::kAspirin};
  const bool on[] = {htn_, t2dm_, copd_ || asthma_, (htn_ || t2dm_) && age >= 65 && index_ % 10 < 3};
  const int32_t offset = static_cast<int32_t>(rng_.Below(182));
  for (int m = 0; m < 4; ++m) {
    if (!on[m]) continue;
    for (int32_t d = from + offset; d < to; d += 182) GpEvent(d, meds[m]);
  }
}

void PersonSim::AnnualReview(int32_t day, double age) {
  day = Weekday(day);
  GpEvent(day, Gp::kConsultation);
  const bool bp = htn_ || t2dm_ || ckd_;
  if (htn_) GpEvent(day, Gp::kHypertension);
  if (t2dm_) GpEvent(day, Gp::kType2Diabetes);
  if (copd_) GpEvent(day, Gp::kCopd);
  if (asthma_) GpEvent(day, Gp::kAsthma);
  if (ckd_) GpEvent(day, Gp::kCkd3);
  if (bp) {
    const double sbp = sbp_base_ + rng_.Normal(-2, 9);
    GpEvent(day, Gp::kSystolic, Round10(sbp));
    GpEvent(day, Gp::kDiastolic, Round10(std::clamp(0.5 * sbp + rng_.Normal(13, 6), 45.0, 125.0)));
  }
  if (t2dm_) GpEvent(day, Gp::kBmi, static_cast<int32_t>(std::lround((bmi_base_ + rng_.Normal(0, 0.5)) * 10)));
  if (t2dm_ || ckd_ || (htn_ && rng_.Chance(0.5))) GpCreatinine(day, Creatinine(1));
  if (age >= 65 && frailty_ > 0 && rng_.Chance(0.6)) {
    GpEvent(day, frailty_ == 1 ? Gp::kFrailtyMild : frailty_ == 2 ? Gp::kFrailtyModerate : Gp::kFrailtySevere);
  }
  if ((htn_ || t2dm_ || copd_ || ckd_) && rng_.Chance(0.6)) GpEvent(day, Gp::kMedicationReview);
  if (age >= 16 && rng_.Chance(0.25))
    GpEvent(day, smoking_ == 2 ? Gp::kSmoker : smoking_ == 1 ? Gp::kExSmoker : Gp::kNeverSmoked);
}

void PersonSim::DiabetesYear(int32_t from, int32_t to) {
  const Pathway P = Pathway::kDiabetes;
  if (next_hba1c_ == kNoTime || next_hba1c_ < from) next_hba1c_ = from + static_cast<int32_t>(rng_.Below(90));
  while (next_hba1c_ < to) {
    const int32_t day = Weekday(next_hba1c_);
    const double value = std::clamp(hba1c_ + rng_.Normal(0, 2), 35.0, 130.0);
    GpEvent(day, Gp::kHba1c, Round10(value));
    Step(P, diabetes_episode_, Minutes(day, 8, 17), "hba1c_test");
    if (value > 58 && rng_.Chance(0.35)) {
      Step(P, diabetes_episode_, Minutes(day, 17, 18), "treatment_intensified");
      hba1c_drift_ = rng_.Normal(-7, 2);
    }
    if (value > 75 && rng_.Chance(0.5)) {
      const int32_t first = day + rng_.Range(7, 30);
      Step(P, diabetes_episode_, Minutes(first, 9, 17), "diabetes_nurse_contact");
      for (int k = rng_.Range(1, 3); k > 0; --k) Contact(first + 30 * (k - 1), Service::kDiabetes, rng_.Chance(0.4));
    }
    const int32_t interval = value > 58 ? rng_.Range(90, 200) : rng_.Range(180, 365);
    hba1c_ = std::clamp(hba1c_ + hba1c_drift_ * interval / 365.0, 38.0, 125.0);
    hba1c_drift_ = 0.7 * hba1c_drift_ + 0.3 * 1.5 + rng_.Normal(0, 1);
    next_hba1c_ = day + interval;
  }
}

void PersonSim::SocialNeeds(int32_t day) {
  if (home_care_row_ >= 0 || care_home_) return;  // reviewed in SocialCareYear instead
  day = Weekday(day);
  const double r = rng_.Uniform();
  if (r < 0.5) {
    Assessment(day, AssessmentType::kNeeds, Outcome::kService);
    if (frailty_ == 3 && AgeAt(day) >= 85 && rng_.Chance(0.15)) EnterCareHome(day + rng_.Range(14, 60), rng_.Chance(0.4));
    else StartHomeCare(day + rng_.Range(7, 28), rng_.Uniform(3, 18));
  } else {
    Assessment(day, AssessmentType::kNeeds, r < 0.75 ? Outcome::kNoService : Outcome::kSignpost);
  }
}

void PersonSim::CarerAssessment(int32_t day) {
  const double r = rng_.Uniform();
  Assessment(Weekday(day), AssessmentType::kCarer,
             r < 0.5 ? Outcome::kSignpost : r < 0.8 ? Outcome::kNoService : Outcome::kService);
}

void PersonSim::DistrictNursing(int32_t day, int visits) {
  if (care_home_) return;
  for (int k = 0; k < visits; ++k) {
    Contact(day, Service::kDistrictNursing, rng_.Chance(0.1));
    day += rng_.Range(5, 9);
  }
}

void PersonSim::StartHomeCare(int32_t day, double hours) {
  if (home_care_row_ >= 0 || care_home_) return;
  CareServiceRow(CareService::kHomeCare, day, kNoTime, hours);
  home_care_row_ = static_cast<int>(buf_.services.size() - 1);
}

void PersonSim::EnterCareHome(int32_t day, bool nursing) {
  if (care_home_) return;
  if (home_care_row_ >= 0) {
    buf_.services[static_cast<size_t>(home_care_row_)].end = day;
    home_care_row_ = -1;
  }
  CareServiceRow(nursing ? CareService::kNursing : CareService::kResidential, day, kNoTime, 0);
  care_home_row_ = static_cast<int>(buf_.services.size() - 1);
  Move(day, true);
  care_home_ = true;
}

void PersonSim::SocialCareYear(int32_t from, int32_t to) {
  const int32_t day = Weekday(from + static_cast<int32_t>(rng_.Below(static_cast<uint32_t>(to - from))));
  if (home_care_row_ >= 0) {
    ServiceRow& s = buf_.services[static_cast<size_t>(home_care_row_)];
    if (day <= s.start + 28) return;
    const double r = rng_.Uniform();
    if (r < 0.08) {  // no longer needed
      Assessment(day, AssessmentType::kReview, Outcome::kNoService);
      s.end = day;
      home_care_row_ = -1;
    } else if (r < 0.12 + (frailty_ == 3 ? 0.08 : 0)) {  // moves into a care home
      Assessment(day, AssessmentType::kReview, Outcome::kService);
      EnterCareHome(day + rng_.Range(7, 30), rng_.Chance(0.4));
    } else if (r < 0.32) {  // package changed
      Assessment(day, AssessmentType::kReview, Outcome::kService);
      const double hours = std::clamp(s.hours10 / 10.0 + rng_.Normal(3, 4), 2.0, 40.0);
      s.end = day;
      home_care_row_ = -1;
      StartHomeCare(day, hours);
    } else {
      Assessment(day, AssessmentType::kReview, Outcome::kService);
    }
  } else if (care_home_row_ >= 0 && day > buf_.services[static_cast<size_t>(care_home_row_)].start + 28 &&
             rng_.Chance(0.8)) {
    Assessment(day, AssessmentType::kReview, Outcome::kService);
  }
}

}  // namespace ark::synth
