// NEWS2 (news2.h).
#include "clinical/news2.h"

namespace ark::clinical {

int News2RespRate(double rr) {
  if (std::isnan(rr)) return 0;
  if (rr <= 8) return 3;
  if (rr <= 11) return 1;
  if (rr <= 20) return 0;
  if (rr <= 24) return 2;
  return 3;
}

int News2SpO2(double s, int scale, bool on_oxygen) {
  if (std::isnan(s)) return 0;
  if (scale != 2) {
    if (s <= 91) return 3;
    if (s <= 93) return 2;
    if (s <= 95) return 1;
    return 0;
  }
  if (s <= 83) return 3;
  if (s <= 85) return 2;
  if (s <= 87) return 1;
  if (s <= 92) return 0;          // 88–92
  if (!on_oxygen) return 0;       // ≥93 on air
  if (s <= 94) return 1;          // 93–94 on oxygen
  if (s <= 96) return 2;          // 95–96 on oxygen
  return 3;                       // ≥97 on oxygen
}

int News2Systolic(double v) {
  if (std::isnan(v)) return 0;
  if (v <= 90) return 3;
  if (v <= 100) return 2;
  if (v <= 110) return 1;
  if (v <= 219) return 0;
  return 3;
}

int News2Pulse(double v) {
  if (std::isnan(v)) return 0;
  if (v <= 40) return 3;
  if (v <= 50) return 1;
  if (v <= 90) return 0;
  if (v <= 110) return 1;
  if (v <= 130) return 2;
  return 3;
}

int News2Temperature(double t) {
  if (std::isnan(t)) return 0;
  // The chart is in steps of 0.1 °C: round to one decimal so 36.05 (→ 36.1) is not in a gap.
  double r = std::round(t * 10) / 10;
  if (r <= 35.0) return 3;
  if (r <= 36.0) return 1;
  if (r <= 38.0) return 0;
  if (r <= 39.0) return 1;
  return 2;
}

int News2Consciousness(char c) {
  return c == 'C' || c == 'V' || c == 'P' || c == 'U' ? 3 : 0;
}

News2Result News2(const Vitals& v) {
  int scores[7] = {News2RespRate(v.resp_rate),
                   News2SpO2(v.spo2, v.spo2_scale, v.on_oxygen),
                   v.on_oxygen ? 2 : 0,
                   News2Systolic(v.systolic),
                   News2Pulse(v.pulse),
                   News2Consciousness(v.consciousness),
                   News2Temperature(v.temperature)};
  News2Result r;
  for (int s : scores) {
    r.score += s;
    r.any_single_3 = r.any_single_3 || s == 3;
  }
  r.complete = !std::isnan(v.resp_rate) && !std::isnan(v.spo2) && !std::isnan(v.systolic) &&
               !std::isnan(v.pulse) && !std::isnan(v.temperature) && v.consciousness != 0;
  return r;
}

int News2Response(const News2Result& r) {
  if (r.score >= 7) return 3;
  if (r.score >= 5) return 2;
  if (r.any_single_3) return 1;
  return 0;
}

}  // namespace ark::clinical
