// Fast text formatting for the synthetic region's CSV files: integers, fixed decimals, dates
// in the custodians' styles, "YYYY-MM-DD HH:MM" times. Appends to a std::string; no locale,
// no allocation beyond the string's growth. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/time.h"

namespace ark::synth {

inline void AppendUint(std::string* out, uint64_t v) {
  char buf[24];
  char* p = buf + sizeof buf;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  out->append(p, static_cast<size_t>(buf + sizeof buf - p));
}

inline void AppendInt(std::string* out, int64_t v) {
  if (v < 0) {
    out->push_back('-');
    AppendUint(out, static_cast<uint64_t>(-(v + 1)) + 1);
  } else {
    AppendUint(out, static_cast<uint64_t>(v));
  }
}

// `v` zero-padded to `width` digits.
inline void AppendPadded(std::string* out, uint64_t v, int width) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (int i = n; i < width; ++i) out->push_back('0');
  while (n > 0) out->push_back(buf[--n]);
}

// A value held as value x 10, printed with 0 or 1 decimals ("7", "7.5").
inline void AppendTenths(std::string* out, int32_t v10, int decimals) {
  if (v10 < 0) {
    out->push_back('-');
    v10 = -v10;
  }
  AppendUint(out, static_cast<uint64_t>(v10 / 10));
  if (decimals > 0) {
    out->push_back('.');
    out->push_back(static_cast<char>('0' + v10 % 10));
  }
}

enum class DateStyle {
  kIso,       // 2024-03-07
  kDmySlash,  // 07/03/2024
  kDmyDash,   // 07-03-2024
  kCompact,   // 20240307
};

inline void AppendDate(std::string* out, int32_t day, DateStyle style) {
  const CivilDate c = CivilFromDays(day);
  const uint64_t y = static_cast<uint64_t>(c.year);
  switch (style) {
    case DateStyle::kIso:
      AppendPadded(out, y, 4), out->push_back('-'), AppendPadded(out, c.month, 2), out->push_back('-'), AppendPadded(out, c.day, 2);
      break;
    case DateStyle::kDmySlash:
      AppendPadded(out, c.day, 2), out->push_back('/'), AppendPadded(out, c.month, 2), out->push_back('/'), AppendPadded(out, y, 4);
      break;
    case DateStyle::kDmyDash:
      AppendPadded(out, c.day, 2), out->push_back('-'), AppendPadded(out, c.month, 2), out->push_back('-'), AppendPadded(out, y, 4);
      break;
    case DateStyle::kCompact:
      AppendPadded(out, y, 4), AppendPadded(out, c.month, 2), AppendPadded(out, c.day, 2);
      break;
  }
}

// Minutes since 1970-01-01 as "YYYY-MM-DD HH:MM".
inline void AppendMinutes(std::string* out, int32_t minutes) {
  const int32_t day = minutes >= 0 ? minutes / 1440 : -((-minutes + 1439) / 1440);
  const int32_t in_day = minutes - day * 1440;
  AppendDate(out, day, DateStyle::kIso);
  out->push_back(' ');
  AppendPadded(out, static_cast<uint64_t>(in_day / 60), 2);
  out->push_back(':');
  AppendPadded(out, static_cast<uint64_t>(in_day % 60), 2);
}

}  // namespace ark::synth
