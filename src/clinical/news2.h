// NEWS2 (Royal College of Physicians, 2017) as SPECS.md "Clinical rules for live indicators"
// states it. Parameters: respiration rate, SpO2 (scale 1, or scale 2 for hypercapnic
// respiratory failure), supplemental oxygen, systolic BP, pulse, consciousness (ACVPU) and
// temperature. Pure and thread-safe.
#pragma once

#include <cmath>
#include <limits>

namespace ark::clinical {

struct Vitals {
  static constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();
  double resp_rate = kMissing, spo2 = kMissing, systolic = kMissing, pulse = kMissing,
         temperature = kMissing;
  bool on_oxygen = false;
  char consciousness = 0;  // 'A','C' (new confusion),'V','P','U'; 0 = missing
  int spo2_scale = 1;      // 1 or 2
};

struct News2Result {
  int score = 0;             // sum of the parameter scores present
  bool any_single_3 = false; // some parameter scored 3 (urgent ward response)
  bool complete = false;     // all seven parameters present
};

News2Result News2(const Vitals& v);

// Per-parameter scores (0..3), exposed for tests and explanations; NaN/missing → 0.
int News2RespRate(double rr);
int News2SpO2(double spo2, int scale, bool on_oxygen);
int News2Systolic(double sbp);
int News2Pulse(double pulse);
int News2Temperature(double t);
int News2Consciousness(char c);

// Clinical response from the score: 0 none/low, 1 low-medium (single 3), 2 medium (≥5),
// 3 high (≥7).
int News2Response(const News2Result& r);

}  // namespace ark::clinical
