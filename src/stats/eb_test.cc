#include "stats/eb.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

#include "stats/rscript_testing.h"

namespace ark::stats {
namespace {

TEST(EbRates, TwoAreasByHand) {
  // n = 0, 10 over 10 each: b = 0.5, s² = 0.25, a = 0.25 - 0.5 / 10 = 0.2, weight 0.8.
  auto r = EmpiricalBayesRates({0, 10}, {10, 10});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NEAR(r->b, 0.5, 1e-15);
  EXPECT_NEAR(r->a, 0.2, 1e-15);
  EXPECT_FALSE(r->a_truncated);
  EXPECT_NEAR(r->weight[0], 0.8, 1e-15);
  EXPECT_NEAR(r->estimate[0], 0.1, 1e-15);
  EXPECT_NEAR(r->estimate[1], 0.9, 1e-15);
  EXPECT_EQ(r->raw[1], 1);
}

TEST(EbRates, NegativeVarianceEstimateShrinksAllTheWay) {
  // n = 1, 3 over 10 each: b = 0.2, s² = 0.01, a = 0.01 - 0.02 < 0, so a = 0 and both are b.
  auto r = EmpiricalBayesRates({1, 3}, {10, 10});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->a_truncated);
  EXPECT_EQ(r->a, 0);
  EXPECT_NEAR(r->estimate[0], 0.2, 1e-15);
  EXPECT_NEAR(r->estimate[1], 0.2, 1e-15);
  auto none = EmpiricalBayesRates({0, 0}, {10, 5});  // spdep: NaN; here the global rate 0
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->estimate[0], 0);
}

TEST(EbRates, BadInputIsNamed) {
  auto r = EmpiricalBayesRates({1, 2, 3}, {10, 0, 5});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("area 2"), std::string::npos) << r.status().message();
  EXPECT_FALSE(EmpiricalBayesRates({1, -1}, {10, 5}).ok());
  EXPECT_FALSE(EmpiricalBayesRates({1}, {10, 5}).ok());
  EXPECT_FALSE(EmpiricalBayesRates({}, {}).ok());
}

const char* const kEbScript = R"R(
suppressPackageStartupMessages(library(spdep))
d <- read.csv(commandArgs(trailingOnly = TRUE)[1])
out <- function(name, v) for (x in v) cat(sprintf("%s %.17g\n", name, x))
for (s in sort(unique(d$set))) {
  x <- d[d$set == s, ]
  e <- EBest(x$n, x$x)
  out(paste0(s, "_raw"), e$raw); out(paste0(s, "_est"), e$estmm)
  out(paste0(s, "_a"), attr(e, "parameters")$a); out(paste0(s, "_b"), attr(e, "parameters")$b)
}
)R";

TEST(EbAgainstR, MatchesSpdepEBestIncludingANegativeVarianceEstimate) {
  // Set 0: 40 small areas whose true rates vary (gamma), populations 30 to 3,000 (a > 0).
  // Set 1: 25 areas with one true rate, so the moment estimate of a is negative (a = 0).
  std::mt19937_64 rng(250);
  std::uniform_real_distribution<double> u(0, 1);
  std::gamma_distribution<double> g(4, 0.02 / 4);
  std::vector<std::vector<double>> n(2), x(2);
  auto poisson = [&](double mean) {  // by inversion
    double k = 0, prob = std::exp(-mean), cdf = prob;
    for (const double draw = u(rng); draw > cdf && k < 10000;) cdf += (prob *= mean / ++k);
    return k;
  };
  for (int i = 0; i < 40; ++i) {
    x[0].push_back(std::round(30 * std::pow(100.0, u(rng))));
    n[0].push_back(poisson(x[0].back() * g(rng)));
  }
  for (int i = 0; i < 25; ++i) {
    x[1].push_back(std::round(200 + 800 * u(rng)));
    n[1].push_back(std::round(x[1].back() * 0.02));  // rates closer than Poisson noise
  }
  std::ostringstream csv;
  csv.precision(17);
  csv << "set,n,x\n";
  for (int s = 0; s < 2; ++s)
    for (size_t i = 0; i < n[s].size(); ++i) csv << s << ',' << n[s][i] << ',' << x[s][i] << '\n';
  auto r = rcheck::RunR(kEbScript, {{"eb.csv", csv.str()}});
  ASSERT_FALSE(r.empty());
  for (int s = 0; s < 2; ++s) {
    SCOPED_TRACE("set " + std::to_string(s));
    auto eb = EmpiricalBayesRates(n[s], x[s]);
    ASSERT_TRUE(eb.ok()) << eb.status().ToString();
    const std::string tag = std::to_string(s);
    EXPECT_EQ(eb->a_truncated, s == 1);
    EXPECT_NEAR(eb->a, r.at(tag + "_a")[0], 1e-8 * std::max(1e-8, r.at(tag + "_a")[0]) + 1e-15);
    EXPECT_NEAR(eb->b, r.at(tag + "_b")[0], 1e-8 * r.at(tag + "_b")[0]);
    ASSERT_EQ(r.at(tag + "_est").size(), n[s].size());
    for (size_t i = 0; i < n[s].size(); ++i) {
      EXPECT_NEAR(eb->raw[i], r.at(tag + "_raw")[i], 1e-8 * r.at(tag + "_raw")[i] + 1e-15) << "area " << i + 1;
      EXPECT_NEAR(eb->estimate[i], r.at(tag + "_est")[i], 1e-8 * r.at(tag + "_est")[i]) << "area " << i + 1;
    }
  }
}

}  // namespace
}  // namespace ark::stats
