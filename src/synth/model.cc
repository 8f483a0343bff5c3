#include "synth/model.h"

#include <array>
#include <cmath>
#include <initializer_list>
#include <utility>

namespace ark::synth::model {
namespace {

// Piecewise-linear interpolation over (age, value) knots; flat outside.
double Interp(std::initializer_list<std::pair<double, double>> knots, double age) {
  const std::pair<double, double>* prev = nullptr;
  for (const auto& k : knots) {
    if (age <= k.first) {
      if (prev == nullptr) return k.second;
      double f = (age - prev->first) / (k.first - prev->first);
      return prev->second + f * (k.second - prev->second);
    }
    prev = &k;
  }
  return prev->second;
}

// England mid-2021, percent of persons by five-year band 0-4 .. 95-99, and female share.
const double kBandShare[20] = {5.4, 5.9, 6.0, 5.6, 6.0, 6.6, 6.9, 6.6, 6.3, 6.4,
                               6.9, 6.7, 5.8, 5.0, 5.0, 3.6, 2.5, 1.5, 0.7, 0.25};
const double kFemaleShare[20] = {0.488, 0.488, 0.488, 0.488, 0.495, 0.505, 0.51, 0.51, 0.505, 0.505,
                                 0.505, 0.505, 0.51, 0.515, 0.525, 0.54, 0.56, 0.60, 0.66, 0.74};

}  // namespace

double DepRR(int decile, double strength) { return std::exp(strength * (5.5 - decile)); }

double BornInWindowShare(int years) { return kBirthRate * years / (1.0 + kBirthRate * years); }

void DrawStartAgeSex(Rng& rng, double* age, char* sex, const double* band_weight) {
  size_t band;
  if (band_weight == nullptr) {
    band = rng.Weighted(kBandShare);
  } else {
    std::array<double, 20> w;
    for (size_t b = 0; b < w.size(); ++b) w[b] = kBandShare[b] * band_weight[b];
    band = rng.Weighted(w);
  }
  *age = 5.0 * static_cast<double>(band) + rng.Uniform(0, 5);
  *sex = rng.Chance(kFemaleShare[band]) ? 'F' : 'M';
}

double Mortality(double age, char sex) {
  double h;
  if (age < 1) h = 0.0036;
  else if (age < 15) h = 0.0001;
  else if (age < 45) h = Interp({{15, 0.0003}, {25, 0.0006}, {35, 0.0010}, {45, 0.0018}}, age);
  else h = std::exp(-10.35 + 0.0925 * age);
  if (h > 0.6) h = 0.6;
  return h * (sex == 'M' ? 1.12 : 0.88);
}

double CopdPrevalence(double age) {
  return Interp({{35, 0}, {40, 0.002}, {50, 0.009}, {60, 0.024}, {70, 0.041}, {80, 0.052}, {90, 0.048}}, age);
}
double AsthmaPrevalence(double age) {
  return Interp({{0, 0}, {5, 0.06}, {15, 0.08}, {40, 0.06}, {70, 0.055}, {100, 0.05}}, age);
}
double DiabetesPrevalence(double age) {
  return Interp({{20, 0.001}, {30, 0.007}, {40, 0.022}, {50, 0.054}, {60, 0.10}, {70, 0.135}, {80, 0.145}, {100, 0.12}}, age);
}
double HypertensionPrevalence(double age) {
  return Interp({{25, 0.005}, {30, 0.02}, {40, 0.07}, {50, 0.16}, {60, 0.28}, {70, 0.40}, {80, 0.48}, {100, 0.50}}, age);
}
double CkdPrevalence(double age) {
  return Interp({{40, 0}, {50, 0.01}, {60, 0.035}, {70, 0.09}, {80, 0.18}, {100, 0.28}}, age);
}
double Incidence(double (*prevalence)(double), double age) {
  double rise = prevalence(age + 1) - prevalence(age);
  return rise > 0.0002 ? rise * 1.3 : 0.0002;
}
double SmokingPrevalence(double age) {
  return Interp({{15, 0}, {16, 0.06}, {20, 0.16}, {35, 0.17}, {60, 0.12}, {75, 0.07}, {90, 0.03}}, age);
}

double GpConsultRate(double age, char sex) {
  double base = Interp({{0, 2.2}, {5, 0.8}, {15, 0.75}, {25, 0.95}, {45, 1.2}, {65, 1.75}, {75, 2.3}, {85, 2.8}}, age);
  if (sex == 'F') base *= (age >= 15 && age < 65) ? 1.45 : 1.1;
  return base;
}
double AeRate(double age) {
  return Interp({{0, 0.45}, {5, 0.22}, {16, 0.32}, {25, 0.25}, {45, 0.21}, {65, 0.23}, {75, 0.3}, {85, 0.42}}, age);
}
double ElectiveRate(double age) {
  return Interp({{0, 0.02}, {18, 0.04}, {50, 0.10}, {65, 0.17}, {75, 0.2}, {85, 0.12}, {95, 0.06}}, age);
}
double GpEmergencyRate(double age) {
  return Interp({{0, 0.003}, {45, 0.004}, {65, 0.01}, {75, 0.02}, {85, 0.04}}, age);
}
double SepsisRate(double age) {
  return Interp({{0, 0.0006}, {40, 0.0006}, {60, 0.0015}, {70, 0.003}, {80, 0.0065}, {90, 0.011}}, age);
}
double MoveRate(double age) {
  return Interp({{0, 0.07}, {17, 0.07}, {20, 0.2}, {30, 0.15}, {40, 0.07}, {55, 0.045}, {70, 0.03}}, age);
}
double SocialNeedsRate(double age) {
  return Interp({{18, 0.002}, {64, 0.003}, {70, 0.01}, {80, 0.03}, {90, 0.07}}, age);
}

}  // namespace ark::synth::model
