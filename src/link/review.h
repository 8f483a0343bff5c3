// Clerical review of uncertain pairs (docs/linkage.md, "Clerical review").
//
// A review band [LOW, HIGH) of match probability holds pairs back: neither linked nor discarded,
// they are written to a review file with their pseudonymous record ids and, per field, the
// comparison level and its weight (never a value). A reviewer fills in the file's `decision`
// (match | non-match) and `reviewer` columns, and the file (or any CSV with the columns left_id,
// right_id, decision, reviewer) is fed back with --decisions: a reviewed non-match is never
// linked; a reviewed match is linked unless it breaks a hard rule, which is reported.
#pragma once

#include <array>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ark/status.h"
#include "link/probabilistic.h"

namespace ark {

// "LOW,HIGH" or "LOW:HIGH", 0 <= LOW < HIGH <= 1 (LOW >= 0.001: weaker pairs are not kept).
Result<std::array<double, 2>> ParseReviewBand(const std::string& text);

struct ReviewDecision {
  std::string left_id, right_id, reviewer;
  bool match = false;
  std::string where;  // "<file>:<line>"
};

// Reads a decisions CSV (header naming at least left_id, right_id, decision, reviewer; other
// columns are ignored, so a filled-in review file is read as is). A row whose decision and
// reviewer are both empty is undecided and skipped. Errors name the file, line and field:
// "d.csv:3: column 'decision': 'maybe' is not match or non-match".
Result<std::vector<ReviewDecision>> ReadDecisions(const std::string& path);

// Maps a record id of the left (right = false) or right side to its record index, or returns an
// error whose message says why ("no record 'x' in A.csv").
using RecordIdResolver = std::function<Result<uint32_t>(const std::string& id, bool right)>;

// One LinkInput::Decision per ReviewDecision, in order. Errors: "<file>:<line>: column 'left_id':
// <why>"; a pair decided both ways names both lines; a record paired with itself.
Result<std::vector<LinkInput::Decision>> ResolveDecisions(const std::vector<ReviewDecision>& d,
                                                          const RecordIdResolver& resolve);

// The review file: one row per pair of o.review, strongest first:
// left_id,right_id,match_weight,match_probability,same_cluster,level_<f>,weight_<f>...,
// [term_frequency,]decision,reviewer — decision and reviewer left empty for the reviewer.
// same_cluster is 1 when other links already put the two records in one cluster.
std::string ReviewCsv(const LinkOutcome& o, const std::function<std::string(uint32_t)>& id);

// The `review` block of the JSON reports: band, pairs_in_band (held for review), file (with a
// band), and the decisions given (match, non_match), applied (linked, kept_apart) and refused
// (conflicts, each with its line and reason). `outcomes` parallels `decisions`.
nlohmann::ordered_json ReviewJson(const std::optional<std::array<double, 2>>& band, uint64_t pairs_in_band,
                                  const std::string& review_file, const std::vector<ReviewDecision>& decisions,
                                  const std::vector<LinkOutcome::DecisionOutcome>& outcomes);

}  // namespace ark
