// Internal helpers of the importers: number parsing and OMOP/MEDS time formats.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "ark/status.h"
#include "core/time.h"

namespace ark::import_util {

inline bool ParseInt(std::string_view s, int64_t* out) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  if (r.ec == std::errc() && r.ptr == s.data() + s.size()) return true;
  // "12.0" written by some exporters for integer columns.
  double d = 0;
  auto r2 = std::from_chars(s.data(), s.data() + s.size(), d);
  if (r2.ec != std::errc() || r2.ptr != s.data() + s.size()) return false;
  // Only a whole number inside int64's range converts (a cast outside it is undefined).
  if (!(d >= -9.2e18 && d <= 9.2e18) || d != std::trunc(d)) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

inline bool ParseDouble(std::string_view s, double* out) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// "YYYY-MM-DD", "YYYY-MM-DD HH:MM:SS" or "YYYY-MM-DDTHH:MM:SS", with optional fractional
// seconds and a trailing "Z" or "+00:00" ignored (OMOP and MEDS times are local or UTC; the
// Ark keeps wall-clock times).
inline Result<Seconds> ParseDateTime(std::string_view s) {
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.size() > 19) s = s.substr(0, 19);
  if (s.size() == 19 && s[10] == 'T') return ParseTime(s, "%Y-%m-%dT%H:%M:%S");
  if (s.size() == 16 && s[10] == 'T') return ParseTime(s, "%Y-%m-%dT%H:%M");
  if (s.size() == 16) return ParseTime(s, "%Y-%m-%d %H:%M");
  return ParseTime(s, "%Y-%m-%d %H:%M:%S");
}

}  // namespace ark::import_util
