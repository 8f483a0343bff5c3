#include "stats/funnel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

#include "stats/distributions.h"
#include "stats/rscript_testing.h"

namespace ark::stats {
namespace {

TEST(Funnel, IndirectStandardisationByHand) {
  // Two strata (young, old); unit 1 is young, unit 2 old. Reference rates: 10 / 1000 = 0.01 and
  // 40 / 500 = 0.08. Unit 1: E = 0.01 * 800 + 0.08 * 100 = 16; unit 2: 0.01 * 200 + 0.08 * 400 = 34.
  const std::vector<std::vector<double>> events = {{6, 10}, {4, 30}}, pop = {{800, 100}, {200, 400}};
  auto rates = ReferenceRates(events, pop);
  ASSERT_TRUE(rates.ok()) << rates.status().ToString();
  EXPECT_DOUBLE_EQ((*rates)[0], 0.01);
  EXPECT_DOUBLE_EQ((*rates)[1], 0.08);
  auto e = ExpectedCounts(pop, *rates);
  ASSERT_TRUE(e.ok());
  EXPECT_DOUBLE_EQ((*e)[0], 16);
  EXPECT_DOUBLE_EQ((*e)[1], 34);
  EXPECT_FALSE(ReferenceRates({{1, 2}}, {{10}}).ok());
  EXPECT_FALSE(ReferenceRates({{1}}, {{0}}).ok()) << "a stratum with nobody";
}

TEST(Funnel, LimitsAndFlagsByHand) {
  // A: O = 9, E = 4, z = 2(3 - 2) = 2: beyond 95% (1.96), inside 99.8%. Its 95% limits at E = 4
  // are (1 ± 1.96 / 4)². B on target. C: O = 0, E = 9, z = -6: below 99.8%.
  auto f = Funnel({{"A", 9, 4}, {"B", 4, 4}, {"C", 0, 9}}, {.overdispersion = Overdispersion::kNone});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_NEAR(f->points[0].z, 2, 1e-15);
  EXPECT_DOUBLE_EQ(f->points[0].ratio, 2.25);
  EXPECT_EQ(f->points[0].flag, 1);
  EXPECT_EQ(f->points[1].flag, 0);
  EXPECT_NEAR(f->points[2].z_adjusted, -6, 1e-12);
  EXPECT_EQ(f->points[2].flag, -2);
  const double z = NormalQuantile(0.975);
  const FunnelLimits at4 = FunnelLimitsAt(4, *f);
  EXPECT_NEAR(at4.low95, std::pow(1 - z / 4, 2), 1e-14);
  EXPECT_NEAR(at4.high95, std::pow(1 + z / 4, 2), 1e-14);
  EXPECT_EQ(FunnelLimitsAt(1, *f).low998, 0) << "1 - 3.09 / 2 < 0 clips to 0";
  EXPECT_EQ(f->curve.size(), 100u);
  EXPECT_NEAR(f->curve.front().expected, 2, 1e-12);
  EXPECT_NEAR(f->curve.back().expected, 1.2 * 9, 1e-12);
  EXPECT_EQ(f->applied, Overdispersion::kNone);
}

TEST(Funnel, OverdispersionByHand) {
  // z = 2 and 0 (no winsorising with two units): φ = 2; w = 4E = 16 each, so
  // τ² = (2 * 2 - 1) / (32 - 512 / 32) = 3/16. Additive at E = 4: sd = sqrt(1/16 + 3/16) = 1/2 and
  // A's z = (1.5 - 1) / 0.5 = 1; multiplicative: z / sqrt(2).
  const std::vector<FunnelUnit> units = {{"A", 9, 4}, {"B", 4, 4}};
  auto add = Funnel(units);  // additive is the default
  ASSERT_TRUE(add.ok()) << add.status().ToString();
  EXPECT_NEAR(add->phi, 2, 1e-14);
  EXPECT_NEAR(add->tau2, 3.0 / 16, 1e-14);
  EXPECT_EQ(add->applied, Overdispersion::kAdditive);
  EXPECT_NEAR(add->points[0].z_adjusted, 1, 1e-14);
  EXPECT_EQ(add->points[0].flag, 0);
  auto mul = Funnel(units, {.overdispersion = Overdispersion::kMultiplicative});
  ASSERT_TRUE(mul.ok());
  EXPECT_NEAR(mul->points[0].z_adjusted, std::sqrt(2.0), 1e-14);
  EXPECT_EQ(mul->applied, Overdispersion::kMultiplicative);
  // Under-dispersed units leave the limits alone.
  auto under = Funnel({{"A", 4, 4}, {"B", 9, 9}});
  ASSERT_TRUE(under.ok());
  EXPECT_EQ(under->applied, Overdispersion::kNone);
  EXPECT_EQ(under->tau2, 0);
  // Winsorising at 10% of ten units moves the lowest and the highest z-score in one place.
  std::vector<FunnelUnit> ten;
  for (int i = 0; i < 10; ++i) ten.push_back({"u" + std::to_string(i), i == 9 ? 100.0 : 25.0, 25});  // z = 0 or 10
  auto w = Funnel(ten);
  ASSERT_TRUE(w.ok());
  EXPECT_NEAR(w->phi, 0, 1e-14) << "the one z of 10 is winsorised to the next highest, 0";
  auto bad = Funnel({{"A", 1, 2}, {"B", 1, 0}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unit 2 'B'"), std::string::npos) << bad.status().message();
}

// A second implementation from the formulas in funnel.h, in R.
const char* const kFunnelScript = R"R(
a <- commandArgs(trailingOnly = TRUE)
ev <- as.matrix(read.csv(a[1])); pop <- as.matrix(read.csv(a[2]))
out <- function(name, v) for (x in v) cat(sprintf("%s %.17g\n", name, x))
rates <- colSums(ev) / colSums(pop)
E <- drop(pop %*% rates); O <- rowSums(ev)
z <- 2 * (sqrt(O) - sqrt(E))
I <- length(z); k <- floor(0.1 * I); zs <- sort(z)
zw <- pmin(pmax(z, zs[k + 1]), zs[I - k])
phi <- mean(zw^2)
w <- 4 * E
tau2 <- max(0, (I * phi - (I - 1)) / (sum(w) - sum(w^2) / sum(w)))
out("E", E); out("phi", phi); out("tau2", tau2)
lim <- function(tag, sd) {
  y <- sqrt(O / E)
  out(paste0(tag, "_z"), (y - 1) / sd)
  for (p in c(0.975, 0.999)) {
    q <- qnorm(p)
    out(paste0(tag, "_lo", p), pmax(0, 1 - q * sd)^2); out(paste0(tag, "_hi", p), (1 + q * sd)^2)
  }
}
s <- 1 / (2 * sqrt(E))
lim("none", s)
lim("mult", s * sqrt(if (phi > 1) phi else 1))
lim("add", sqrt(s^2 + tau2))
)R";

TEST(FunnelAgainstR, SecondImplementationInRAgrees) {
  // 33 practices (0.1 x 33 is not whole, so the winsorising count rounds) in 3 age strata,
  // sizes 50 to 5,000, true ratios varying around 1 (gamma) so that the data are overdispersed.
  std::mt19937_64 rng(2005);
  std::uniform_real_distribution<double> u(0, 1);
  std::gamma_distribution<double> g(10, 0.1);
  const double base[3] = {0.005, 0.02, 0.08};
  std::vector<std::vector<double>> ev, pop;
  std::ostringstream ev_csv, pop_csv;
  ev_csv << "s1,s2,s3\n";
  pop_csv << "s1,s2,s3\n";
  for (int i = 0; i < 33; ++i) {
    const double size = std::round(50 * std::pow(100.0, u(rng))), old = 0.1 + 0.4 * u(rng), ratio = g(rng);
    std::vector<double> p = {std::round(size * (0.9 - old) + 1), std::round(size * old * 0.7), std::round(size * old * 0.3)};
    std::vector<double> e;
    for (int s = 0; s < 3; ++s) {
      const double mean = p[s] * base[s] * ratio;
      double k = 0, prob = std::exp(-mean), cdf = prob;
      for (const double draw = u(rng); draw > cdf && k < 10000;) cdf += (prob *= mean / ++k);
      e.push_back(k);
    }
    ev.push_back(e);
    pop.push_back(p);
    ev_csv << e[0] << ',' << e[1] << ',' << e[2] << '\n';
    pop_csv << p[0] << ',' << p[1] << ',' << p[2] << '\n';
  }
  auto r = rcheck::RunR(kFunnelScript, {{"events.csv", ev_csv.str()}, {"pop.csv", pop_csv.str()}});
  ASSERT_FALSE(r.empty());
  auto rates = ReferenceRates(ev, pop);
  ASSERT_TRUE(rates.ok());
  auto expected = ExpectedCounts(pop, *rates);
  ASSERT_TRUE(expected.ok());
  std::vector<FunnelUnit> units;
  for (size_t i = 0; i < ev.size(); ++i) {
    EXPECT_NEAR((*expected)[i], r.at("E")[i], 1e-10 * r.at("E")[i]);
    units.push_back({"p" + std::to_string(i), ev[i][0] + ev[i][1] + ev[i][2], (*expected)[i]});
  }
  for (auto [mode, tag] : {std::pair{Overdispersion::kNone, "none"}, {Overdispersion::kMultiplicative, "mult"},
                           {Overdispersion::kAdditive, "add"}}) {
    SCOPED_TRACE(tag);
    auto f = Funnel(units, {.overdispersion = mode});
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_NEAR(f->phi, r.at("phi")[0], 1e-10);
    EXPECT_NEAR(f->tau2, r.at("tau2")[0], 1e-12);
    EXPECT_GT(f->phi, 1) << "the test data are meant to be overdispersed";
    EXPECT_EQ(f->applied, mode);
    const std::string t(tag);
    for (size_t i = 0; i < units.size(); ++i) {
      EXPECT_NEAR(f->points[i].z_adjusted, r.at(t + "_z")[i], 1e-9) << "unit " << i;
      const FunnelLimits l = FunnelLimitsAt(units[i].expected, *f);
      EXPECT_NEAR(l.low95, r.at(t + "_lo0.975")[i], 1e-12) << "unit " << i;
      EXPECT_NEAR(l.high95, r.at(t + "_hi0.975")[i], 1e-12) << "unit " << i;
      EXPECT_NEAR(l.low998, r.at(t + "_lo0.999")[i], 1e-12) << "unit " << i;
      EXPECT_NEAR(l.high998, r.at(t + "_hi0.999")[i], 1e-12) << "unit " << i;
    }
  }
}

}  // namespace
}  // namespace ark::stats
