// Clustering of accepted pairs (link/cluster.h): no chaining, hard conflicts never merged.
#include "link/cluster.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace ark {
namespace {

ScoredPair Pair(uint32_t a, uint32_t b, float p) {
  ScoredPair sp{};
  sp.a = a;
  sp.b = b;
  sp.probability = p;
  sp.weight = static_cast<float>(std::log2(p / (1 - p)));  // prior 0: weight = log-odds
  sp.clk_dice = -1;
  sp.levels.fill(255);
  return sp;
}

LinkOutcome Scored(std::vector<ScoredPair> pairs) {
  LinkOutcome o;
  o.threshold_probability = 0.5;
  o.threshold_weight = 0;
  o.pairs = std::move(pairs);
  return o;
}

LinkInput Records(size_t n) {
  LinkInput in;
  in.n = n;
  return in;
}

// A~B~C~...~Z: each adjacent pair clearly accepted, records two apart weakly similar, the ends
// nothing alike. Union-find put all 26 in one person.
TEST(Clustering, ChainOfNearDuplicatesDoesNotCollapse) {
  const uint32_t n = 26;
  std::vector<ScoredPair> pairs;
  for (uint32_t i = 0; i + 1 < n; ++i) pairs.push_back(Pair(i, i + 1, 0.95f - 0.001f * i));
  for (uint32_t i = 0; i + 2 < n; ++i) pairs.push_back(Pair(i, i + 2, 0.2f));
  LinkOutcome o = Scored(pairs);
  ClusterAcceptedPairs(Records(n), LinkOptions{}, &o);
  EXPECT_NE(o.cluster[0], o.cluster[n - 1]);
  EXPECT_LE(o.clustering.largest, 4u);
  EXPECT_GT(o.clustering.incoherent_merges, 0u);
  EXPECT_GT(o.clusters, 5u);
  EXPECT_EQ(o.refused_merges, 0u);
  // Every link kept joins records of one cluster.
  for (uint32_t i : o.linked) EXPECT_EQ(o.cluster[o.pairs[i].a], o.cluster[o.pairs[i].b]);
}

TEST(Clustering, CoherentGroupStaysWhole) {
  // Six records, every pair scored 0.9 except one weak pair: one person.
  std::vector<ScoredPair> pairs;
  for (uint32_t a = 0; a < 6; ++a)
    for (uint32_t b = a + 1; b < 6; ++b) pairs.push_back(Pair(a, b, a == 0 && b == 5 ? 0.1f : 0.9f));
  LinkOutcome o = Scored(pairs);
  ClusterAcceptedPairs(Records(6), LinkOptions{}, &o);
  EXPECT_EQ(o.clusters, 1u);
  EXPECT_EQ(o.clustering.largest, 6u);
  EXPECT_EQ(o.clustering.merges, 5u);
  EXPECT_GT(o.clustering.expected_false_merges, 0.0);
  EXPECT_LT(o.clustering.ExpectedFalseMergeRate(), 0.2);
  EXPECT_EQ(o.clustering.sizes, (std::vector<uint64_t>{0, 0, 1}));  // one cluster of 4-7
}

TEST(Clustering, DifferentNhsGroupsNeverMerge) {
  // 0 and 2 hold different valid NHS pseudonyms; 1 looks like both, and all pairs are strong.
  LinkInput in = Records(3);
  in.group = {7, LinkInput::kNoGroup, 8};
  LinkOutcome o = Scored({Pair(0, 1, 0.99f), Pair(1, 2, 0.98f), Pair(0, 2, 0.97f)});
  ClusterAcceptedPairs(in, LinkOptions{}, &o);
  EXPECT_NE(o.cluster[0], o.cluster[2]);
  EXPECT_EQ(o.cluster[0], o.cluster[1]);  // the stronger pair won
  EXPECT_EQ(o.refused_merges, 1u);        // 1-2; 0-2 is decided by the groups
  EXPECT_EQ(o.clustering.conflict_clusters, 2u);
  EXPECT_EQ(o.clustering.two_group_clusters, 0u);  // counted from the final clusters
  EXPECT_EQ(ClusteringJson(o.clustering, o.clusters, o.refused_merges)["clusters_with_two_groups"], 0);
}

TEST(Clustering, OneRecordPerPersonSourceNeverMerges) {
  LinkInput in = Records(3);
  in.source = {0, 1, 0};
  in.unique_source = {1, 0};
  LinkOutcome o = Scored({Pair(0, 1, 0.99f), Pair(1, 2, 0.98f), Pair(0, 2, 0.97f)});
  ClusterAcceptedPairs(in, LinkOptions{}, &o);
  EXPECT_NE(o.cluster[0], o.cluster[2]);
  EXPECT_EQ(o.refused_merges, 2u);
}

// Review band: pairs inside it are held, not linked; the strong pair outside it links.
TEST(Clustering, ReviewBandHoldsPairsBack) {
  LinkOutcome o = Scored({Pair(0, 1, 0.99f), Pair(1, 2, 0.7f), Pair(2, 3, 0.3f), Pair(3, 4, 0.05f)});
  LinkOptions opt;
  opt.review_band = {0.2, 0.9};
  ClusterAcceptedPairs(Records(5), opt, &o);
  EXPECT_EQ(o.review, (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(o.linked, (std::vector<uint32_t>{0}));
  EXPECT_EQ(o.clusters, 4u);  // 0-1 linked; 1-2 (above the pair threshold) held for review
}

// Reviewed decisions: a non-match splits a strong pair, a match joins a weak one, and a match
// across two valid NHS pseudonyms or against a reviewed non-match is refused and reported.
TEST(Clustering, ReviewDecisionsApplyOrReportConflicts) {
  LinkInput in = Records(6);
  in.group = {LinkInput::kNoGroup, LinkInput::kNoGroup, LinkInput::kNoGroup, LinkInput::kNoGroup, 7, 8};
  in.decisions = {{0, 1, false}, {2, 3, true}, {4, 5, true}, {1, 2, true}, {0, 2, true}};
  LinkOutcome o = Scored({Pair(0, 1, 0.99f), Pair(1, 2, 0.2f), Pair(2, 3, 0.01f), Pair(0, 2, 0.1f), Pair(4, 5, 0.99f)});
  ClusterAcceptedPairs(in, LinkOptions{}, &o);
  using R = LinkOutcome::DecisionResult;
  ASSERT_EQ(o.decisions.size(), 5u);
  EXPECT_EQ(o.decisions[0].result, R::kKeptApart);
  EXPECT_NE(o.cluster[0], o.cluster[1]);
  EXPECT_EQ(o.decisions[1].result, R::kLinked);
  EXPECT_EQ(o.cluster[2], o.cluster[3]);
  EXPECT_EQ(o.decisions[2].result, R::kConflict);
  EXPECT_EQ(o.decisions[2].conflict_reason, "different valid NHS pseudonyms");
  EXPECT_NE(o.cluster[4], o.cluster[5]);
  EXPECT_EQ(o.decisions[3].result, R::kLinked);  // 1 joins {2, 3}
  EXPECT_EQ(o.cluster[1], o.cluster[3]);
  EXPECT_EQ(o.decisions[4].result, R::kConflict);  // 0 with 2 would put 0 with 1
  EXPECT_EQ(o.decisions[4].conflict_reason, "a reviewed non-match");
  EXPECT_NE(o.cluster[0], o.cluster[2]);
  EXPECT_EQ(o.linked, (std::vector<uint32_t>{1, 2}));  // the two reviewed matches that merged
}

TEST(Clustering, SizeBuckets) {
  EXPECT_EQ(ClusterSizeBucket(1), 0u);
  EXPECT_EQ(ClusterSizeBucket(3), 1u);
  EXPECT_EQ(ClusterSizeBucket(4), 2u);
  EXPECT_EQ(ClusterSizeBucketLabel(0), "1");
  EXPECT_EQ(ClusterSizeBucketLabel(2), "4-7");
}

}  // namespace
}  // namespace ark
