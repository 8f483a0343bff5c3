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

#include <map>
#include <optional>
#include <string>

#include "ark/status.h"
#include "catalog/catalog.h"

namespace ark {

struct FeedLinkCounts {
  uint64_t records = 0, linked = 0, missing_nhs = 0, invalid_nhs = 0;
};

struct PairwiseQuality {
  double precision = 0, recall = 0, f1 = 0;
  uint64_t true_pairs = 0, found_pairs = 0, correct_pairs = 0;
  uint64_t true_persons = 0, found_persons = 0, records = 0;
};

struct LinkReport {
  std::string mode = "deterministic";
  uint64_t persons = 0;  // person keys in use
  std::map<std::string, FeedLinkCounts> feeds;
  std::optional<PairwiseQuality> quality;  // with a truth directory
};

// `truth_dir`, if not empty, is a synthetic region's truth/ folder (records.csv) used only to
// score the result; it never enters the Ark.
Result<LinkReport> LinkDeterministic(Catalog& catalog, const std::string& truth_dir);

// Reads ARK/link/<batch>.keys; FailedPrecondition if the batch has not been linked.
Result<std::vector<uint32_t>> ReadPersonKeys(const std::string& ark_dir, int64_t batch, size_t records);

// Pairwise quality of a clustering against the truth: `pred` and `truth` are cluster labels
// per record (same length).
PairwiseQuality ScorePairs(const std::vector<uint64_t>& pred, const std::vector<uint64_t>& truth);

}  // namespace ark
