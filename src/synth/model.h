// Epidemiological parameters of the synthetic region: population structure, mortality,
// prevalence and incidence of long-term conditions, and rates of care use by age, sex and
// deprivation. Rough England-like figures (ONS mid-year estimates, QOF prevalence, HES
// activity per head), tuned so that a person has 50-70 timeline events over ten years.
// All functions are pure and thread-safe; rates are per person per year.
#pragma once

#include "synth/rng.h"

namespace ark::synth::model {

// Relative risk for IMD decile `decile` (1 most deprived .. 10 least): exp(strength * (5.5 - d)).
// strength 0.1 gives about 1.57 in decile 1 and 0.64 in decile 10.
double DepRR(int decile, double strength);

// Annual birth rate per resident; the share of N born in a window of `years` follows from it.
constexpr double kBirthRate = 0.0105;
double BornInWindowShare(int years);

// Age (years, fractional) and sex of a resident at the start of the window. `band_weight`
// (20 values, or null for England's structure) multiplies each five-year band's share.
void DrawStartAgeSex(Rng& rng, double* age, char* sex, const double* band_weight = nullptr);

// Annual all-cause death hazard before person-level multipliers.
double Mortality(double age, char sex);

// Prevalence at the start of the window (before deprivation / smoking multipliers).
double CopdPrevalence(double age);
double AsthmaPrevalence(double age);
double DiabetesPrevalence(double age);
double HypertensionPrevalence(double age);
double CkdPrevalence(double age);
// Annual incidence among those without the condition: the rise of prevalence with age.
double Incidence(double (*prevalence)(double), double age);
// Current smoking among adults (16+) before deprivation.
double SmokingPrevalence(double age);

double GpConsultRate(double age, char sex);
double AeRate(double age);
double ElectiveRate(double age);
double GpEmergencyRate(double age);
double SepsisRate(double age);
double MoveRate(double age);
double SocialNeedsRate(double age);

}  // namespace ark::synth::model
