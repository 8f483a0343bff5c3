// The statistics checked against independent implementations in R: glm (logistic regression
// coefficients, logistic recalibration), pROC (AUROC and its DeLong interval), and plain R
// for AUPRC and the Brier score. Needs Rscript and pROC (r-base-core, r-cran-proc: installed
// by scripts/deps.sh); the test fails when they are missing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "stats/logistic.h"
#include "stats/metrics.h"

namespace ark::stats {
namespace {

const char* const kScript = R"R(
suppressPackageStartupMessages(library(pROC))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
out <- function(name, v) cat(sprintf("%s %.17g\n", name, v))
fit <- glm(y ~ x1 + x2 + x3, family = binomial, data = d, control = glm.control(epsilon = 1e-14, maxit = 100))
for (i in seq_along(coef(fit))) out(paste0("coef", i - 1), coef(fit)[i])
r <- roc(d$y, d$score, levels = c(0, 1), direction = "<", quiet = TRUE)
out("auc", as.numeric(auc(r)))
ci <- ci.auc(r, method = "delong")
out("ci_low", ci[1]); out("ci_high", ci[3])
lp <- qlogis(d$p)
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
out("cal_intercept", coef(glm(d$y ~ 1, offset = lp, family = binomial, control = ctl))[1])
out("cal_slope", coef(glm(d$y ~ lp, family = binomial, control = ctl))[2])
out("brier", mean((d$p - d$y)^2))
# Average precision over distinct thresholds, highest first.
th <- sort(unique(d$score), decreasing = TRUE)
tp <- sapply(th, function(t) sum(d$y[d$score >= t]))
np <- sapply(th, function(t) sum(d$score >= t))
out("auprc", sum(diff(c(0, tp)) / sum(d$y) * tp / np))
)R";

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "ark_stats_r_" + std::to_string(::getpid()) + "_" + name;
}

TEST(StatsAgainstR, LogisticAndMetricsMatchGlmAndPROC) {
  ASSERT_EQ(std::system("command -v Rscript > /dev/null 2>&1"), 0)
      << "Rscript not found: install r-base-core and r-cran-proc (scripts/deps.sh)";
  // 3,000 rows, three features, outcomes from a known logistic model; the score to rank is a
  // rounded noisy version of the truth so that it has ties.
  std::mt19937_64 rng(2026);
  std::uniform_real_distribution<double> u(0, 1);
  Design x{3000, 3, {}};
  std::vector<int> y;
  std::vector<double> score, p;
  for (size_t i = 0; i < x.rows; ++i) {
    const double a = u(rng) * 4 - 2, b = u(rng) < 0.3 ? 1 : 0, c = u(rng) * 10;
    x.values.insert(x.values.end(), {a, b, c});
    const double truth = 1 / (1 + std::exp(-(-2 + 0.8 * a + 0.9 * b + 0.12 * c)));
    y.push_back(u(rng) < truth);
    score.push_back(std::round((truth + 0.1 * (u(rng) - 0.5)) * 100) / 100);
    p.push_back(std::clamp(0.9 * truth + 0.02, 0.0, 1.0));
  }
  const std::string csv = TempPath("data.csv"), script = TempPath("check.R"), out = TempPath("out.txt");
  {
    std::ofstream f(csv);
    f.precision(17);
    f << "x1,x2,x3,y,score,p\n";
    for (size_t i = 0; i < x.rows; ++i)
      f << x.values[3 * i] << ',' << x.values[3 * i + 1] << ',' << x.values[3 * i + 2] << ',' << y[i] << ','
        << score[i] << ',' << p[i] << '\n';
    std::ofstream(script) << kScript;
  }
  ASSERT_EQ(std::system(("Rscript " + script + " " + csv + " > " + out + " 2>&1").c_str()), 0)
      << std::ifstream(out).rdbuf();
  std::map<std::string, double> r;
  std::ifstream in(out);
  for (std::string name; in >> name;) in >> r[name];
  ASSERT_EQ(r.size(), 11u) << "unexpected R output in " << out;

  auto fit = FitLogistic(x, y);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  const double coef[4] = {fit->intercept, fit->coefficients[0], fit->coefficients[1], fit->coefficients[2]};
  for (int i = 0; i < 4; ++i) {
    const double want = r.at("coef" + std::to_string(i));
    EXPECT_NEAR(coef[i], want, 1e-6 * std::abs(want)) << "coefficient " << i;
  }
  auto roc = Auroc(score, y);
  ASSERT_TRUE(roc.ok());
  EXPECT_NEAR(roc->auc, r.at("auc"), 1e-6);
  EXPECT_NEAR(roc->ci_low, r.at("ci_low"), 1e-6);
  EXPECT_NEAR(roc->ci_high, r.at("ci_high"), 1e-6);
  auto cal = Calibrate(p, y);
  ASSERT_TRUE(cal.ok());
  EXPECT_NEAR(cal->intercept, r.at("cal_intercept"), 1e-6);
  EXPECT_NEAR(cal->slope, r.at("cal_slope"), 1e-6);
  EXPECT_NEAR(*Brier(p, y), r.at("brier"), 1e-6);
  EXPECT_NEAR(*Auprc(score, y), r.at("auprc"), 1e-6);
  for (const auto& f : {csv, script, out}) std::remove(f.c_str());
}

}  // namespace
}  // namespace ark::stats
