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
  // Small areas, by stratum: AREA-1 and AREA-3 have admissions above 7; AREA-2 has 6 (left out).
  c.area[1][NeedStratum(2, 'F')] = {250, 40};
  c.area[1][NeedStratum(3, 'M')] = {150, 45};
  c.area[2][NeedStratum(2, 'F')] = {30, 6};
  c.area[3][NeedStratum(2, 'F')] = {500, 59};
  c.area[3][NeedStratum(3, 'M')] = {400, 80};
  c.area_decile = {{1, 7}, {2, 4}, {3, 2}};
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
  // Expected counts from the region's own rates (all areas' exact people); shrinkage and excess
  // see only published admissions: AREA-2 is left out, AREA-1 85, AREA-3 139 -> 140.
  const double r2f = (40 + 6 + 59) / 780.0, r3m = (45 + 80) / 550.0;
  const double e1 = 250 * r2f + 150 * r3m, e3 = 500 * r2f + 400 * r3m;
  auto eb = stats::EmpiricalBayesRates({85, 140}, {e1, e3});
  ASSERT_TRUE(eb.ok());
  const auto& sa = out["need"]["small_areas"];
  EXPECT_EQ(sa["left_out_7_or_fewer"], 1);
  // Only AREA-1 has more admissions than expected once shrunk (about 10 a year); AREA-3 fewer.
  ASSERT_EQ(sa["ranking"].size(), 1u) << sa.dump();
  for (auto& a : sa["ranking"]) {
    EXPECT_EQ(a["small area"], "AREA-1");
    EXPECT_EQ(a["admissions"].get<int64_t>() % 5, 0);
    const bool one = a["small area"] == "AREA-1";
    EXPECT_NEAR(a["expected"].get<double>(), one ? e1 : e3, 1e-9);
    EXPECT_NEAR(a["ratio"].get<double>(), (one ? 85 : 140) / (one ? e1 : e3), 1e-12);
    EXPECT_NEAR(a["shrunk_ratio"].get<double>(), eb->estimate[one ? 0 : 1], 1e-12);
    EXPECT_NEAR(a["excess_admissions"].get<double>(), (one ? e1 : e3) * (eb->estimate[one ? 0 : 1] - 1), 1e-9);
    EXPECT_GT(a["excess_admissions"].get<double>(), 0);
    EXPECT_EQ(a["imd_decile"], one ? 7 : 2);
  }
  EXPECT_NE(html.find("1 area is left out"), std::string::npos);
  // The grid: every area, most deprived first (AREA-3 decile 2, AREA-2 decile 4, AREA-1 decile 7);
  // the left-out area is a grey tile; the caption says it is not a map.
  const size_t t3 = html.find("<title>AREA-3 (IMD decile 2): "), t2 = html.find("<title>AREA-2 (IMD decile 4): left out</title>"),
               t1 = html.find("<title>AREA-1 (IMD decile 7): ");
  ASSERT_NE(t3, std::string::npos);
  ASSERT_NE(t2, std::string::npos);
  ASSERT_NE(t1, std::string::npos);
  EXPECT_LT(t3, t2);
  EXPECT_LT(t2, t1);
  EXPECT_NE(html.find("<figcaption>Not a map: the synthetic region has no coordinates"), std::string::npos);
  EXPECT_NE(html.find("Where extra capacity would prevent the most admissions"), std::string::npos);
}

}  // namespace
}  // namespace ark
