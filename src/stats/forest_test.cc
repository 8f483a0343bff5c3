#include "stats/forest.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "stats/gbt.h"
#include "stats/score.h"

namespace ark::stats {
namespace {

// Rows of mixed kinds (a continuous value, small counts, a binary flag, a value with many ties)
// and an outcome that depends on them with an interaction, so the trees split unevenly and some
// stop above the maximum depth.
struct Data {
  Design x;
  std::vector<int> y;
};

Data Rows(uint64_t seed, size_t n) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::poisson_distribution<int> count(1.5);
  Data d;
  d.x.cols = 4;
  for (size_t i = 0; i < n; ++i) {
    const double age = 18 + 80 * u(rng), prior = count(rng), flag = u(rng) < 0.3, tied = std::floor(10 * u(rng)) / 10;
    d.x.values.insert(d.x.values.end(), {age, prior, flag, tied});
    ++d.x.rows;
    const double eta = -4 + 0.03 * (age - 50) + 0.5 * prior + (flag && tied > 0.5 ? 1.2 : 0);
    d.y.push_back(u(rng) < 1 / (1 + std::exp(-eta)));
  }
  return d;
}

TEST(Forest, ScoresExactlyAsXgboostDoes) {
  const Data train = Rows(1, 5000), score = Rows(2, 20000);
  for (int depth : {1, 2, 3, 4, 6}) {
    GbtParams p;
    p.trees = 80;
    p.max_depth = depth;
    p.min_child_weight = 20;  // leaves above the bottom level: padded in the perfect trees
    auto m = FitGbt(train.x, train.y, p);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    auto f = Forest::Flatten(m->json, train.x.cols);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_EQ(f->trees(), 80u);
    EXPECT_LE(f->depth(), depth);
    auto want = PredictGbt(*m, score.x, 1);
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    const std::vector<double> one = f->Predict(score.x, 1), two = f->Predict(score.x, 2), three = f->Predict(score.x, 3);
    ASSERT_EQ(one.size(), want->size());
    size_t differ = 0;
    for (size_t i = 0; i < one.size(); ++i) differ += one[i] != (*want)[i];
    EXPECT_EQ(differ, 0u) << "depth " << depth << ": first row " << one[0] << " against xgboost's " << (*want)[0];
    EXPECT_EQ(one, two);
    EXPECT_EQ(one, three);
  }
}

TEST(Forest, ScorerUsesItAndRefusesNonFiniteRows) {
  const Data train = Rows(3, 3000);
  auto m = FitGbt(train.x, train.y, GbtParams{.trees = 30});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  nlohmann::ordered_json model = {{"type", "gbt"},
                                  {"features", {{{"name", "age"}}, {{"name", "prior"}}, {{"name", "flag"}}, {{"name", "tied"}}}}};
  auto s = LoadScorer(model, m->json);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_NE(s->forest, nullptr);
  auto p = s->Score(train.x, 2);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(*p, *PredictGbt(*m, train.x, 1));
  Design bad = train.x;
  bad.values[4 * 7 + 1] = std::nan("");
  auto r = s->Score(bad, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("row 8"), std::string::npos) << r.status().message();
}

TEST(Forest, WhatItDoesNotFlattenIsSaid) {
  const Data train = Rows(4, 2000);
  auto m = FitGbt(train.x, train.y, GbtParams{.trees = 5});
  ASSERT_TRUE(m.ok());
  auto other = m->json;
  const auto at = other.find("binary:logistic");
  ASSERT_NE(at, std::string::npos);
  other.replace(at, 15, "reg:squarederror");
  auto f = Forest::Flatten(other, train.x.cols);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(f.status().message().find("objective"), std::string::npos) << f.status().message();
  // A column the rows do not have is an error, not a silent read past the row.
  auto narrow = Forest::Flatten(m->json, 1);
  ASSERT_FALSE(narrow.ok());
  EXPECT_EQ(narrow.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(narrow.status().message().find("splits on column"), std::string::npos) << narrow.status().message();
  EXPECT_EQ(Forest::Flatten("not json", 4).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Forest::Flatten(R"({"learner": {}})", 4).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ark::stats
