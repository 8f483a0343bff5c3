#include "stats/need.h"

#include <gtest/gtest.h>

#include <numeric>

namespace ark::stats {
namespace {

TEST(Need, ExpectedAdmissionsAreTheSumOfRisks) {
  std::vector<std::string> labels;
  std::vector<double> risk;
  for (int i = 0; i < 300; ++i) {
    labels.push_back(i % 3 == 0 ? "A" : i % 3 == 1 ? "B" : "");
    risk.push_back((i % 17) / 20.0);
  }
  auto t = AggregateNeed("practice", labels, risk, 0.5);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  const double sum = std::accumulate(risk.begin(), risk.end(), 0.0);
  EXPECT_NEAR(t->total.expected, sum, 1e-9);
  EXPECT_NEAR(*t->total.expected_published, sum, 0.05);
  double rows = 0;
  int64_t people = 0;
  for (const NeedRow& r : t->rows) rows += r.expected, people += r.people;
  EXPECT_NEAR(rows, sum, 1e-9);
  EXPECT_EQ(people, 300);
  ASSERT_EQ(t->rows.size(), 3u);
  EXPECT_EQ(t->rows[2].group, "unknown");  // the empty label
  EXPECT_EQ(t->total.above, std::count_if(risk.begin(), risk.end(), [](double r) { return r >= 0.5; }));
  EXPECT_FALSE(AggregateNeed("x", {"a"}, {1.5}, 0.5).ok());
  auto deciles = AggregateNeed("decile", {"10", "2", "1", ""}, {0.1, 0.1, 0.1, 0.1}, 0.5);
  ASSERT_TRUE(deciles.ok());
  EXPECT_EQ(deciles->rows[0].group, "1");
  EXPECT_EQ(deciles->rows[1].group, "2");
  EXPECT_EQ(deciles->rows[2].group, "10");
  EXPECT_EQ(deciles->rows[3].group, "unknown");
  EXPECT_FALSE(AggregateNeed("x", {"a", "b"}, {0.5}, 0.5).ok());
}

// Small counts of people are redacted and the rest rounded to 5; a group's expected admissions
// go with its count, and a lone withheld group takes the next smallest with it (else the total
// would give it away).
TEST(Need, SmallCountsAreRedactedAndCannotBeDifferenced) {
  std::vector<std::string> labels;
  std::vector<double> risk;
  auto add = [&](const std::string& g, int n, double r) {
    for (int i = 0; i < n; ++i) labels.push_back(g), risk.push_back(r);
  };
  add("big", 103, 0.1);
  add("mid", 21, 0.6);
  add("tiny", 3, 0.9);
  auto t = AggregateNeed("lsoa", labels, risk, 0.5);
  ASSERT_TRUE(t.ok());
  const NeedRow &big = t->rows[0], &mid = t->rows[1], &tiny = t->rows[2];
  EXPECT_EQ(tiny.group, "tiny");
  EXPECT_FALSE(tiny.people_published);
  EXPECT_FALSE(tiny.above_published);
  EXPECT_FALSE(tiny.expected_published);
  EXPECT_EQ(*big.people_published, 105);  // 103 rounded to 5
  EXPECT_FALSE(big.above_published);  // 0 is at or below 7
  EXPECT_TRUE(big.expected_published);
  EXPECT_EQ(*mid.people_published, 20);
  EXPECT_FALSE(mid.expected_published);   // the next smallest, withheld with tiny
  EXPECT_EQ(*t->total.people_published, 125);  // 127
  const std::string csv = NeedCsv(*t);
  EXPECT_NE(csv.find("tiny,[REDACTED],[REDACTED],[REDACTED]\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("big,105,10.3,[REDACTED]\n"), std::string::npos) << csv;
  EXPECT_EQ(csv.find(",3,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("total,125,"), std::string::npos) << csv;
}

TEST(Need, CaseFindingListsHoldOnlyEachPracticesPeopleAboveTheThreshold) {
  auto l = CaseFindingLists({10, 11, 12, 13, 14, 15}, {"P1", "P2", "P1", "", "P1", "P2"}, {0.9, 0.2, 0.5, 0.99, 0.7, 0.6}, 0.5);
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->size(), 2u);
  EXPECT_EQ((*l)[0].practice, "P1");
  ASSERT_EQ((*l)[0].people.size(), 3u);
  EXPECT_EQ((*l)[0].people[0].person, 10u);
  EXPECT_EQ((*l)[0].people[1].person, 14u);
  EXPECT_EQ((*l)[0].people[2].person, 12u);  // at the threshold: listed
  ASSERT_EQ((*l)[1].people.size(), 1u);
  EXPECT_EQ((*l)[1].people[0].person, 15u);
  EXPECT_EQ(CaseListCsv((*l)[1]), "person_key,risk,rank\n15,0.600000,1\n");
  EXPECT_FALSE(CaseFindingLists({1}, {}, {0.1}, 0.5).ok());
}

}  // namespace
}  // namespace ark::stats
