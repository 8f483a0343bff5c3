#include "stats/logistic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace ark::stats {
namespace {

// One binary feature: the maximum-likelihood fit reproduces the 2x2 table's log odds.
TEST(Logistic, BinaryFeatureGivesLogOddsRatio) {
  Design x{20, 1, {}};
  std::vector<int> y;
  for (int i = 0; i < 20; ++i) {
    const bool exposed = i >= 10;
    x.values.push_back(exposed ? 1 : 0);
    y.push_back(exposed ? (i - 10 < 6) : (i < 3));  // 6/10 exposed, 3/10 unexposed
  }
  auto m = FitLogistic(x, y);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_NEAR(m->intercept, std::log(3.0 / 7), 1e-10);
  EXPECT_NEAR(m->coefficients[0], std::log(6.0 / 4) - std::log(3.0 / 7), 1e-10);
  EXPECT_NEAR(m->Predict({1.0}), 0.6, 1e-10);
  EXPECT_NEAR(m->log_likelihood, 3 * std::log(0.3) + 7 * std::log(0.7) + 6 * std::log(0.6) + 4 * std::log(0.4), 1e-9);
}

// The penalised fit satisfies its own optimality condition, X'(y - p) = lambda * b for the
// non-intercept coefficients and sum(y - p) = 0, and shrinks the coefficient.
TEST(Logistic, PenaltyShrinksAndSatisfiesTheScoreEquation) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-2, 2);
  Design x{500, 2, {}};
  std::vector<int> y;
  for (size_t i = 0; i < x.rows; ++i) {
    double a = u(rng), b = u(rng);
    x.values.push_back(a), x.values.push_back(b);
    y.push_back(std::uniform_real_distribution<double>(0, 1)(rng) < 1 / (1 + std::exp(-(0.3 + 1.2 * a - 0.7 * b))));
  }
  auto free = FitLogistic(x, y);
  auto pen = FitLogistic(x, y, {.lambda = 50});
  ASSERT_TRUE(free.ok() && pen.ok());
  EXPECT_LT(std::abs(pen->coefficients[0]), std::abs(free->coefficients[0]));
  const std::vector<double> p = PredictAll(*pen, x);
  double g0 = 0, g1 = 0, g2 = 0;
  for (size_t i = 0; i < x.rows; ++i) {
    g0 += y[i] - p[i], g1 += (y[i] - p[i]) * x.values[2 * i], g2 += (y[i] - p[i]) * x.values[2 * i + 1];
  }
  EXPECT_NEAR(g0, 0, 1e-8);
  EXPECT_NEAR(g1, 50 * pen->coefficients[0], 1e-8);
  EXPECT_NEAR(g2, 50 * pen->coefficients[1], 1e-8);
}

TEST(Logistic, SeparationNeedsAPenalty) {
  Design x{6, 1, {1, 2, 3, 4, 5, 6}};
  std::vector<int> y = {0, 0, 0, 1, 1, 1};
  auto m = FitLogistic(x, y);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(FitLogistic(x, y, {.lambda = 0.1}).ok());
}

TEST(Logistic, BadInputIsNamed) {
  Design x{3, 1, {1, 2, 3}};
  auto bad_y = FitLogistic(x, {0, 2, 1});
  ASSERT_FALSE(bad_y.ok());
  EXPECT_NE(bad_y.status().message().find("row 2"), std::string::npos) << bad_y.status().message();
  EXPECT_FALSE(FitLogistic(x, {0, 1}).ok());
  EXPECT_FALSE(FitLogistic(x, {0, 1, 1}, {.lambda = -1}).ok());
  Design nan{2, 1, {1, std::nan("")}};
  EXPECT_FALSE(FitLogistic(nan, {0, 1}).ok());
  Design constant{4, 1, {1, 1, 1, 1}};  // duplicates the intercept
  auto singular = FitLogistic(constant, {0, 1, 0, 1});
  ASSERT_FALSE(singular.ok());
  EXPECT_EQ(singular.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace ark::stats
