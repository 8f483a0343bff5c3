// Calendar and time helpers. Ark keeps time as int64 seconds since 1970-01-01T00:00:00 in the
// custodian's local civil time (no time zones: clinical extracts carry local wall-clock times).
// Days are int32 days since 1970-01-01. All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ark/status.h"

namespace ark {

using Seconds = int64_t;
constexpr Seconds kSecondsPerDay = 86400;
// Marks "no time" in optional time columns.
constexpr Seconds kNoTime = INT64_MIN;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int32_t DaysFromCivil(int y, unsigned m, unsigned d);
struct CivilDate {
  int year;
  unsigned month;
  unsigned day;
};
CivilDate CivilFromDays(int32_t days);
bool IsValidDate(int y, unsigned m, unsigned d);
inline int32_t DayOf(Seconds t) {
  return static_cast<int32_t>(t >= 0 ? t / kSecondsPerDay : (t - (kSecondsPerDay - 1)) / kSecondsPerDay);
}

// Parses `text` by a strftime-like `format` of fixed-width fields: %Y (4 digits), %m, %d, %H, %M,
// %S (2 digits each); any other character must match itself. A format may end early: text that
// stops at a separator right after the date part ("2020-01-02" for "%Y-%m-%d %H:%M") is accepted
// as midnight. Returns InvalidArgument with a short reason ("month 13", "expected '-'").
Result<Seconds> ParseTime(std::string_view text, std::string_view format);

// "YYYY-MM-DD" and "YYYY-MM-DD HH:MM:SS" (seconds dropped when zero: "YYYY-MM-DD HH:MM").
std::string FormatDate(int32_t days);
std::string FormatTime(Seconds t);

}  // namespace ark
