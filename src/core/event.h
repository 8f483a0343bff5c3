// The event model (docs/design.md): one row of a person's timeline. Close to MEDS
// (subject_id, time, code, numeric_value) with Ark's extras (end time, unit, source, encounter).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "core/time.h"

namespace ark {

using PersonKey = uint32_t;  // dense person key inside one Ark, 0..persons-1
using CodeId = uint32_t;     // id in the Ark's code dictionary ("SNOMED/22298006" -> 17)

constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();
constexpr uint32_t kNoEncounter = 0;

struct Event {
  PersonKey person = 0;
  Seconds time = 0;        // start time
  Seconds end = kNoTime;   // optional end time (spell discharge, A&E departure, package end)
  CodeId code = 0;         // "VOCAB/CODE" in the code dictionary
  double value = kNoValue; // optional numeric value; NaN when absent
  uint32_t unit = 0;       // id in the unit dictionary, 0 = none
  uint16_t source = 0;     // feed id (custodian), see the catalog
  uint32_t encounter = kNoEncounter;  // spell/attendance id within the source, 0 = none

  bool has_value() const { return !std::isnan(value); }
};

// Person-level attributes (no identifiers: see docs/threat-model.md).
struct Person {
  PersonKey key = 0;
  int16_t birth_year = 0;     // 0 = unknown
  uint8_t birth_month = 0;    // 1..12, 0 = unknown
  char sex = 'U';             // 'M', 'F', 'U'
  int32_t death_day = INT32_MIN;  // days since 1970-01-01, INT32_MIN = alive / unknown
  uint32_t lsoa = 0;          // id in the area dictionary, 0 = unknown
  uint8_t imd_decile = 0;     // 1 (most deprived) .. 10, 0 = unknown
  uint32_t practice = 0;      // id in the practice dictionary (latest registration), 0 = none
  uint8_t flags = 0;          // PersonFlag bits

  bool has_death() const { return death_day != INT32_MIN; }
};

enum PersonFlag : uint8_t {
  kLinkedByNhsNumber = 1 << 0,  // the person has a valid NHS-number pseudonym
  kOptOutKnown = 1 << 1,        // opt-out status was checked against the lists (fail closed if not)
  kOptedOutNational = 1 << 2,   // national data opt-out
  kOptedOutType1 = 1 << 3,      // type-1 dissent at the GP
};

// Included for a non-direct-care purpose only if known not to have opted out (fail closed).
inline bool AllowedForSecondaryUse(const Person& p) {
  return (p.flags & kOptOutKnown) && !(p.flags & (kOptedOutNational | kOptedOutType1));
}

}  // namespace ark
