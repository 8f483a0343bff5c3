#include "stats/gbt.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "stats/metrics.h"
#include "stats/risk_model.h"
#include "stats/score.h"

namespace ark::stats {
namespace {

// Two features whose effect is an interaction: the risk is high only when both are high (and
// each alone does nothing), which a logistic model on the main effects cannot represent.
FeatureTable Interaction(uint64_t seed, size_t n, const std::string& date) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  FeatureTable t;
  t.index_date = date;
  t.features = {"a", "b", "noise"};
  t.x.cols = 3;
  for (size_t i = 0; i < n; ++i) {
    const double a = u(rng), b = u(rng), noise = u(rng);
    t.x.values.insert(t.x.values.end(), {a, b, noise});
    ++t.x.rows;
    const double p = (a > 0.5) == (b > 0.5) ? 0.3 : 0.03;
    t.y.push_back(u(rng) < p);
    t.groups["half"].push_back(a > 0.5 ? "high a" : "low a");
  }
  return t;
}

TEST(Gbt, BeatsLogisticOnAnInteractionAndScoresAsTrained) {
  ModelSpec spec;
  spec.name = "x";
  spec.outcome = "y";
  spec.type = "gbt";
  spec.gbt.trees = 60;
  spec.gbt.max_depth = 2;
  spec.gbt.eta = 0.2;
  auto m = TrainAndValidate(Interaction(1, 6000, "2024-01-01"), Interaction(2, 6000, "2025-01-01"), spec);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const double gbt = m->card["comparison"]["gbt"]["auroc"]["estimate"], logit = m->card["comparison"]["logistic"]["auroc"]["estimate"];
  EXPECT_GT(gbt, 0.7);
  EXPECT_GT(gbt, logit + 0.1) << "logistic " << logit;
  EXPECT_EQ(m->model["type"], "gbt");
  EXPECT_FALSE(m->booster_json.empty());
  EXPECT_EQ(nlohmann::json::parse(m->booster_json)["learner"]["objective"]["name"], "binary:logistic");
  // The interaction's features carry the gain, the noise little.
  const auto& f = m->card["features"];
  EXPECT_GT(f[0]["gain_share"].get<double>() + f[1]["gain_share"].get<double>(), 0.8);
  EXPECT_NEAR(m->card["performance"]["temporal_validation"]["calibration"]["slope"].get<double>(), 1, 0.25);
  EXPECT_NE(ModelCardHtml(m->card).find("Compared with logistic regression"), std::string::npos);

  // model.json + booster.json score the validation rows to the card's AUROC.
  auto s = LoadScorer(m->model, m->booster_json);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const FeatureTable v = Interaction(2, 6000, "2025-01-01");
  auto p = s->Score(v.x, 1);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto roc = Auroc(*p, v.y);
  ASSERT_TRUE(roc.ok());
  EXPECT_NEAR(roc->auc, gbt, 1e-4);
  // A logistic model's file scores by its formula too.
  spec.type = "logistic";
  auto lm = TrainAndValidate(Interaction(1, 6000, "2024-01-01"), v, spec);
  ASSERT_TRUE(lm.ok());
  auto ls = LoadScorer(lm->model, "");
  ASSERT_TRUE(ls.ok()) << ls.status().ToString();
  auto lp = ls->Score(v.x, 1);
  ASSERT_TRUE(lp.ok());
  EXPECT_NEAR(Auroc(*lp, v.y)->auc, logit, 1e-4);
}

TEST(Gbt, SameInputsGiveTheSameModel) {
  const FeatureTable t = Interaction(3, 2000, "2024-01-01");
  GbtParams p;
  p.trees = 20;
  p.subsample = 0.8;
  auto a = FitGbt(t.x, t.y, p), b = FitGbt(t.x, t.y, p);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->json, b->json);
  p.seed = 8;
  auto c = FitGbt(t.x, t.y, p);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->json, c->json);  // subsampling follows the seed
}

TEST(Gbt, BadParametersAndInputsAreRefused) {
  const FeatureTable t = Interaction(4, 100, "2024-01-01");
  GbtParams p;
  p.max_depth = 0;
  auto r = FitGbt(t.x, t.y, p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("max_depth"), std::string::npos) << r.status().message();
  p = GbtParams{};
  p.eta = 0;
  EXPECT_NE(CheckGbtParams(p).message().find("eta"), std::string::npos);
  p = GbtParams{};
  p.subsample = 1.5;
  EXPECT_NE(CheckGbtParams(p).message().find("subsample"), std::string::npos);
  EXPECT_TRUE(CheckGbtParams(GbtParams{}).ok());
  std::vector<int> y = t.y;
  y[3] = 2;
  EXPECT_FALSE(FitGbt(t.x, y, GbtParams{}).ok());
  auto m = FitGbt(t.x, t.y, GbtParams{.trees = 5});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  Design two{1, 2, {0.1, 0.2}};
  auto wrong = PredictGbt(*m, two, 1);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("3 features"), std::string::npos) << wrong.status().message();
  EXPECT_FALSE(PredictGbt(GbtModel{"not a model", {}}, t.x, 1).ok());
}

}  // namespace
}  // namespace ark::stats
