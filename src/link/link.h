// `ark link`: assigns every staged record a person key.
//
// Deterministic mode (this file): one person key per NHS-number pseudonym across all feeds.
// Records without a valid NHS number stay unlinked: each gets a person key of its own and is
// counted (probabilistic linkage on encodings resolves them; see the linkage issue).
// Person keys are stable: a pseudonym or unlinked record keeps its key across runs (catalog
// tables person_keys and record_keys).
//
// Output: ARK/link/<batch>.keys (uint32 person key per record, little-endian), each written
// atomically, then ARK/link/summary.json.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ark/status.h"
#include "catalog/catalog.h"
#include "catalog/person_key_files.h"
#include "link/probabilistic.h"
#include "link/review.h"

namespace ark {

struct FeedLinkCounts {
  uint64_t records = 0, linked = 0, missing_nhs = 0, invalid_nhs = 0;
};

struct PairwiseQuality {
  double precision = 0, recall = 0, f1 = 0;
  uint64_t true_pairs = 0, found_pairs = 0, correct_pairs = 0;
  uint64_t true_persons = 0, found_persons = 0, records = 0;
};

// One row of the linkage quality and bias tables (by custodian, deprivation decile, age band,
// sex). `linked`: records with a valid NHS number or joined to at least one other record.
// With a truth: `truth_recall` = share of the record's true partner records found in its
// person; `false_links` = records whose person holds a record of another true person.
struct RateRow {
  std::string group;
  uint64_t records = 0, linked = 0;
  double linked_rate = 0;
  double truth_recall = -1;   // -1 without truth
  uint64_t false_links = 0;
};

struct LinkageBias {
  std::vector<RateRow> by_custodian, by_decile, by_age_band, by_sex;
  double decile_gap = 0;  // linked rate, most minus least deprived decile (percentage points)
};

struct PprlStats {
  uint64_t records = 0, records_without_nhs = 0, linked_without_nhs = 0;
  uint64_t candidate_pairs = 0, accepted_pairs = 0, refused_merges = 0;
  uint64_t clusters = 0;
  ClusterStats clustering;  // cluster sizes, merges refused, expected false merges
  double lambda = 0, threshold_weight = 0, threshold_probability = 0.5;
  double expected_false_matches = 0, expected_missed_matches = 0;
  // Consistency with the NHS-number pseudonyms on candidate pairs where both have one.
  uint64_t both_valid_pairs = 0, same_nhs_model_match = 0, same_nhs_model_nonmatch = 0, diff_nhs_model_match = 0;
  std::vector<FieldModel> model;
  std::vector<uint64_t> pairs_per_rule;
  double seconds = 0;
};

// Clerical review on the Ark (`ark link --mode pprl --review-band LOW,HIGH --decisions FILE`):
// record ids are "<batch>:<record>" (catalog batch id, 1-based record number in its extract).
struct LinkReviewOptions {
  std::optional<std::array<double, 2>> band;  // LinkOptions::review_band
  std::string review_out;                     // the review file; default ARK/link/review.csv
  std::string decisions_path;                 // new decisions: recorded in the catalog, then applied
  // Memory budget of the linkage: candidate pairs made per chunk (LinkOptions::chunk_pairs; 0 =
  // its default). The links do not depend on it; tests set it tiny to make every chunk path run.
  size_t chunk_pairs = 0;
};

struct LinkReviewReport {
  std::optional<std::array<double, 2>> band;
  uint64_t pairs_in_band = 0;
  std::string review_file;
  std::vector<ReviewDecision> decisions;  // every decision applied (recorded earlier, then new)
  std::vector<LinkOutcome::DecisionOutcome> outcomes;
  uint64_t recorded = 0;  // new decisions recorded in the catalog (link_decisions) by this run
};

struct LinkReport {
  std::string mode = "deterministic";
  uint64_t persons = 0;  // person keys in use
  std::map<std::string, FeedLinkCounts> feeds;
  std::optional<PairwiseQuality> quality;  // with a truth directory
  std::optional<PprlStats> pprl;           // --mode pprl
  LinkageBias bias;                        // filled by LinkPprl
  std::optional<LinkReviewReport> review;  // pprl, with a band or decisions
};

// `truth_dir`, if not empty, is a synthetic region's truth/ folder (records.csv) used only to
// score the result; it never enters the Ark.
Result<LinkReport> LinkDeterministic(Catalog& catalog, const std::string& truth_dir);

// PPRL mode: deterministic on the NHS-number pseudonym first, then probabilistic linkage on
// the custodians' encodings (privacy/bloom.h, link/probabilistic.h) for every record, with the
// constraint that two different valid pseudonyms never merge. Incremental: clusters keep the
// person keys they had (catalog tables person_keys, record_keys and pprl_record_keys).
// REQUIRES: batches carry encodings (extracts from `ark pseudonymise` of this version).
//
// Batches are linked in a fixed order (custodian, then content hash), not the order they were
// ingested: linking is always a full re-link of every batch, so a link after a further batch gives
// the same clusters as linking all batches at once, whatever the order they arrived in.
// Person keys across re-links: a cluster with a pseudonym takes its key; the other clusters take
// previous keys by most records first (a key goes to the cluster holding most of its records;
// ties: the smaller key, then the cluster with the smaller first record), else a new key. So a
// person the re-link did not change keeps its key; a merge keeps the key most of its records had
// (the others are recorded in person_key_moves); a split leaves the key with the larger part.
//
// Review (`review`): decisions are recorded in the catalog table link_decisions (with reviewer,
// source line and time) and applied to this and every later link; a later decision on a pair
// replaces an earlier one. With a band, the pairs in it are written to the review file.
Result<LinkReport> LinkPprl(Catalog& catalog, const std::string& truth_dir, int threads,
                            const LinkReviewOptions& review);
inline Result<LinkReport> LinkPprl(Catalog& catalog, const std::string& truth_dir, int threads = 2) {
  return LinkPprl(catalog, truth_dir, threads, LinkReviewOptions{});
}

// Internal helpers shared by the linkage modes.
Result<std::map<std::string, std::vector<int64_t>>> LoadTruth(const std::string& truth_dir);
// Calls fn(pseudonym, person) for every row of the catalog's person_keys, in the table's order;
// a pseudonym of another length than a digest's cannot be any record's and is skipped.
Status ForEachPersonKey(Catalog& catalog, const std::function<void(const Digest&, uint32_t)>& fn);

// Pairwise quality of a clustering against the truth: `pred` and `truth` are cluster labels
// per record (same length).
PairwiseQuality ScorePairs(const std::vector<uint64_t>& pred, const std::vector<uint64_t>& truth);

}  // namespace ark
