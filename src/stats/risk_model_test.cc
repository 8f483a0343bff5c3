#include "stats/risk_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace ark::stats {
namespace {

FeatureTable Draw(uint64_t seed, size_t n, const std::string& date) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  FeatureTable t;
  t.index_date = date;
  t.features = {"age", "copd"};
  t.x.cols = 2;
  for (size_t i = 0; i < n; ++i) {
    const double age = 100 * u(rng), copd = u(rng) < 0.1;
    t.x.values.insert(t.x.values.end(), {age, copd});
    ++t.x.rows;
    t.y.push_back(u(rng) < 1 / (1 + std::exp(-(-4 + 0.04 * age + 1.0 * copd))));
    t.groups["band"].push_back(age < 50 ? "young" : age < 99.9 ? "old" : "oldest");
  }
  return t;
}

// Trained on one draw, validated on another of the same model: discriminates, calibrated,
// small subgroups suppressed, no person-level values in the card.
TEST(RiskModel, TrainValidateAndCard) {
  ModelSpec spec;
  spec.name = "m";
  spec.outcome = "admitted";
  spec.lambda = 1;
  spec.min_cell = 30;
  auto m = TrainAndValidate(Draw(1, 20000, "2024-01-01"), Draw(2, 20000, "2025-01-01"), spec);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const auto& v = m->card["performance"]["temporal_validation"];
  EXPECT_GT(v["auroc"]["estimate"].get<double>(), 0.7);
  EXPECT_LT(v["auroc"]["ci95"][0].get<double>(), v["auroc"]["estimate"].get<double>());
  EXPECT_NEAR(v["calibration"]["slope"].get<double>(), 1, 0.1);
  EXPECT_EQ(v["calibration_by_decile"].size(), 10u);
  const auto& band = v["fairness"]["band"];
  ASSERT_EQ(band.size(), 3u);
  EXPECT_EQ(band[1]["group"], "oldest");  // ages 99.9-100: about 20 people, under min_cell 30
  EXPECT_TRUE(band[1].contains("suppressed"));
  EXPECT_FALSE(band[1].contains("people"));
  EXPECT_FALSE(band[2].contains("suppressed"));
  EXPECT_EQ(m->model["features"].size(), 2u);
  // The model file reproduces a prediction by its documented formula.
  const auto& f = m->model["features"];
  const double z = m->model["intercept"].get<double>() +
                   f[0]["coefficient"].get<double>() * (80 - f[0]["mean"].get<double>()) / f[0]["sd"].get<double>() +
                   f[1]["coefficient"].get<double>() * (1 - f[1]["mean"].get<double>()) / f[1]["sd"].get<double>();
  EXPECT_NEAR(1 / (1 + std::exp(-z)), 1 / (1 + std::exp(-(-4 + 0.04 * 80 + 1.0))), 0.05);
  const std::string html = ModelCardHtml(m->card);
  EXPECT_NE(html.find("Model card: m"), std::string::npos);
  EXPECT_NE(html.find("suppressed"), std::string::npos);
}

TEST(RiskModel, MismatchedTablesAreRefused) {
  FeatureTable a = Draw(1, 100, "2024-01-01"), b = Draw(2, 100, "2025-01-01");
  b.features = {"age", "diabetes"};
  EXPECT_FALSE(TrainAndValidate(a, b, {}).ok());
}

}  // namespace
}  // namespace ark::stats
