// Test helpers of the linkage tests: a fresh temporary folder, and two linkage outcomes that must
// be the same to the bit (the same pairs, weights, model, clusters), e.g. one made in chunks or
// from rows in a file and one made in memory.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "link/probabilistic.h"

namespace ark {

// An empty folder `name`_<pid> under the test temporary folder (emptied if it was there).
inline std::string LinkTestDir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/" + name + "_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline void ExpectSameLinkOutcome(const LinkOutcome& x, const LinkOutcome& y) {
  EXPECT_EQ(x.candidate_pairs, y.candidate_pairs);
  EXPECT_EQ(x.pairs_per_rule, y.pairs_per_rule);
  EXPECT_EQ(x.lsh_bits, y.lsh_bits);
  EXPECT_EQ(x.rule_refine_bits, y.rule_refine_bits);
  EXPECT_EQ(x.lambda, y.lambda);
  EXPECT_EQ(x.threshold_weight, y.threshold_weight);
  EXPECT_EQ(x.expected_false_matches, y.expected_false_matches);
  EXPECT_EQ(x.expected_missed_matches, y.expected_missed_matches);
  EXPECT_EQ(x.em_iterations, y.em_iterations);
  ASSERT_EQ(x.model.size(), y.model.size());
  for (size_t f = 0; f < x.model.size(); ++f) {
    EXPECT_EQ(x.model[f].levels, y.model[f].levels) << x.model[f].name;
    EXPECT_EQ(x.model[f].m, y.model[f].m) << x.model[f].name;
    EXPECT_EQ(x.model[f].u, y.model[f].u) << x.model[f].name;
  }
  ASSERT_EQ(x.pairs.size(), y.pairs.size());
  for (size_t i = 0; i < x.pairs.size(); ++i) {
    const ScoredPair &p = x.pairs[i], &q = y.pairs[i];
    ASSERT_TRUE(p.a == q.a && p.b == q.b && p.weight == q.weight && p.probability == q.probability &&
                p.clk_dice == q.clk_dice && p.levels == q.levels)
        << "pair " << i << ": " << p.a << "-" << p.b << " vs " << q.a << "-" << q.b;
  }
  EXPECT_EQ(x.groups.ungrouped_accepted, y.groups.ungrouped_accepted);
  EXPECT_EQ(x.linked, y.linked);
  EXPECT_EQ(x.review, y.review);
  EXPECT_EQ(x.cluster, y.cluster);
  EXPECT_EQ(x.clusters, y.clusters);
  EXPECT_EQ(x.clustering.merges, y.clustering.merges);
  EXPECT_EQ(x.clustering.incoherent_merges, y.clustering.incoherent_merges);
}

}  // namespace ark
