// Ark's risk-model statistics against Python's scikit-learn and statsmodels (Debian's
// python3-sklearn and python3-statsmodels, installed by scripts/deps.sh; run with /usr/bin/python3):
// AUROC against sklearn's roc_auc_score, AUPRC against average_precision_score, the Brier score
// against brier_score_loss, the L2-penalised logistic fit against LogisticRegression (Ark's lambda
// is sklearn's 1/C; neither penalises the intercept), and the calibration intercept and slope against
// statsmodels' Logit / GLM with an offset. Skipped, saying why, when those modules are missing.
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

const char* const kPython = R"PY(
import sys
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, average_precision_score, brier_score_loss
import statsmodels.api as sm
d = pd.read_csv(sys.argv[1])
out = lambda name, v: print("%s %.17g" % (name, v))
out("auc", roc_auc_score(d.y, d.score))
out("auprc", average_precision_score(d.y, d.score))
out("brier", brier_score_loss(d.y, d.p))
m = LogisticRegression(C=1 / 2.0, tol=1e-12, max_iter=100000).fit(d[["x1", "x2", "x3"]], d.y)
out("coef0", m.intercept_[0])
for i, c in enumerate(m.coef_[0]): out("coef%d" % (i + 1), c)
lp = np.log(d.p / (1 - d.p))
out("cal_slope", sm.Logit(d.y, sm.add_constant(lp)).fit(disp=0, tol=1e-14, maxiter=100).params.iloc[1])
out("cal_intercept", sm.GLM(d.y, np.ones(len(d)), family=sm.families.Binomial(), offset=lp).fit(tol=1e-14).params.iloc[0])
)PY";

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "ark_stats_py_" + std::to_string(::getpid()) + "_" + name;
}

TEST(StatsAgainstSklearn, MetricsAndPenalisedLogisticMatchSklearnAndStatsmodels) {
  if (std::system("/usr/bin/python3 -c 'import sklearn, statsmodels, pandas' > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "/usr/bin/python3 has no sklearn/statsmodels/pandas: install python3-sklearn python3-statsmodels (scripts/deps.sh)";
  // 2,000 rows from a known logistic model (fixed seed); a rounded noisy score with ties to rank,
  // and miscalibrated probabilities for the calibration fits.
  std::mt19937_64 rng(16);
  std::uniform_real_distribution<double> u(0, 1);
  Design x{2000, 3, {}};
  std::vector<int> y;
  std::vector<double> score, p;
  for (size_t i = 0; i < x.rows; ++i) {
    const double a = u(rng) * 4 - 2, b = u(rng) < 0.3 ? 1 : 0, c = u(rng) * 10;
    x.values.insert(x.values.end(), {a, b, c});
    const double truth = 1 / (1 + std::exp(-(-2 + 0.8 * a + 0.9 * b + 0.12 * c)));
    y.push_back(u(rng) < truth);
    score.push_back(std::round((truth + 0.1 * (u(rng) - 0.5)) * 100) / 100);
    p.push_back(std::clamp(0.8 * truth + 0.03, 0.0, 1.0));
  }
  const std::string csv = TempPath("data.csv"), script = TempPath("check.py"), out = TempPath("out.txt");
  {
    std::ofstream f(csv);
    f.precision(17);
    f << "x1,x2,x3,y,score,p\n";
    for (size_t i = 0; i < x.rows; ++i)
      f << x.values[3 * i] << ',' << x.values[3 * i + 1] << ',' << x.values[3 * i + 2] << ',' << y[i] << ',' << score[i] << ','
        << p[i] << '\n';
    std::ofstream(script) << kPython;
  }
  ASSERT_EQ(std::system(("/usr/bin/python3 " + script + " " + csv + " > " + out + " 2>&1").c_str()), 0) << std::ifstream(out).rdbuf();
  std::map<std::string, double> r;
  std::ifstream in(out);
  for (std::string name; in >> name;) in >> r[name];
  ASSERT_EQ(r.size(), 9u) << "unexpected output in " << out;

  auto roc = Auroc(score, y);
  ASSERT_TRUE(roc.ok());
  EXPECT_NEAR(roc->auc, r.at("auc"), 1e-9);
  EXPECT_NEAR(*Auprc(score, y), r.at("auprc"), 1e-9);
  EXPECT_NEAR(*Brier(p, y), r.at("brier"), 1e-12);
  auto fit = FitLogistic(x, y, {.lambda = 2.0});
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  const double coef[4] = {fit->intercept, fit->coefficients[0], fit->coefficients[1], fit->coefficients[2]};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(coef[i], r.at("coef" + std::to_string(i)), 1e-5) << "coefficient " << i;
  auto cal = Calibrate(p, y);
  ASSERT_TRUE(cal.ok());
  EXPECT_NEAR(cal->slope, r.at("cal_slope"), 1e-6);
  EXPECT_NEAR(cal->intercept, r.at("cal_intercept"), 1e-6);
  for (const auto& f : {csv, script, out}) std::remove(f.c_str());
}

}  // namespace
}  // namespace ark::stats
