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
