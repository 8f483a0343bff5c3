// Step 5 of LinkProbabilistic: accepted pairs to clusters, without chaining.
//
// Dedupe: accepted pairs in decreasing weight (ties in pair order). A pair whose records are in
// different clusters A and B merges them only when
//   (a) no hard conflict: A and B do not hold different `group` ids (two valid NHS pseudonyms),
//       nor both a record of the same `unique_source` (one record per person); and
//   (b) they cohere: the mean match probability over all |A|×|B| cross pairs is at least the
//       bound (LinkOptions::cluster_bound, default the pair threshold probability). Cross pairs
//       are scored now when the two clusters have at most cluster_score_limit of them; beyond
//       that, pairs not kept by blocking and scoring count as 0 (non-matches).
// For two singletons (b) is the pair rule itself; a chain A~B~C whose ends disagree stops as soon
// as the cross pairs with the far end pull the mean below the bound. Cost: per merge attempt, at
// most cluster_score_limit comparisons or the kept pairs of the smaller cluster's records (a
// refusal is remembered until either side grows).
//
// Two sources (one_to_one): greedy one-to-one by weight, with the hard conflicts of (a).
//
// Clerical review (LinkInput::decisions, LinkOptions::review_band): reviewed non-matches are
// cannot-links, a hard conflict like those of (a); reviewed matches merge first, in the order
// given, unless that breaks a hard conflict (reported in o->decisions). Pairs in the review band
// that no decision covers are listed in o->review and never linked; decided pairs are never
// linked automatically.
//
// Fills o->cluster, clusters, linked, review, decisions, refused_merges and clustering.
#pragma once

#include <nlohmann/json.hpp>
#include <functional>
#include <string>

#include "link/pair_spill.h"
#include "link/probabilistic.h"

namespace ark {

// The match probability of any two records under the model (used for cross pairs).
using PairScorer = std::function<double(uint32_t, uint32_t)>;

// `score` (optional): cross pairs of two clusters with at most opt.cluster_score_limit cross pairs
// are all scored with it (pairs blocking missed count at their probability, not 0).
// `weak` (optional): the kept pairs o->pairs does not hold (LinkOptions::keep_weak_pairs false);
// the coherence sums take them with o->pairs' in the same order, so the clusters are those of
// o->pairs holding every kept pair. A read error of `weak` stops the merges (weak->status()).
void ClusterAcceptedPairs(const LinkInput& in, const LinkOptions& opt, LinkOutcome* o,
                          const PairScorer* score = nullptr, const WeakPairFile* weak = nullptr);

// Bucket of a cluster size in LinkOutcome::cluster_sizes: 0 for 1, 1 for 2–3, 2 for 4–7, ...
size_t ClusterSizeBucket(size_t size);
// "1", "2-3", "4-7", ...
std::string ClusterSizeBucketLabel(size_t bucket);
// The clustering part of a linkage-quality report (`ark link-records --json`, `ark link --json`):
// clusters, largest_cluster, cluster_sizes {bucket: count}, the bound, merges done and refused
// (incoherent, hard conflict), clusters_with_refused_hard_conflict, expected false merges and rate.
nlohmann::ordered_json ClusteringJson(const ClusterStats& c, uint64_t clusters, uint64_t refused_merges);

}  // namespace ark
