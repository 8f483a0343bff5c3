// HL7 DTM/TS timestamps (hl7.h).
#include <chrono>

#include <fmt/format.h>

#include "hl7/hl7.h"

namespace ark::hl7 {
namespace {

bool Digits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

int Num(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

}  // namespace

Result<Seconds> ParseTimestamp(std::string_view ts) {
  std::string_view body = ts;
  int offset_sign = 0;
  std::string_view offset;
  size_t sign = body.find_first_of("+-");
  if (sign != std::string_view::npos) {
    offset_sign = body[sign] == '+' ? 1 : -1;
    offset = body.substr(sign + 1);
    body = body.substr(0, sign);
  }
  size_t dot = body.find('.');
  if (dot != std::string_view::npos) {
    std::string_view frac = body.substr(dot + 1);
    if (frac.empty() || frac.size() > 4 || !Digits(frac)) return Status::InvalidArgument("bad fraction of a second");
    body = body.substr(0, dot);
    if (body.size() != 14) return Status::InvalidArgument("fraction without seconds");
  }
  if (!Digits(body)) return Status::InvalidArgument("expected digits");
  size_t n = body.size();
  if (n != 4 && n != 6 && n != 8 && n != 10 && n != 12 && n != 14) {
    return Status::InvalidArgument(fmt::format("expected 4, 6, 8, 10, 12 or 14 digits, got {}", n));
  }
  int y = Num(body.substr(0, 4));
  int mo = n >= 6 ? Num(body.substr(4, 2)) : 1;
  int d = n >= 8 ? Num(body.substr(6, 2)) : 1;
  int h = n >= 10 ? Num(body.substr(8, 2)) : 0;
  int mi = n >= 12 ? Num(body.substr(10, 2)) : 0;
  int s = n >= 14 ? Num(body.substr(12, 2)) : 0;
  if (mo < 1 || mo > 12) return Status::InvalidArgument(fmt::format("month {}", mo));
  if (!IsValidDate(y, mo, d)) return Status::InvalidArgument(fmt::format("day {} of {}-{:02}", d, y, mo));
  if (h > 23) return Status::InvalidArgument(fmt::format("hour {}", h));
  if (mi > 59) return Status::InvalidArgument(fmt::format("minute {}", mi));
  if (s > 59) return Status::InvalidArgument(fmt::format("second {}", s));
  Seconds t = static_cast<Seconds>(DaysFromCivil(y, mo, d)) * kSecondsPerDay + h * 3600 + mi * 60 + s;
  if (offset_sign != 0) {
    if (offset.size() != 4 || !Digits(offset)) return Status::InvalidArgument("bad offset (expected +/-ZZZZ)");
    int oh = Num(offset.substr(0, 2)), om = Num(offset.substr(2, 2));
    if (oh > 14 || om > 59) return Status::InvalidArgument("bad offset");
    t -= offset_sign * (oh * 3600 + om * 60);
  }
  return t;
}

std::string FormatTimestamp(Seconds t) {
  int32_t day = DayOf(t);
  Seconds sec = t - static_cast<Seconds>(day) * kSecondsPerDay;
  CivilDate c = CivilFromDays(day);
  return fmt::format("{:04}{:02}{:02}{:02}{:02}{:02}", c.year, c.month, c.day, sec / 3600, sec / 60 % 60,
                     sec % 60);
}

}  // namespace ark::hl7
