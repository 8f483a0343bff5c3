#include "core/time.h"

#include <gtest/gtest.h>

namespace ark {

TEST(Time, CivilRoundTrip) {
  for (int32_t d = -800000; d < 800000; d += 97) {
    CivilDate c = CivilFromDays(d);
    EXPECT_EQ(DaysFromCivil(c.year, c.month, c.day), d);
  }
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
}

TEST(Time, ParseFormats) {
  EXPECT_EQ(*ParseTime("2020-02-29", "%Y-%m-%d"), DaysFromCivil(2020, 2, 29) * kSecondsPerDay);
  EXPECT_EQ(*ParseTime("29/02/2020", "%d/%m/%Y"), DaysFromCivil(2020, 2, 29) * kSecondsPerDay);
  EXPECT_EQ(*ParseTime("20200229", "%Y%m%d"), DaysFromCivil(2020, 2, 29) * kSecondsPerDay);
  EXPECT_EQ(*ParseTime("2020-02-29 13:45", "%Y-%m-%d %H:%M"),
            DaysFromCivil(2020, 2, 29) * kSecondsPerDay + 13 * 3600 + 45 * 60);
  // Date only where a time is allowed means midnight.
  EXPECT_EQ(*ParseTime("2020-02-29", "%Y-%m-%d %H:%M"), DaysFromCivil(2020, 2, 29) * kSecondsPerDay);
}

TEST(Time, ParseErrors) {
  EXPECT_FALSE(ParseTime("2019-02-29", "%Y-%m-%d").ok());
  EXPECT_FALSE(ParseTime("2019-13-01", "%Y-%m-%d").ok());
  EXPECT_FALSE(ParseTime("2019-1-01", "%Y-%m-%d").ok());
  EXPECT_FALSE(ParseTime("2019-01-01x", "%Y-%m-%d").ok());
  EXPECT_FALSE(ParseTime("", "%Y-%m-%d").ok());
  EXPECT_NE(ParseTime("2019-13-01", "%Y-%m-%d").status().message().find("month 13"), std::string::npos);
}

TEST(Time, Format) {
  EXPECT_EQ(FormatDate(DaysFromCivil(2021, 7, 4)), "2021-07-04");
  EXPECT_EQ(FormatTime(DaysFromCivil(2021, 7, 4) * kSecondsPerDay + 3600 * 9 + 60 * 5), "2021-07-04 09:05");
  EXPECT_EQ(DayOf(-1), -1);
}

}  // namespace ark

namespace ark {

// The ISO fast path and the general parser agree on every input, valid or not.
TEST(Time, FastPathAgreesWithGeneralParser) {
  const char* formats[] = {"%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"};
  const char* inputs[] = {"2020-02-29", "2019-02-29", "2020-13-01", "2020-00-10", "2020-01-00", "2020-1-01",
                          "2020-01-02 03:04", "2020-01-02 24:00", "2020-01-02 23:60", "2020-01-02 03:04:05",
                          "2020-01-02 03:04:60", "2020-01-02T03:04", "2020-01-02 3:04", "20x0-01-02", "2020-01-02 "};
  for (const char* f : formats) {
    for (const char* in : inputs) {
      auto a = ParseTime(in, f);
      // Reference: the general parser, reached through a format the fast path does not take.
      std::string f2 = std::string(f) + "";
      auto b = ParseTime(std::string("#") + in, std::string("#") + f2);
      EXPECT_EQ(a.ok(), b.ok()) << f << " " << in;
      if (a.ok() && b.ok()) EXPECT_EQ(*a, *b) << f << " " << in;
    }
  }
}

}  // namespace ark
