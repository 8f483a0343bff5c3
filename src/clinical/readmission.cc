// 30-day emergency readmissions (readmission.h).
#include "clinical/readmission.h"

#include <string>

namespace ark::clinical {

bool ExcludedSpecialty(std::string_view s, const ReadmissionOptions& opts) {
  if (opts.exclude_cancer && (s == "370" || s == "800" || s == "503")) return true;
  if (opts.exclude_obstetrics && (s == "501" || s == "560")) return true;
  return false;
}

bool IsReadmission(Seconds previous_discharge, Seconds admit_time, const ReadmissionOptions& opts) {
  if (previous_discharge == kNoTime || admit_time == kNoTime) return false;
  int32_t days = DayOf(admit_time) - DayOf(previous_discharge);
  return days >= 0 && days < opts.window_days && admit_time >= previous_discharge;
}

bool IsEmergencyAdmissionType(std::string_view t) {
  if (t == "EM" || t == "E" || t == "A" || t == "U") return true;
  if (t.size() == 2 && t[0] == '2' && t[1] >= '1' && t[1] <= '8') return true;
  return false;
}

}  // namespace ark::clinical
