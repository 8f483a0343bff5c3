#include "disclosure/model_rules.h"

#include <gtest/gtest.h>

#include "governance/release.h"

namespace ark::sdc {
namespace {

// The rule that refused, from "nfilter.tab: ...: refused"; "" when allowed.
std::string Rule(const Status& s) {
  if (s.ok()) return "";
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  return s.message().substr(0, s.message().find(':'));
}

TEST(ModelRules, DefaultsAreDataShieldsAndTheReleaseDifferencingThreshold) {
  const ModelRules r;
  EXPECT_EQ(r.nfilter_tab, 3);
  EXPECT_EQ(r.nfilter_glm, 0.33);
  EXPECT_EQ(r.nfilter_subset, 3);
  EXPECT_EQ(r.nfilter_levels_max, 40);
  EXPECT_EQ(r.nfilter_levels_density, 0.33);
  EXPECT_EQ(r.differencing_threshold, gov::SubmitOptions{}.differencing_threshold);
}

// dsBase#250: a one-hot vector (1 at the target's row) times a column, then a mean. The mean
// over everyone passes a row count check, yet mean × N is the target's value. Here the product
// column is non-zero on one row, and the subset the one-hot vector picks has one row: both
// refused. Taking the complement instead (everyone but the target, after a request over
// everyone) is caught by differencing.
TEST(ModelRules, DsBase250OneHotTimesColumnThenMeanIsRefused) {
  const size_t n = 200, target = 17;
  std::vector<double> age(n), one_hot(n, 0), product(n);
  for (size_t i = 0; i < n; ++i) age[i] = 20 + static_cast<double>(i % 60);
  one_hot[target] = 1;
  for (size_t i = 0; i < n; ++i) product[i] = one_hot[i] * age[i];
  EXPECT_EQ(Rule(CheckAggregateColumn("age", age)), "");
  EXPECT_EQ(Rule(CheckAggregateColumn("one_hot*age", product)), "nfilter.subset");
  EXPECT_EQ(Rule(CheckSubset(1)), "nfilter.subset") << "the mean over the subset one_hot == 1";
  EXPECT_EQ(Rule(CheckSubset(2)), "nfilter.subset");
  EXPECT_EQ(Rule(CheckSubset(3)), "");
  EXPECT_EQ(Rule(CheckSubset(0)), "") << "an empty subset reveals nothing";
  const std::vector<int64_t> earlier = {static_cast<int64_t>(n)};
  EXPECT_EQ(Rule(CheckDifferencing(n - 1, earlier)), "differencing");
  EXPECT_EQ(Rule(CheckDifferencing(n - 9, earlier)), "differencing");
  EXPECT_EQ(Rule(CheckDifferencing(n - 10, earlier)), "");
  EXPECT_EQ(Rule(CheckDifferencing(n, earlier)), "") << "the same population again reveals nothing new";

  // The same attack inside a regression: y on an intercept and one_hot × age.
  std::vector<double> x, y(n);
  for (size_t i = 0; i < n; ++i) {
    x.insert(x.end(), {1, product[i]});
    y[i] = static_cast<double>(i % 2);
  }
  ModelDesign d{n, 2, &x, &y, true, {"intercept", "one_hot*age"}, {}};
  const Status s = CheckModelRequest(d, {});
  EXPECT_EQ(Rule(s), "nfilter.subset");
  EXPECT_NE(s.message().find("'one_hot*age'"), std::string::npos) << s.message();
}

TEST(ModelRules, GlmRulesNameWhatRefused) {
  // 30 rows: intercept, a 0/1 covariate, a continuous one; binary outcome.
  const size_t n = 30;
  std::vector<double> x, y(n);
  for (size_t i = 0; i < n; ++i) {
    x.insert(x.end(), {1, i % 3 == 0 ? 1.0 : 0.0, 0.5 * static_cast<double>(i)});
    y[i] = i % 4 == 0 ? 1 : 0;
  }
  ModelDesign d{n, 3, &x, &y, true, {"intercept", "female", "age"}, {}};
  EXPECT_TRUE(CheckModelRequest(d, {}).ok()) << CheckModelRequest(d, {}).ToString();

  auto y2 = y;
  for (size_t i = 0; i < n; ++i) y2[i] = i < 2 ? 1 : 0;  // two events
  d.y = &y2;
  EXPECT_EQ(Rule(CheckModelRequest(d, {})), "nfilter.tab");
  for (size_t i = 0; i < n; ++i) y2[i] = i < 28 ? 1 : 0;  // two non-events
  EXPECT_EQ(Rule(CheckModelRequest(d, {})), "nfilter.tab");
  d.binary_outcome = false;
  EXPECT_TRUE(CheckModelRequest(d, {}).ok()) << "a continuous outcome has no levels";
  d.y = &y;
  d.binary_outcome = true;

  auto x2 = x;
  for (size_t i = 0; i < n; ++i) x2[i * 3 + 1] = i == 5 ? 1 : 0;  // one woman
  d.x = &x2;
  const Status tab = CheckModelRequest(d, {});
  EXPECT_EQ(Rule(tab), "nfilter.tab");
  EXPECT_NE(tab.message().find("'female'"), std::string::npos) << tab.message();
  d.x = &x;

  // nfilter.glm: 10 parameters need N >= 10 / 0.33, i.e. 31 rows; 30 are refused, 31 pass.
  std::vector<double> wide, wy;
  for (size_t i = 0; i < 31; ++i) {
    for (int j = 0; j < 10; ++j) wide.push_back(j == 0 ? 1 : static_cast<double>((i * 7 + static_cast<size_t>(j) * 3) % 11) + 1);
    wy.push_back(static_cast<double>(i % 5));
  }
  ModelDesign w{31, 10, &wide, &wy, false, {}, {}};
  EXPECT_TRUE(CheckModelRequest(w, {}).ok()) << CheckModelRequest(w, {}).ToString();
  w.rows = 30;
  wide.resize(300);
  wy.resize(30);
  EXPECT_EQ(Rule(CheckModelRequest(w, {})), "nfilter.glm");

  EXPECT_EQ(Rule(CheckModelRequest(d, {35})), "differencing");
  EXPECT_TRUE(CheckModelRequest(d, {40, 20}).ok());
  ModelDesign bad{n, 4, &x, &y, true, {}, {}};
  EXPECT_EQ(CheckModelRequest(bad, {}).code(), StatusCode::kInvalidArgument);
}

TEST(ModelRules, FactorsWithTooManyOrTooDenseOrSmallLevelsAreRefused) {
  FactorLevels practice{"practice", std::vector<int64_t>(41, 10)};
  EXPECT_EQ(Rule(CheckFactor(practice, 410)), "nfilter.levels.max");
  practice.counts.resize(40);
  EXPECT_EQ(Rule(CheckFactor(practice, 400)), "");
  FactorLevels lsoa{"lsoa", std::vector<int64_t>(20, 3)};
  EXPECT_EQ(Rule(CheckFactor(lsoa, 60)), "nfilter.levels.density") << "20 levels for 60 rows > 0.33";
  EXPECT_EQ(Rule(CheckFactor(lsoa, 61)), "");
  FactorLevels ethnicity{"ethnicity", {50, 30, 2, 0, 18}};
  const Status s = CheckFactor(ethnicity, 100);
  EXPECT_EQ(Rule(s), "nfilter.tab");
  EXPECT_NE(s.message().find("level 3"), std::string::npos) << s.message();
  ethnicity.counts[2] = 3;
  EXPECT_EQ(Rule(CheckFactor(ethnicity, 100)), "") << "an empty level (0) is allowed";
}

}  // namespace
}  // namespace ark::sdc
