#include "report/need_section.h"

#include <gtest/gtest.h>

#include "stats/eb.h"

#include <cmath>

namespace ark {
namespace {

// A practice with 7 or fewer admissions is neither plotted nor named; the others' ratios use
// their counts rounded to 5; a small area whose counts are redacted is left out of the shrinkage.
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
  // Shrinkage sees only published counts: the area with 6 admissions is left out, and the others'
  // shrunk rates are those of the rounded counts (52 -> 50, 139 -> 140).
  const auto& top = out["need"]["small_areas"]["top10"];
  ASSERT_EQ(top.size(), 2u);
  auto eb = stats::EmpiricalBayesRates({50, 140}, {400, 900});
  ASSERT_TRUE(eb.ok());
  for (auto& a : top) {
    EXPECT_NE(a["area"], "AREA-2");
    EXPECT_EQ(a["admissions"].get<int64_t>() % 5, 0);
    const double want = 1000 * eb->estimate[a["area"] == "AREA-1" ? 0 : 1];
    EXPECT_NEAR(a["shrunk_per_1000"].get<double>(), want, 1e-9) << a.dump();
  }
  EXPECT_NE(html.find("1 area where either count is 7 or fewer is left out"), std::string::npos);
}

}  // namespace
}  // namespace ark
