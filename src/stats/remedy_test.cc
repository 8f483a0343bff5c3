#include "stats/remedy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "stats/risk_model.h"

namespace ark::stats {
namespace {

// Within each group the fit recovers the intercept and slope the outcomes were drawn with; a
// small group and an unseen label are left unchanged; the model file's JSON round-trips.
TEST(Remedy, RecoversGroupRecalibrationAndLeavesSmallGroupsAlone) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> p;
  std::vector<int> y;
  std::vector<std::string> g;
  for (int i = 0; i < 60000; ++i) {
    const bool a = i % 2 == 0;
    const double q = 0.01 + 0.5 * u(rng), lq = std::log(q / (1 - q));
    const double lt = a ? -0.5 + 1.3 * lq : 0.4 + 0.7 * lq;
    p.push_back(q);
    y.push_back(u(rng) < 1 / (1 + std::exp(-lt)));
    g.push_back(a ? "A" : "B");
  }
  for (int i = 0; i < 20; ++i) p.push_back(0.2), y.push_back(i < 3), g.push_back("tiny");
  auto r = FitGroupRecalibration(p, y, g, 10);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NEAR(r->groups["A"].intercept, -0.5, 0.08);
  EXPECT_NEAR(r->groups["A"].slope, 1.3, 0.05);
  EXPECT_NEAR(r->groups["B"].intercept, 0.4, 0.08);
  EXPECT_NEAR(r->groups["B"].slope, 0.7, 0.05);
  EXPECT_FALSE(r->groups["tiny"].fitted);  // 3 cases < 10
  const auto out = ApplyRecalibration(*r, {0.2, 0.2, 0.2}, {"A", "tiny", "never seen"});
  const double la = std::log(0.2 / 0.8);
  EXPECT_NEAR(out[0], 1 / (1 + std::exp(-(r->groups["A"].intercept + r->groups["A"].slope * la))), 1e-12);
  EXPECT_EQ(out[1], 0.2);
  EXPECT_EQ(out[2], 0.2);
  r->group_variable = "quintile";
  auto back = RecalibrationFromJson(RecalibrationJson(*r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->group_variable, "quintile");
  EXPECT_EQ(back->groups["B"].slope, r->groups["B"].slope);
  EXPECT_FALSE(back->groups["tiny"].fitted);
  EXPECT_FALSE(RecalibrationFromJson({{"type", "other"}}).ok());
  EXPECT_FALSE(FitGroupRecalibration({0.5}, {1}, {}, 10).ok());
}

// A region where the learner lacks what differs between two groups: group A has higher x but a
// lower baseline risk, so a model on x alone over-predicts in A and flags too many of A (its
// false-negative rate at the top 5% is far below B's). Recalibrating within each group must close
// most of the gap, and leave the overall calibration as good as it was.
FeatureTable Shifted(uint64_t seed, size_t n, const std::string& date) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> z(0, 1);
  FeatureTable t;
  t.index_date = date;
  t.features = {"x"};
  t.x.cols = 1;
  for (size_t i = 0; i < n; ++i) {
    const bool a = u(rng) < 0.5;
    const double x = z(rng) + (a ? 0.8 : 0);
    t.x.values.push_back(x);
    ++t.x.rows;
    t.y.push_back(u(rng) < 1 / (1 + std::exp(-((a ? -4 : -3) + x))));
    t.groups["quintile"].push_back(a ? "1 most deprived" : "5 least deprived");
  }
  return t;
}

TEST(Remedy, RecalibrationByGroupReducesTheFalseNegativeGapOnAConstructedRegion) {
  ModelSpec spec;
  spec.name = "m";
  spec.outcome = "y";
  spec.remedy = "recalibrate-by-deprivation";
  spec.remedy_group = "quintile";
  auto m = TrainAndValidate(Shifted(1, 40000, "2024-01-01"), Shifted(2, 40000, "2025-01-01"), spec);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const auto& r = m->card["remedy"];
  const double before = r["before"]["fnr_gap"]["difference"], after = r["after"]["fnr_gap"]["difference"];
  EXPECT_GT(before, 0.12) << r.dump();
  EXPECT_LT(std::abs(after), 0.5 * before) << r.dump();
  EXPECT_TRUE(r["fnr_gap_reduced"].get<bool>());
  EXPECT_LT(std::abs(r["after"]["calibration"]["in_the_large_difference"].get<double>()), 0.005);
  EXPECT_NEAR(r["after"]["calibration"]["slope"].get<double>(), 1, 0.1);
  // Within each group the remedied model is calibrated in the large; before, it was not.
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_GT(std::abs(r["before"]["by_group"][k]["in_the_large_difference"].get<double>()), 0.01);
    EXPECT_LT(std::abs(r["after"]["by_group"][k]["in_the_large_difference"].get<double>()), 0.006);
  }
  // The model file carries the recalibration, the card and its page the before and after.
  EXPECT_EQ(m->model["remedy"]["groups"].size(), 2u);
  EXPECT_NE(ModelCardHtml(m->card).find("Remedy: recalibrate-by-deprivation"), std::string::npos);
  // Without the group variable, or with an unknown remedy, training is refused.
  spec.remedy_group = "age_band";
  EXPECT_FALSE(TrainAndValidate(Shifted(1, 2000, "2024-01-01"), Shifted(2, 2000, "2025-01-01"), spec).ok());
  spec.remedy = "magic";
  EXPECT_FALSE(TrainAndValidate(Shifted(1, 2000, "2024-01-01"), Shifted(2, 2000, "2025-01-01"), spec).ok());
}

}  // namespace
}  // namespace ark::stats
