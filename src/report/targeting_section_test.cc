#include "report/targeting_section.h"

#include <gtest/gtest.h>

namespace ark {
namespace {

using OJson = nlohmann::ordered_json;

// A model card as `ark model train` writes it, with counts chosen so that rounding shows.
OJson Card(bool remedy) {
  OJson v;
  v["people"] = 5003, v["events"] = 402;
  v["auroc"] = {{"estimate", 0.7512}, {"ci95", {0.7301, 0.7723}}, {"method", "DeLong"}};
  v["brier"] = 0.06123;
  v["calibration"] = {{"mean_predicted", 0.0795}, {"observed_rate", 0.0804}, {"in_the_large_difference", -0.0009},
                      {"intercept", 0.01}, {"slope", 0.97}};
  OJson dec = OJson::array();
  for (int k = 0; k < 10; ++k)
    dec.push_back({{"people", 501}, {"events", 12 + 8 * k}, {"mean_predicted", 0.02 + 0.015 * k}, {"observed_rate", (12 + 8 * k) / 501.0}});
  v["calibration_by_decile"] = dec;
  v["threshold"] = {{"top_percent", 5}, {"risk", 0.3}, {"flagged", 251}, {"false_positive_rate", 0.03}, {"false_negative_rate", 0.7}};
  OJson q = OJson::array();
  // 1003 people, 52 admitted (-> 1005, 50), 33 missed (-> 35): missed 70.0% from rounded counts, not 63.5%.
  q.push_back({{"group", "1 most deprived"}, {"people", 1003}, {"events", 52}, {"mean_predicted", 0.051}, {"observed_rate", 52 / 1003.0},
               {"in_the_large_difference", 0.0}, {"false_positive_rate", 0.02}, {"false_negative_rate", 33 / 52.0},
               {"false_positives", 19}, {"false_negatives", 33}});
  q.push_back({{"group", "2"}, {"suppressed", "fewer than 10 people with or without the outcome"}});
  // 6 missed: redacted, so its false-negative rate is not shown.
  q.push_back({{"group", "5 least deprived"}, {"people", 998}, {"events", 21}, {"mean_predicted", 0.02}, {"observed_rate", 21 / 998.0},
               {"in_the_large_difference", 0.0}, {"false_positive_rate", 0.01}, {"false_negative_rate", 6 / 21.0},
               {"false_positives", 10}, {"false_negatives", 6}});
  v["fairness"]["deprivation_quintile"] = q;
  OJson c;
  c["model"] = "m";
  c["learner"] = "logistic regression";
  c["data"] = {{"training", {{"index_date", "2024-01-01"}, {"people", 4998}}}, {"validation", {{"index_date", "2025-01-01"}, {"people", 5003}}}};
  c["performance"]["temporal_validation"] = v;
  if (remedy) {
    auto fig = [](int fn1, int fn5, double slope) {
      return OJson{{"auroc", 0.75}, {"brier", 0.06}, {"calibration", {{"in_the_large_difference", 0.001}, {"intercept", 0}, {"slope", slope}}},
                   {"by_group", {{{"group", "1 most deprived"}, {"events", 52}, {"false_negatives", fn1}},
                                 {{"group", "5 least deprived"}, {"events", 41}, {"false_negatives", fn5}}}}};
    };
    c["remedy"] = {{"type", "recalibrate-by-deprivation"}, {"before", fig(33, 38, 0.97)}, {"after", fig(38, 37, 0.99)}};
  }
  return c;
}

TEST(TargetingSection, HeadlinesAndChartsFromTheCardUnderDisclosure) {
  TargetingInputs in;
  in.card = Card(false);
  in.oracle = stats::Roc{.auc = 0.7611, .se = 0.01, .ci_low = 0.7415, .ci_high = 0.7807};
  in.oracle_people = 5102;
  in.project = "demo-targeting";
  OJson out;
  auto html = TargetingSectionHtml(in, &out);
  ASSERT_TRUE(html.ok()) << html.status().ToString();
  EXPECT_NE(html->find("<h2>Targeting: who is most likely to be admitted as an emergency</h2>"), std::string::npos);
  EXPECT_NE(html->find("0.751 (0.730–0.772)"), std::string::npos);
  EXPECT_NE(html->find("0.761 (0.742–0.781)"), std::string::npos);  // the oracle
  EXPECT_NE(html->find("0.97"), std::string::npos);
  EXPECT_NE(html->find("<code>demo-targeting</code>"), std::string::npos);
  EXPECT_NE(html->find("Predicted against observed, by risk decile"), std::string::npos);
  const OJson& t = out["targeting"];
  // People and admissions rounded to 5, shares from the rounded counts.
  EXPECT_EQ(t["calibration"]["observed_percent"], 100.0 * 400 / 5005);
  EXPECT_EQ(t["calibration_by_decile"][0]["admitted"], 10);  // 12
  EXPECT_EQ(t["calibration_by_decile"][0]["observed_percent"], 100.0 * 10 / 500);
  const OJson& q = t["by_deprivation_quintile"];
  ASSERT_EQ(q.size(), 3u) << t.dump();
  EXPECT_EQ(q[0]["people"], 1005);
  EXPECT_EQ(q[0]["admitted"], 50);
  EXPECT_EQ(q[0]["false_negative_rate_percent"], 70.0);
  EXPECT_EQ(q[0]["false_positive_rate_percent"], 100.0 * 20 / 950);  // 951 -> 950
  EXPECT_TRUE(q[1]["suppressed"].get<bool>());
  EXPECT_EQ(q[2]["false_negative_rate_percent"], "[REDACTED]");  // 6 missed
  EXPECT_EQ(html->find("63.5%"), std::string::npos);               // the true-count rate is never shown
  EXPECT_FALSE(t.contains("fnr_gap_points"));                        // one side redacted: no gap
  EXPECT_EQ(html->find("A remedy for the gap"), std::string::npos);
}

TEST(TargetingSection, RemedyBeforeAndAfterAndBadCards) {
  TargetingInputs in;
  in.card = Card(true);
  in.project = "p";
  OJson out;
  auto html = TargetingSectionHtml(in, &out);
  ASSERT_TRUE(html.ok()) << html.status().ToString();
  EXPECT_NE(html->find("A remedy for the gap"), std::string::npos);
  // Before: 40/40 - 35/50 missed (rounded counts) = 100 - 70 = 30 points; after 35/40 - 40/50 = 7.5.
  EXPECT_DOUBLE_EQ(out["targeting"]["remedy"]["fnr_gap_points_before"].get<double>(), 30.0);
  EXPECT_DOUBLE_EQ(out["targeting"]["remedy"]["fnr_gap_points_after"].get<double>(), 7.5);
  EXPECT_NE(html->find("narrowed the gap by 22.5 points"), std::string::npos);
  in.card = {{"model", "m"}};
  EXPECT_FALSE(TargetingSectionHtml(in, &out).ok());
}

}  // namespace
}  // namespace ark
