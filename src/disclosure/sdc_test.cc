#include "disclosure/sdc.h"

#include <gtest/gtest.h>

#include <fstream>

#include <cmath>
#include <map>
#include <random>

#include "disclosure/dp.h"
#include "disclosure/opensafely.h"

namespace ark::sdc {
namespace {

CountTable List(std::vector<int64_t> v) {
  CountTable t;
  t.col_labels = {"count"};
  for (size_t i = 0; i < v.size(); ++i) {
    t.row_labels.push_back(std::string(1, char('a' + i)));
    t.counts.push_back({v[i]});
  }
  return t;
}

TEST(Sdc, OpenSafelyWorkedExampleHeartDisease) {
  auto r = CheckTable(List({3, 8, 16, 23}), SdcOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->cells[0][0].published);
  EXPECT_EQ(*r->cells[1][0].published, 10);
  EXPECT_EQ(*r->cells[2][0].published, 15);
  EXPECT_EQ(*r->cells[3][0].published, 25);
  EXPECT_EQ(*r->total, 50);
  EXPECT_EQ(r->status, "pass");
}

TEST(Sdc, EhrQlVectors) {
  auto r = CheckTable(List({6, 7, 8}), SdcOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->cells[0][0].published);
  EXPECT_FALSE(r->cells[1][0].published);
  EXPECT_EQ(*r->cells[2][0].published, 10);
  // and the one-count helper agrees
  EXPECT_FALSE(*PublishCount(6));
  EXPECT_FALSE(*PublishCount(7));
  EXPECT_EQ(**PublishCount(8), 10);
  EXPECT_FALSE(CheckTable(List({-1}), SdcOptions{}).ok());
}

TEST(Sdc, Midpoint6) {
  std::map<int64_t, int64_t> want = {{0, 0}, {1, 3}, {6, 3}, {7, 9}, {12, 9}, {13, 15}, {18, 15}};
  for (auto [x, y] : want) EXPECT_EQ(Midpoint6(x), y) << x;
  SdcOptions o;
  o.rounding = Rounding::kMidpoint6;
  auto r = CheckTable(List({13, 20}), o);
  EXPECT_EQ(*r->cells[0][0].published, 15);
  EXPECT_EQ(*r->cells[1][0].published, 21);
  EXPECT_EQ(*r->total, 36);
}

TEST(Sdc, AcroThresholdZerosAndSecondarySuppressionWithMargins) {
  SdcOptions o;
  o.rules = RuleSet::kAcro;
  CountTable t;
  t.row_labels = {"r1", "r2", "r3"};
  t.col_labels = {"c1", "c2", "c3"};
  t.counts = {{5, 40, 50}, {30, 35, 60}, {45, 0, 70}};
  auto r = CheckTable(t, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, "review");
  EXPECT_EQ(r->primary, 2);  // 5 (< 10) and 0 (zero)
  EXPECT_GT(r->secondary, 0);
  // No row or column has exactly one hidden cell.
  for (size_t i = 0; i < 3; ++i) {
    int row = 0, col = 0;
    for (size_t j = 0; j < 3; ++j) {
      row += !r->cells[i][j].published;
      col += !r->cells[j][i].published;
    }
    EXPECT_NE(row, 1) << "row " << i;
    EXPECT_NE(col, 1) << "col " << i;
  }
  // Margins are sums of published cells only.
  for (size_t i = 0; i < 3; ++i) {
    int64_t s = 0;
    for (size_t j = 0; j < 3; ++j) s += r->cells[i][j].published.value_or(0);
    EXPECT_EQ(r->row_totals[i].value_or(0), s);
  }
  t.counts = {{50, 40}, {30, 35}};
  EXPECT_EQ(CheckTable(t = CountTable{{"a", "b"}, {"x", "y"}, {{50, 40}, {30, 35}}}, o)->status, "pass");
}

TEST(Sdc, DominanceAndPRatioAndRegression) {
  SdcOptions o;
  o.rules = RuleSet::kAcro;
  std::vector<double> even(12, 10.0);
  EXPECT_TRUE(CheckMagnitude(even, o).pass);
  std::vector<double> dominated(12, 1.0);
  dominated[0] = 1000;
  auto m = CheckMagnitude(dominated, o);
  EXPECT_FALSE(m.pass);
  EXPECT_NE(m.reason.find("nk-dominance"), std::string::npos);
  std::vector<double> pr(12, 1.0);  // top two 60+30 = 90 of 100: not >= 0.9*100? equal -> dominance
  pr[0] = 100;
  pr[1] = 5;  // rest = 10, 10/100 = 0.1 -> not < 0.1; top2 105/115 = 0.91 -> dominance
  EXPECT_FALSE(CheckMagnitude(pr, o).pass);
  std::vector<double> pr2(12, 0.5);  // rest 5, x1 = 60, x2 = 40 -> top2 100/105 dominance anyway
  pr2[0] = 60;
  pr2[1] = 40;
  EXPECT_FALSE(CheckMagnitude(pr2, o).pass);
  EXPECT_FALSE(CheckMagnitude(std::vector<double>(5, 1.0), o).pass);  // too few contributors
  EXPECT_FALSE(CheckRegression(9, o).pass);
  EXPECT_TRUE(CheckRegression(10, o).pass);
}

TEST(Sdc, DifferencingRefusesPopulationsOneToNineApart) {
  EXPECT_EQ(DifferencingConflict(105, {100}), 100);
  EXPECT_EQ(DifferencingConflict(91, {100}), 100);
  EXPECT_FALSE(DifferencingConflict(100, {100}));  // the same population again reveals nothing new
  EXPECT_FALSE(DifferencingConflict(110, {100}));
}

TEST(Dp, DiscreteLaplaceHasTheRightDistribution) {
  std::mt19937_64 rng(7);
  DpSampler s([&](uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng); });
  // scale 2 (t=2, s=1): P(0) = (1 - e^{-1/2}) / (1 + e^{-1/2}).
  const int N = 200000;
  int zeros = 0;
  double sum = 0;
  for (int i = 0; i < N; ++i) {
    int64_t x = s.DiscreteLaplace(2, 1);
    zeros += x == 0;
    sum += x;
  }
  double q = std::exp(-0.5), p0 = (1 - q) / (1 + q);
  EXPECT_NEAR(static_cast<double>(zeros) / N, p0, 0.005);
  EXPECT_NEAR(sum / N, 0.0, 0.05);
  uint64_t num, den;
  ASSERT_TRUE(ParseEpsilon("0.5", &num, &den).ok());
  EXPECT_EQ(num * 2, den);
  EXPECT_FALSE(ParseEpsilon("0", &num, &den).ok());
  EXPECT_FALSE(ParseEpsilon("abc", &num, &den).ok());
}


// `ark run` measure tables went to `ark sdc check` and were refused ("'interval_start' ... not a
// whole-number count"). They are read as they are now; their redactions stay; a ratio that does not
// follow from the published counts is refused.
TEST(Sdc, RunMeasureTablesAreCheckedAsTheyAre) {
  const std::string dir = ::testing::TempDir();
  auto write = [&](const std::string& name, const std::string& text) {
    const std::string path = dir + "/" + name;
    std::ofstream(path) << text;
    return path;
  };
  const std::string head = "measure,interval_start,interval_end,ratio,numerator,denominator,gender\n";
  auto t = ReadCountCsv(write("m.csv", head +
                                           "ex,2018-01-01,2018-12-31,1.57971,545,345,F\n"
                                           "ex,2018-01-01,2018-12-31,,[REDACTED],340,M\n"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(t->measures);
  EXPECT_EQ(t->col_labels, (std::vector<std::string>{"numerator", "denominator"}));
  EXPECT_EQ(t->row_labels[1], "ex 2018-01-01..2018-12-31 M");
  auto c = CheckTable(*t, SdcOptions{});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->status, "pass");
  EXPECT_EQ(c->cells[0][0].published, 545);
  EXPECT_FALSE(c->cells[1][0].published);         // stays redacted
  EXPECT_EQ(c->cells[1][1].published, 340);        // no secondary suppression across the columns
  EXPECT_EQ(c->secondary, 0);
  auto bad = ReadCountCsv(write("bad.csv", head + "ex,2018-01-01,2018-12-31,1.60000,545,345,F\n"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(":2: column 'ratio'"), std::string::npos) << bad.status().message();
  auto beside = ReadCountCsv(write("beside.csv", head + "ex,2018-01-01,2018-12-31,0.02,[REDACTED],340,M\n"));
  ASSERT_FALSE(beside.ok());
  EXPECT_NE(beside.status().message().find("beside a redacted count"), std::string::npos) << beside.status().message();
}


// "A (n=3)" in a label was released: the rules only looked at the count cells.
TEST(Sdc, CountsInsideLabelsAreCheckedOrRefused) {
  CountTable t;
  t.col_labels = {"count"};
  t.row_labels = {"A (n=3)", "B"};
  t.counts = {{100}, {200}};
  auto c = CheckTable(t, SdcOptions{});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->status, "fail");
  EXPECT_NE(c->summary.find("label 'A (n=3)' contains a count (3)"), std::string::npos) << c->summary;
  t.row_labels = {"A (n=120)", "B"};
  EXPECT_EQ(CheckTable(t, SdcOptions{})->status, "review");
  t.row_labels = {"5 patients", "B"};
  EXPECT_EQ(CheckTable(t, SdcOptions{})->status, "fail");
  t.row_labels = {"0-17", "65+"};  // age bands, deciles and years are labels, not counts
  EXPECT_EQ(CheckTable(t, SdcOptions{})->status, "pass");
  t.row_labels = {"2025", "decile 1"};
  EXPECT_EQ(CheckTable(t, SdcOptions{})->status, "pass");
}

}  // namespace
}  // namespace ark::sdc
