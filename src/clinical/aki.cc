// NHS England AKI algorithm (aki.h).
#include "clinical/aki.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace ark::clinical {

int AkiStage(std::span<const Creatinine> history, const Creatinine& result, const AkiOptions& opts) {
  const double c1 = result.umol_per_l;
  if (!(c1 > 0)) return 0;
  constexpr Seconds kDay = kSecondsPerDay;
  double rv1 = 0;  // lowest 0–7 days before
  bool have_rv1 = false;
  std::vector<double> older;  // 8–365 days before
  double lowest_48h = 0;
  bool have_48h = false;
  for (const Creatinine& h : history) {
    if (!(h.umol_per_l > 0)) continue;
    if (h.time == result.time && h.umol_per_l == c1) continue;  // C1 itself
    Seconds age = result.time - h.time;
    if (age < 0) continue;  // after C1
    if (age <= 7 * kDay) {
      if (!have_rv1 || h.umol_per_l < rv1) rv1 = h.umol_per_l;
      have_rv1 = true;
    } else if (age <= 365 * kDay) {
      older.push_back(h.umol_per_l);
    }
    if (age <= 2 * kDay) {
      if (!have_48h || h.umol_per_l < lowest_48h) lowest_48h = h.umol_per_l;
      have_48h = true;
    }
  }
  double ratio = 0;
  bool have_ratio = false;
  if (have_rv1) {
    ratio = c1 / rv1;
    have_ratio = true;
  }
  if (!older.empty()) {
    std::sort(older.begin(), older.end());
    size_t n = older.size();
    double rv2 = n % 2 ? older[n / 2] : (older[n / 2 - 1] + older[n / 2]) / 2;
    ratio = std::max(ratio, c1 / rv2);
    have_ratio = true;
  }
  if (!have_ratio) return 0;  // no result within 365 days: no stage
  if (ratio >= 1.5) {
    if (ratio >= 3) return 3;
    if (c1 > opts.stage3_absolute) return 3;
    if (ratio >= 2) return 2;
    return 1;
  }
  if (opts.rise_26_in_48h && have_48h && c1 - lowest_48h > 26) return 1;
  return 0;
}

double CreatinineUmolPerL(std::string_view system, std::string_view code, double value, std::string_view unit) {
  if (std::isnan(value)) return value;
  bool umol_code = code == "14682-9" || code == "59826-8" || code == "CREA" || code == "CRE" ||
                   code == "XCREAT" || code == "1000731000000107" || code == "SCR";
  bool mgdl_code = code == "2160-0" || code == "38483-4";
  if (!umol_code && !mgdl_code) return std::numeric_limits<double>::quiet_NaN();
  bool mg = unit == "mg/dL" || unit == "mg/dl" || (unit.empty() && mgdl_code && value < 30);
  return mg ? value * 88.42 : value;
}

}  // namespace ark::clinical
