#include "core/time.h"

#include <cstdio>

namespace ark {

int32_t DaysFromCivil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int>(doe) - 719468;
}

CivilDate CivilFromDays(int32_t z) {
  z += 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int y = static_cast<int>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

bool IsValidDate(int y, unsigned m, unsigned d) {
  if (m < 1 || m > 12 || d < 1) return false;
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  unsigned max = kDays[m - 1];
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) max = 29;
  return d <= max;
}

namespace {

// Digits at text[i..i+n) as a number, or -1.
inline int Digits(std::string_view t, size_t i, size_t n) {
  int v = 0;
  for (size_t k = i; k < i + n; ++k) {
    const unsigned c = static_cast<unsigned char>(t[k]) - '0';
    if (c > 9) return -1;
    v = v * 10 + static_cast<int>(c);
  }
  return v;
}

}  // namespace

Result<Seconds> ParseTime(std::string_view text, std::string_view format) {
  // Fast path for ISO dates and date-times ("%Y-%m-%d", "%Y-%m-%d %H:%M[:%S]"), the common case.
  if (format.size() >= 8 && format.substr(0, 8) == "%Y-%m-%d" && text.size() >= 10 && text[4] == '-' && text[7] == '-') {
    const int y = Digits(text, 0, 4), mo = Digits(text, 5, 2), d = Digits(text, 8, 2);
    int h = 0, mi = 0, sec = 0;
    bool ok = y >= 0 && mo >= 1 && mo <= 12 && d >= 1 && IsValidDate(y, mo, d);
    if (ok && text.size() != 10) {
      if (format == "%Y-%m-%d %H:%M" && text.size() == 16 && text[10] == ' ' && text[13] == ':') {
        h = Digits(text, 11, 2);
        mi = Digits(text, 14, 2);
      } else if (format == "%Y-%m-%d %H:%M:%S" && text.size() == 19 && text[10] == ' ' && text[13] == ':' && text[16] == ':') {
        h = Digits(text, 11, 2);
        mi = Digits(text, 14, 2);
        sec = Digits(text, 17, 2);
      } else {
        ok = false;
      }
      ok = ok && h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && sec >= 0 && sec <= 59;
    } else if (ok && format.size() > 8 && format != "%Y-%m-%d %H:%M" && format != "%Y-%m-%d %H:%M:%S") {
      ok = false;  // other formats that start like an ISO date: take the general path
    }
    if (ok) return static_cast<Seconds>(DaysFromCivil(y, mo, d)) * kSecondsPerDay + h * 3600 + mi * 60 + sec;
    // Fall through: the general parser gives the precise error.
  }
  int y = 1970, mo = 1, d = 1, h = 0, mi = 0, s = 0;
  size_t i = 0;
  bool date_done = false;
  for (size_t f = 0; f < format.size(); ++f) {
    if (i == text.size() && date_done) break;  // time part omitted
    if (format[f] == '%' && f + 1 < format.size()) {
      const char spec = format[++f];
      const int width = spec == 'Y' ? 4 : 2;
      if (i + width > text.size()) return Status::InvalidArgument("too short for format " + std::string(format));
      int v = 0;
      for (int k = 0; k < width; ++k) {
        const char c = text[i + k];
        if (c < '0' || c > '9') return Status::InvalidArgument("expected a digit at position " + std::to_string(i + k + 1));
        v = v * 10 + (c - '0');
      }
      i += width;
      switch (spec) {
        case 'Y': y = v; break;
        case 'm': mo = v; break;
        case 'd': d = v; break;
        case 'H': h = v; break;
        case 'M': mi = v; break;
        case 'S': s = v; break;
        default: return Status::InvalidArgument("unknown format field %" + std::string(1, spec));
      }
      if (spec == 'd' || (spec == 'Y' && format.find("%d") < f)) date_done = true;
    } else {
      if (i >= text.size() || text[i] != format[f]) {
        return Status::InvalidArgument(std::string("expected '") + format[f] + "' at position " + std::to_string(i + 1));
      }
      ++i;
    }
  }
  if (i != text.size()) return Status::InvalidArgument("unexpected text after position " + std::to_string(i));
  if (mo < 1 || mo > 12) return Status::InvalidArgument("month " + std::to_string(mo));
  if (!IsValidDate(y, mo, d)) return Status::InvalidArgument("day " + std::to_string(d) + " of month " + std::to_string(mo));
  if (h > 23 || mi > 59 || s > 59) return Status::InvalidArgument("time of day out of range");
  return static_cast<Seconds>(DaysFromCivil(y, mo, d)) * kSecondsPerDay + h * 3600 + mi * 60 + s;
}

std::string FormatDate(int32_t days) {
  const CivilDate c = CivilFromDays(days);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", c.year, c.month, c.day);
  return buf;
}

std::string FormatTime(Seconds t) {
  const int32_t days = DayOf(t);
  const int64_t sod = t - static_cast<int64_t>(days) * kSecondsPerDay;
  char buf[40];
  const CivilDate c = CivilFromDays(days);
  if (sod % 60 == 0) {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d", c.year, c.month, c.day,
                  static_cast<int>(sod / 3600), static_cast<int>(sod / 60 % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d:%02d", c.year, c.month, c.day,
                  static_cast<int>(sod / 3600), static_cast<int>(sod / 60 % 60), static_cast<int>(sod % 60));
  }
  return buf;
}

}  // namespace ark
