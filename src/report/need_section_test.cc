#include "report/need_section.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ark {
namespace {

// A practice with 7 or fewer admissions is neither plotted nor named; the others' ratios use
// their counts rounded to 5; a small area's raw rate is redacted when its counts are.
TEST(NeedSection, HidesSmallPracticesAndUsesRoundedCounts) {
  Dictionaries d;
  d.practices = {"", "P-SMALL", "P-B", "P-C", "P-D"};
  d.areas = {"", "AREA-1", "AREA-2", "AREA-3"};
  NeedCounts c;
  const int64_t adm[] = {0, 5, 43, 61, 88};
  for (uint32_t p = 1; p <= 4; ++p) {
    c.practice[p][NeedStratum(2, 'F')] = {100 * static_cast<int64_t>(p), adm[p] / 2};
    c.practice[p][NeedStratum(3, 'M')] = {80 * static_cast<int64_t>(p), adm[p] - adm[p] / 2};
  }
  c.area[1] = {400, 52};
  c.area[2] = {30, 6};  // raw rate redacted (6 admissions)
  c.area[3] = {900, 139};
  nlohmann::ordered_json out;
  const std::string html = NeedSectionHtml(c, d, 2025, &out);
  EXPECT_NE(html.find("<h2>Where need is highest: practices and small areas</h2>"), std::string::npos);
  EXPECT_EQ(html.find("P-SMALL"), std::string::npos);
  EXPECT_NE(html.find("1 practice is left out"), std::string::npos);
  const auto& pts = out["need"]["practices"]["points"];
  ASSERT_EQ(pts.size(), 3u);
  for (auto& p : pts) {
    const double o = p["observed_rounded"];
    EXPECT_EQ(std::fmod(o, 5.0), 0.0) << p.dump();
    EXPECT_NEAR(p["ratio"].get<double>(), o / p["expected"].get<double>(), 1e-12);
  }
  EXPECT_EQ(pts[0]["observed_rounded"], 45);  // 43 rounded
  const auto& top = out["need"]["small_areas"]["top10"];
  ASSERT_EQ(top.size(), 3u);
  for (auto& a : top) {
    if (a["area"] == "AREA-2") {
      EXPECT_EQ(a["admissions"], "[REDACTED]");
      EXPECT_EQ(a["raw_per_1000"], "[REDACTED]");
    } else {
      EXPECT_EQ(a["admissions"].get<int64_t>() % 5, 0);
    }
  }
}

}  // namespace
}  // namespace ark
