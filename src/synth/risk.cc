// The truth behind risk models: each person's probability of at least one emergency admission
// in the last calendar year of the window, from the hazards SimulateYears draws from, and the
// per-occurrence admission probabilities the pathways use.
#include <algorithm>
#include <cmath>

#include "synth/model.h"
#include "synth/simulator.h"

namespace ark::synth {

double PersonSim::AeAdmitProbability(double age) const {
  return std::min(0.7, (age < 16 ? 0.07 : age < 65 ? 0.14 : age < 75 ? 0.28 : 0.42) * (1 + 0.1 * Conditions()));
}
double PersonSim::CopdSevereProbability(double age, int d) const {
  return 0.25 * (age >= 75 ? 1.4 : 1) * model::DepRR(d, 0.05);
}
double PersonSim::HipFractureProbability(double age) const {
  return 0.2 * (age >= 80 ? 1.4 : 1) * (sex_ == 'F' ? 1.3 : 1);
}
double PersonSim::FallAdmitProbability() const { return 0.28 + 0.08 * frailty_; }
double PersonSim::TerminalAdmissionProbability() const { return care_home_ ? 0.25 : 0.47; }

double PersonSim::EmergencyAdmissionRisk(int32_t t0, int32_t y1, const YearRates& r, double death_hazard) const {
  // Occurrences fall uniformly in the year and the admission probability of one depends on the
  // age on its day, so the hazard of an admitting occurrence is rate x the mean probability
  // over the year (24 equal slices; only age thresholds move within a year).
  constexpr int kSlices = 24;
  const int d = Decile();
  double h = 0;
  for (int k = 0; k < kSlices; ++k) {
    const double age = AgeAt(t0) + (k + 0.5) / kSlices * (y1 - t0) / 365.25;
    const double p_hip = std::min(1.0, HipFractureProbability(age));
    const double fall = kFallToAe * (p_hip + (1 - p_hip) * std::min(1.0, FallAdmitProbability()));
    h += r.ae * AeAdmitProbability(age) + r.gp_emergency + r.copd * std::min(1.0, CopdSevereProbability(age, d)) +
         r.fall * fall + r.sepsis + r.community_aki * (1 - kAkiStage1 * kAkiStage1AtHome);
  }
  h /= kSlices;
  // Natural death ends the occurrences; with probability a it comes through an admission.
  // Death day is uniform over the year (the generator's winter excess is ignored here).
  const double p_death = 1 - std::exp(-death_hazard);
  const double a = TerminalAdmissionProbability() * (1 - kDiesInAe);
  const double survive_alive = std::exp(-h);
  const double survive_until_death = h > 1e-12 ? (1 - std::exp(-h)) / h : 1.0;
  const double none = (1 - p_death) * survive_alive + p_death * (1 - a) * survive_until_death;
  return std::clamp(1 - none, 0.0, 1.0);
}

}  // namespace ark::synth
