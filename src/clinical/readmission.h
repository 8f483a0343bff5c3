// 30-day emergency readmission (SPECS.md): an emergency admission within 0–29 days inclusive of
// the previous discharge (calendar days: day(admission) − day(previous discharge) in 0..29);
// denominator finished spells; cancer and obstetrics excluded by default.
#pragma once

#include <string_view>

#include "core/time.h"

namespace ark::clinical {

struct ReadmissionOptions {
  int window_days = 30;          // 0..window_days-1 inclusive
  bool exclude_cancer = true;    // treatment specialties 370 (medical oncology), 800 (clinical
                                 // oncology), 503 (gynaecological oncology)
  bool exclude_obstetrics = true;// treatment specialties 501 (obstetrics), 560 (midwifery)
};

// True when `specialty` (NHS treatment function code, e.g. PV1-10) is excluded by `opts`.
bool ExcludedSpecialty(std::string_view specialty, const ReadmissionOptions& opts = {});

// True when an emergency admission at `admit_time` is a readmission after a spell discharged at
// `previous_discharge` (kNoTime → false). The caller checks that the admission is an emergency
// (HL7 PV1-4 "EM"/ PV1-2 "E" or admission method 21–28) and applies ExcludedSpecialty.
bool IsReadmission(Seconds previous_discharge, Seconds admit_time,
                   const ReadmissionOptions& opts = {});

// Emergency admission by HL7 PV1-4 admission type ("EM", "E", "A" accident, "U" urgent, or an
// NHS admission method code 21–28).
bool IsEmergencyAdmissionType(std::string_view admission_type);

}  // namespace ark::clinical
