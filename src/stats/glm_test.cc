#include "stats/glm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

#include "stats/rscript_testing.h"

namespace ark::stats {
namespace {

TEST(Glm, GaussianIsOrdinaryLeastSquaresInTwoIterations) {
  // y = 0.9 + 0.9 x by hand: Sxy = 4.5, Sxx = 5, RSS = 0.7, sigma² = 0.35.
  GlmData d{4, 2, {1, 0, 1, 1, 1, 2, 1, 3}, {1, 2, 2, 4}, {}, {}};
  auto fit = FitGlm(d, GlmFamily::kGaussian);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_NEAR(fit->beta[0], 0.9, 1e-12);
  EXPECT_NEAR(fit->beta[1], 0.9, 1e-12);
  EXPECT_NEAR(fit->deviance, 0.7, 1e-12);
  EXPECT_NEAR(fit->dispersion, 0.35, 1e-12);
  EXPECT_NEAR(fit->se[1], std::sqrt(0.35 / 5), 1e-12);
  EXPECT_NEAR(fit->null_deviance, 4.75, 1e-12);  // Σ(y - 2.25)²
  EXPECT_EQ(fit->iterations, 2);                 // as R's glm(): the second confirms the deviance
  EXPECT_EQ(fit->round_trips, 3);
  EXPECT_EQ(fit->df_residual, 2);
}

TEST(Glm, LogisticOnTwoByTwoGivesTheLogOddsRatio) {
  // Exposed: 3 of 4 events; unexposed: 1 of 4. log OR = log(3 / (1/3)) = log 9, SE² = 1/3+1+1+1/3.
  GlmData d{8, 2, {}, {1, 1, 1, 0, 1, 0, 0, 0}, {}, {}};
  for (int i = 0; i < 8; ++i) d.x.insert(d.x.end(), {1.0, i < 4 ? 1.0 : 0.0});
  auto fit = FitGlm(d, GlmFamily::kBinomial, {.epsilon = 1e-14, .max_iterations = 100});
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_NEAR(fit->beta[0], std::log(1.0 / 3), 1e-10);
  EXPECT_NEAR(fit->beta[1], std::log(9.0), 1e-10);
  EXPECT_NEAR(fit->se[1], std::sqrt(1.0 / 3 + 1 + 1 + 1.0 / 3), 1e-9);
  EXPECT_NEAR(fit->null_deviance, -2 * 8 * std::log(0.5), 1e-12);
}

TEST(Glm, GroupedBinomialWithTrialsAsWeightsEqualsTheRowsItSums) {
  // Three covariate patterns with 3/10, 7/12 and 2/9 events: as proportions weighted by trials,
  // and as 31 rows of 0/1; the same coefficients and standard errors (deviances differ by design).
  const double x[3] = {0, 1, 2}, events[3] = {3, 7, 2}, trials[3] = {10, 12, 9};
  GlmData grouped{3, 2, {}, {}, {}, {}}, rows;
  rows.cols = 2;
  for (int g = 0; g < 3; ++g) {
    grouped.x.insert(grouped.x.end(), {1, x[g]});
    grouped.y.push_back(events[g] / trials[g]);
    grouped.weights.push_back(trials[g]);
    for (int i = 0; i < trials[g]; ++i) {
      rows.x.insert(rows.x.end(), {1, x[g]});
      rows.y.push_back(i < events[g] ? 1 : 0);
      ++rows.rows;
    }
  }
  const GlmOptions tight{.epsilon = 1e-14, .max_iterations = 100};
  auto a = FitGlm(grouped, GlmFamily::kBinomial, tight), b = FitGlm(rows, GlmFamily::kBinomial, tight);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  for (int j = 0; j < 2; ++j) {
    EXPECT_NEAR(a->beta[j], b->beta[j], 1e-10);
    EXPECT_NEAR(a->se[j], b->se[j], 1e-8);
  }
  EXPECT_EQ(a->n, 3);
  EXPECT_EQ(b->n, 31);
}

TEST(Glm, BadInputNamesTheRowAndSingularDesignsAreRefused) {
  GlmData d{3, 1, {1, 1, 1}, {0, 2, 1}, {}, {}};
  auto c = GlmContribute(d, GlmFamily::kBinomial, {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("row 2"), std::string::npos) << c.status().message();
  d.y = {1, -1, 1};
  EXPECT_FALSE(GlmContribute(d, GlmFamily::kPoisson, {}).ok());
  d.y = {1, 2, 1};
  EXPECT_FALSE(GlmContribute(d, GlmFamily::kPoisson, {0.1, 0.2}).ok()) << "beta of the wrong size";
  GlmData dup{4, 2, {1, 1, 1, 1, 1, 1, 1, 1}, {1, 2, 3, 5}, {}, {}};
  auto fit = FitGlm(dup, GlmFamily::kGaussian);
  ASSERT_FALSE(fit.ok());
  EXPECT_EQ(fit.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(fit.status().message().find("singular"), std::string::npos);
  // A site's error comes back with the site and round trip named.
  std::vector<GlmSite> sites = {[&](const std::vector<double>& b) { return GlmContribute(d, GlmFamily::kPoisson, b); },
                                [](const std::vector<double>&) -> Result<GlmContribution> {
                                  return Status::IOError("site did not answer");
                                }};
  auto f2 = FitGlmFederated(sites, GlmFamily::kPoisson);
  ASSERT_FALSE(f2.ok());
  EXPECT_NE(f2.status().message().find("round trip 1: site 2: site did not answer"), std::string::npos)
      << f2.status().message();
  EXPECT_FALSE(ParseGlmFamily("gamma").ok());
  EXPECT_EQ(*ParseGlmFamily("poisson"), GlmFamily::kPoisson);
}

// 2,400 rows with an intercept, a continuous covariate, a binary one, a three-level factor
// (two dummies) and an age-like covariate; outcomes for each family from known models; Poisson
// with an offset log(exposure). Split over four sites of unequal size.
struct Dataset {
  GlmData pooled;
  std::vector<double> yg, yb, yp, off;
  std::string csv;
};

Dataset MakeDataset() {
  std::mt19937_64 rng(15);
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> nrm(0, 1);
  Dataset s;
  const size_t n = 2400, p = 6;
  s.pooled.rows = n;
  s.pooled.cols = p;
  std::ostringstream csv;
  csv.precision(17);
  csv << "x1,x2,x3,x4,x5,yg,yb,yp,off\n";
  for (size_t i = 0; i < n; ++i) {
    const double x1 = nrm(rng), x2 = u(rng) < 0.4 ? 1 : 0, f = u(rng);
    const double x3 = f < 0.3 ? 1 : 0, x4 = f > 0.75 ? 1 : 0, x5 = 2 + 7 * u(rng);
    s.pooled.x.insert(s.pooled.x.end(), {1, x1, x2, x3, x4, x5});
    const double lin = 0.3 * x1 - 0.5 * x2 + 0.4 * x3 - 0.2 * x4 + 0.15 * x5;
    const double yg = 2 + lin + 1.5 * nrm(rng);
    const double yb = u(rng) < 1 / (1 + std::exp(-(-1.2 + lin))) ? 1 : 0;
    const double off = std::log(0.5 + 4 * u(rng));
    const double mean = std::exp(-2 + lin + off);
    double yp = 0, prob = std::exp(-mean), cdf = prob, draw = u(rng);  // Poisson by inversion
    while (draw > cdf && yp < 1000) {
      yp += 1;
      prob *= mean / yp;
      cdf += prob;
    }
    s.yg.push_back(yg);
    s.yb.push_back(yb);
    s.yp.push_back(yp);
    s.off.push_back(off);
    csv << x1 << ',' << x2 << ',' << x3 << ',' << x4 << ',' << x5 << ',' << yg << ',' << yb << ',' << yp << ',' << off
        << '\n';
  }
  s.csv = csv.str();
  return s;
}

// Rows [begin, end) of the pooled design with the outcome (and offset) of one family.
GlmData Slice(const Dataset& s, GlmFamily family, size_t begin, size_t end) {
  GlmData d;
  d.rows = end - begin;
  d.cols = s.pooled.cols;
  d.x.assign(s.pooled.x.begin() + static_cast<long>(begin * d.cols), s.pooled.x.begin() + static_cast<long>(end * d.cols));
  const std::vector<double>& y = family == GlmFamily::kGaussian ? s.yg : family == GlmFamily::kBinomial ? s.yb : s.yp;
  d.y.assign(y.begin() + static_cast<long>(begin), y.begin() + static_cast<long>(end));
  if (family == GlmFamily::kPoisson) d.offset.assign(s.off.begin() + static_cast<long>(begin), s.off.begin() + static_cast<long>(end));
  return d;
}

const char* const kGlmScript = R"R(
d <- read.csv(commandArgs(trailingOnly = TRUE)[1])
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
out <- function(name, v) for (x in v) cat(sprintf("%s %.17g\n", name, x))
report <- function(tag, fit) {
  s <- summary(fit)
  out(paste0(tag, "_coef"), coef(fit)); out(paste0(tag, "_se"), s$coefficients[, 2])
  out(paste0(tag, "_dev"), deviance(fit)); out(paste0(tag, "_null"), fit$null.deviance)
  out(paste0(tag, "_iter"), fit$iter); out(paste0(tag, "_disp"), s$dispersion)
}
report("gaussian", glm(yg ~ x1 + x2 + x3 + x4 + x5, family = gaussian, data = d, control = ctl))
report("binomial", glm(yb ~ x1 + x2 + x3 + x4 + x5, family = binomial, data = d, control = ctl))
report("poisson", glm(yp ~ x1 + x2 + x3 + x4 + x5 + offset(off), family = poisson, data = d, control = ctl))
)R";

TEST(GlmAgainstR, FederatedOverFourSitesEqualsPooledAndGlm) {
  const Dataset s = MakeDataset();
  auto r = rcheck::RunR(kGlmScript, {{"glm.csv", s.csv}});
  ASSERT_FALSE(r.empty());
  const GlmOptions options{.epsilon = 1e-14, .max_iterations = 100};
  const size_t cuts[5] = {0, 300, 900, 1700, 2400};
  for (GlmFamily family : {GlmFamily::kGaussian, GlmFamily::kBinomial, GlmFamily::kPoisson}) {
    const std::string tag(GlmFamilyName(family));
    SCOPED_TRACE(tag);
    std::vector<GlmData> sites;
    for (int k = 0; k < 4; ++k) sites.push_back(Slice(s, family, cuts[k], cuts[k + 1]));
    std::vector<int> calls(4, 0);
    std::vector<GlmSite> fns;
    for (int k = 0; k < 4; ++k)
      fns.push_back([&, k, family](const std::vector<double>& beta) {
        ++calls[static_cast<size_t>(k)];
        return GlmContribute(sites[static_cast<size_t>(k)], family, beta);
      });
    auto fed = FitGlmFederated(fns, family, options);
    ASSERT_TRUE(fed.ok()) << fed.status().ToString();
    auto pooled = FitGlm(Slice(s, family, 0, 2400), family, options);
    ASSERT_TRUE(pooled.ok()) << pooled.status().ToString();

    const auto& coef = r.at(tag + "_coef");
    const auto& se = r.at(tag + "_se");
    ASSERT_EQ(coef.size(), 6u);
    for (size_t j = 0; j < 6; ++j) {
      EXPECT_NEAR(fed->beta[j], coef[j], 1e-8 * std::abs(coef[j])) << "coefficient " << j;
      EXPECT_NEAR(pooled->beta[j], coef[j], 1e-8 * std::abs(coef[j])) << "coefficient " << j;
      EXPECT_NEAR(fed->beta[j], pooled->beta[j], 1e-10 * std::abs(coef[j])) << "coefficient " << j;
      EXPECT_NEAR(fed->se[j], se[j], 1e-6 * se[j]) << "standard error " << j;
      EXPECT_NEAR(pooled->se[j], se[j], 1e-6 * se[j]) << "standard error " << j;
    }
    const double dev = r.at(tag + "_dev")[0];
    EXPECT_NEAR(fed->deviance, dev, 1e-8 * dev);
    EXPECT_NEAR(pooled->deviance, dev, 1e-8 * dev);
    EXPECT_NEAR(fed->dispersion, r.at(tag + "_disp")[0], 1e-8 * r.at(tag + "_disp")[0]);
    if (family == GlmFamily::kPoisson) {
      EXPECT_TRUE(std::isnan(fed->null_deviance)) << "with an offset the null model needs its own fit";
    } else {
      const double null = r.at(tag + "_null")[0];
      EXPECT_NEAR(fed->null_deviance, null, 1e-8 * null);
    }
    EXPECT_EQ(fed->iterations, static_cast<int>(r.at(tag + "_iter")[0]));
    EXPECT_EQ(fed->n, 2400);
    EXPECT_EQ(fed->df_residual, 2394);
    // One round trip per iteration, plus the one that fetches the start: each site answered
    // exactly once per round trip.
    EXPECT_EQ(fed->round_trips, fed->iterations + 1);
    for (int k = 0; k < 4; ++k) EXPECT_EQ(calls[static_cast<size_t>(k)], fed->round_trips) << "site " << k + 1;
  }
}

}  // namespace
}  // namespace ark::stats
