#include "stats/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace ark::stats {
namespace {

TEST(Metrics, AurocByHand) {
  // Pairs (case, control): (0.35,0.1) yes, (0.35,0.4) no, (0.8, both) yes: 3/4.
  auto r = Auroc({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1});
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->auc, 0.75);
  // Placements: cases 0.5, 1; controls 1, 0.5 -> S10 = S01 = 0.125, var = 0.125.
  EXPECT_NEAR(r->se, std::sqrt(0.125), 1e-12);
  EXPECT_DOUBLE_EQ(r->ci_high, 1.0);  // clipped
  EXPECT_DOUBLE_EQ(Auroc({0.5, 0.5}, {0, 1})->auc, 0.5);  // a tie counts half
  EXPECT_FALSE(Auroc({0.1, 0.2}, {1, 1}).ok());
  EXPECT_FALSE(Auroc({0.1, 0.2}, {1, 3}).ok());
}

TEST(Metrics, AuprcBrierByHand) {
  // Descending: 0.8 case (P 1, R .5), 0.4 control, 0.35 case (P 2/3, R 1).
  EXPECT_NEAR(*Auprc({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}), 0.5 + 0.5 * 2 / 3.0, 1e-12);
  // Tied scores enter together: one threshold with precision 1/2 and recall 1.
  EXPECT_NEAR(*Auprc({0.5, 0.5}, {0, 1}), 0.5, 1e-12);
  EXPECT_NEAR(*Brier({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}), (0.01 + 0.16 + 0.4225 + 0.04) / 4, 1e-12);
  EXPECT_FALSE(Brier({1.5}, {1}).ok());
}

TEST(Metrics, ThresholdRatesAndGroups) {
  std::vector<double> s;
  std::vector<int> y;
  std::vector<std::string> g;
  for (int i = 1; i <= 100; ++i) s.push_back(i / 100.0), y.push_back(i % 10 == 0), g.push_back(i <= 50 ? "a" : "b");
  EXPECT_DOUBLE_EQ(*TopThreshold(s, 5), 0.96);
  EXPECT_DOUBLE_EQ(*TopThreshold(s, 100), 0.01);
  EXPECT_FALSE(TopThreshold(s, 0).ok());
  // Flagged 96..100: cases 100 (1 of 10), controls 96..99 (4 of 90).
  const ErrorRates r = RatesAt(s, y, 0.96);
  EXPECT_EQ(r.flagged, 5u);
  EXPECT_NEAR(r.false_negative_rate, 0.9, 1e-12);
  EXPECT_NEAR(r.false_positive_rate, 4 / 90.0, 1e-12);
  auto groups = ByGroup(s, y, g, 5);
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->size(), 2u);
  EXPECT_EQ((*groups)[0].group, "a");
  EXPECT_DOUBLE_EQ((*groups)[0].false_negative_rate, 1.0);  // nobody in "a" is flagged
  EXPECT_DOUBLE_EQ((*groups)[0].false_positive_rate, 0.0);
  EXPECT_NEAR((*groups)[1].false_negative_rate, 0.8, 1e-12);  // case 100 of 60..100 flagged
  EXPECT_NEAR((*groups)[1].mean_predicted, 0.755, 1e-12);
  EXPECT_NEAR((*groups)[1].observed_rate, 0.1, 1e-12);
}

// Outcomes drawn from the probabilities: calibrated (intercept ~0, slope ~1); the same
// probabilities squeezed toward the mean are under-dispersed (slope > 1).
TEST(Metrics, CalibrationOfDrawnOutcomes) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> p, squeezed;
  std::vector<int> y;
  for (int i = 0; i < 20000; ++i) {
    const double z = -2 + 2.5 * (u(rng) - 0.5) * 2;
    p.push_back(1 / (1 + std::exp(-z)));
    squeezed.push_back(1 / (1 + std::exp(-(-2 + 0.5 * (z + 2)))));
    y.push_back(u(rng) < p.back());
  }
  auto c = Calibrate(p, y);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_NEAR(c->slope, 1, 0.08);
  EXPECT_NEAR(c->intercept, 0, 0.05);
  EXPECT_NEAR(c->difference, 0, 0.01);
  EXPECT_NEAR(Calibrate(squeezed, y)->slope, 2, 0.16);
  auto bins = CalibrationBins(p, y, 10);
  ASSERT_TRUE(bins.ok());
  ASSERT_EQ(bins->size(), 10u);
  EXPECT_EQ((*bins)[0].n, 2000u);
  EXPECT_LT((*bins)[0].mean_predicted, (*bins)[9].mean_predicted);
  EXPECT_FALSE(Calibrate({0.2, 0.3}, {0, 0}).ok());
}

}  // namespace
}  // namespace ark::stats
