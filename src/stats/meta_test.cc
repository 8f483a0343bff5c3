#include "stats/meta.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "stats/distributions.h"
#include "stats/rscript_testing.h"

namespace ark::stats {
namespace {

TEST(Distributions, MatchClosedForms) {
  const double pi = std::acos(-1.0);
  EXPECT_NEAR(StudentTQuantile(0.975, 1), std::tan(0.475 * pi), 1e-10);         // Cauchy
  EXPECT_NEAR(StudentTQuantile(0.975, 2), 0.95 / std::sqrt(2 * 0.975 * 0.025), 1e-12);
  EXPECT_NEAR(StudentTCdf(1, 1), 0.75, 1e-14);
  EXPECT_NEAR(StudentTQuantile(0.025, 2), -0.95 / std::sqrt(2 * 0.975 * 0.025), 1e-12);
  EXPECT_NEAR(NormalCdf(NormalQuantile(0.975)), 0.975, 1e-15);
  EXPECT_NEAR(NormalQuantile(0.5), 0, 1e-15);
  EXPECT_NEAR(StudentTQuantile(0.975, 1e7), NormalQuantile(0.975), 1e-6);
  for (double x : {0.5, 3.0, 8.0, 40.0}) EXPECT_NEAR(ChiSquaredUpperTail(x, 2), std::exp(-x / 2), 1e-15) << x;
  EXPECT_NEAR(ChiSquaredUpperTail(1, 1), std::erfc(1 / std::sqrt(2.0)), 1e-14);
}

TEST(Meta, ThreeEqualVarianceEstimatesByHand) {
  // y = 0, 2, 4 with v = 1: Q = 8, tr P = 2, DL τ² = 3; REML with equal variances is the sample
  // variance minus v = 3 too. Weights 1/4: θ = 2, SE = sqrt(4/3); s² = 1 so I² = 75%, H² = 4.
  for (Tau2Method m : {Tau2Method::kDerSimonianLaird, Tau2Method::kReml}) {
    auto r = RandomEffectsMeta({0, 2, 4}, {1, 1, 1}, m);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_NEAR(r->q, 8, 1e-12);
    EXPECT_NEAR(r->tau2, 3, 1e-10);
    EXPECT_NEAR(r->estimate, 2, 1e-12);
    EXPECT_NEAR(r->wald.se, std::sqrt(4.0 / 3), 1e-10);
    EXPECT_NEAR(r->wald.low, 2 - NormalQuantile(0.975) * std::sqrt(4.0 / 3), 1e-10);
    EXPECT_NEAR(r->i2, 75, 1e-8);
    EXPECT_NEAR(r->h2, 4, 1e-10);
    // HKSJ: Σw*(y - θ)² / (k - 1) = (8/4) / 2 = 1, so the same SE with t on 2 df.
    EXPECT_NEAR(r->hksj.se, std::sqrt(4.0 / 3), 1e-10);
    EXPECT_NEAR(r->hksj.high, 2 + StudentTQuantile(0.975, 2) * std::sqrt(4.0 / 3), 1e-9);
    EXPECT_NEAR(r->q_p_value, std::exp(-4.0), 1e-14);
  }
}

TEST(Meta, HomogeneousEstimatesGiveZeroTau2AndBadInputIsNamed) {
  auto r = RandomEffectsMeta({0, 1}, {1, 1}, Tau2Method::kDerSimonianLaird);  // Q = 0.5 < 1
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tau2, 0);
  EXPECT_EQ(r->i2, 0);
  EXPECT_FALSE(RandomEffectsMeta({1}, {1}).ok());
  EXPECT_FALSE(RandomEffectsMeta({1, 2}, {1}).ok());
  auto bad = RandomEffectsMeta({1, 2, 3}, {1, 0, 1});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("variance 2"), std::string::npos) << bad.status().message();
}

// Three sets: heterogeneous log odds ratios (k = 8), four sites' estimates (k = 4), and a
// homogeneous set where τ² is 0 (REML on its boundary).
const std::vector<std::vector<std::pair<double, double>>> kSets = {
    {{-0.89, 0.036}, {-1.59, 0.22}, {-1.35, 0.41}, {-1.44, 0.020}, {-0.22, 0.051}, {-0.79, 0.0069}, {-1.62, 0.22},
     {0.012, 0.0045}},
    {{0.31, 0.012}, {0.18, 0.0045}, {0.42, 0.021}, {0.27, 0.0081}},
    {{0.10, 0.04}, {0.12, 0.05}, {0.08, 0.03}, {0.11, 0.06}, {0.09, 0.045}},
};

const char* const kMetaScript = R"R(
suppressPackageStartupMessages(library(metafor))
d <- read.csv(commandArgs(trailingOnly = TRUE)[1])
out <- function(name, v) cat(sprintf("%s %.17g\n", name, v))
ctl <- list(threshold = 1e-12, maxiter = 1000)
for (s in sort(unique(d$set))) for (m in c("DL", "REML")) for (t in c("z", "knha")) {
  x <- d[d$set == s, ]
  f <- rma(x$yi, x$vi, method = m, test = t, control = ctl)
  tag <- paste(s, m, t, sep = "_")
  out(paste0(tag, "_est"), f$beta[1]); out(paste0(tag, "_se"), f$se); out(paste0(tag, "_tau2"), f$tau2)
  out(paste0(tag, "_lb"), f$ci.lb); out(paste0(tag, "_ub"), f$ci.ub); out(paste0(tag, "_p"), f$pval)
  out(paste0(tag, "_q"), f$QE); out(paste0(tag, "_qp"), f$QEp); out(paste0(tag, "_i2"), f$I2)
}
)R";

TEST(MetaAgainstR, DerSimonianLairdRemlWaldAndHksjMatchMetafor) {
  std::ostringstream csv;
  csv.precision(17);
  csv << "set,yi,vi\n";
  for (size_t s = 0; s < kSets.size(); ++s)
    for (const auto& [yi, vi] : kSets[s]) csv << s << ',' << yi << ',' << vi << '\n';
  auto r = rcheck::RunR(kMetaScript, {{"meta.csv", csv.str()}});
  ASSERT_FALSE(r.empty());
  for (size_t s = 0; s < kSets.size(); ++s) {
    std::vector<double> y, v;
    for (const auto& [yi, vi] : kSets[s]) {
      y.push_back(yi);
      v.push_back(vi);
    }
    for (Tau2Method m : {Tau2Method::kDerSimonianLaird, Tau2Method::kReml}) {
      auto fit = RandomEffectsMeta(y, v, m);
      ASSERT_TRUE(fit.ok()) << fit.status().ToString();
      for (const char* test : {"z", "knha"}) {
        const std::string tag =
            std::to_string(s) + "_" + (m == Tau2Method::kReml ? "REML" : "DL") + "_" + test;
        SCOPED_TRACE(tag);
        const MetaInterval& ci = std::string(test) == "z" ? fit->wald : fit->hksj;
        auto want = [&](const char* what) { return r.at(tag + "_" + what).at(0); };
        EXPECT_NEAR(fit->estimate, want("est"), 1e-6);
        EXPECT_NEAR(ci.se, want("se"), 1e-6);
        EXPECT_NEAR(fit->tau2, want("tau2"), 1e-6);
        EXPECT_NEAR(ci.low, want("lb"), 1e-6);
        EXPECT_NEAR(ci.high, want("ub"), 1e-6);
        EXPECT_NEAR(ci.p_value, want("p"), 1e-6);
        EXPECT_NEAR(fit->q, want("q"), 1e-6);
        EXPECT_NEAR(fit->q_p_value, want("qp"), 1e-6);
        EXPECT_NEAR(fit->i2, want("i2"), 1e-6);
      }
    }
  }
}

}  // namespace
}  // namespace ark::stats
