// `ark link-records`: probabilistic linkage of identifiable CSV files, for a trusted third
// party (plaintext) or on encodings alone (pprl: both sides encoded exactly as
// `ark pseudonymise` would, then linked without the plaintext). See docs/linkage.md.
//
// Column mapping spec (YAML):
//   columns:            # role: column in the CSV (roles decide the comparison; see docs)
//     given_name: given_name
//     surname: surname
//     date_of_birth: date_of_birth
//     postcode: postcode
//     address_1: address_1
//   id: rec_id          # optional: the record id written to the pairs file
#pragma once

#include <optional>
#include <string>

#include "ark/status.h"
#include "link/link.h"
#include "link/probabilistic.h"
#include "link/review.h"

namespace ark {

struct LinkRecordsOptions {
  std::string left, right;        // right empty: dedupe `left`
  std::string spec_path;
  std::string mode = "plaintext";  // plaintext | pprl
  std::string truth_column, truth_pattern;
  std::string key_path;            // pprl: programme key (a fresh random key if empty)
  std::string out_pairs;           // pairs CSV (empty: not written)
  std::string clusters_out;        // clusters CSV: file,id,cluster,cluster_size (empty: not written)
  // Two inputs: clusters across them (each record may join several of the other file) instead
  // of the default one-to-one links.
  bool clustered = false;
  // --clks-left only: a CSV with one row per CLK (left, then right) whose truth_column holds the
  // entity id (truth_pattern applies), to score the result as for CSV inputs.
  std::string truth_path;
  // Instead of CSV files: pre-encoded CLKs in anonlink's clks.json, linked by the Dice of their
  // two 512-bit halves (AddClkField) with the model estimated as for CSV files (no spec, no truth).
  // clks_right empty: dedupe clks_left.
  std::string clks_left, clks_right;
  // pprl mode, --left only: write the CLKs computed to this file in anonlink's clks.json.
  std::string write_clks;
  double blip = 0.01;
  // pprl: term-frequency bands (FrequencyBands) with this k, computed per file as a custodian
  // would; 0 = no term frequencies in pprl mode.
  uint32_t tf_band_k = 10;
  std::optional<double> threshold_probability;
  std::optional<double> cluster_bound;  // LinkOptions::cluster_bound
  // Clerical review (link/review.h): pairs with a match probability in [low, high) are written to
  // review_out (required with a band) instead of being linked; decisions_path feeds decisions back
  // (ids as in the pairs file: the spec's `id` column, or the 1-based row number).
  std::optional<std::array<double, 2>> review_band;
  std::string review_out, decisions_path;
  int threads = 2;
  // Memory budget: candidate pairs made per chunk (LinkOptions::chunk_pairs; 0 = its default),
  // spilled to `spill_dir` (LinkOptions::spill_dir) past one chunk. The links do not depend on it.
  size_t chunk_pairs = 0;
  std::string spill_dir;
  // LinkOptions::comparer_resident_bytes (0 = its default); used with a spill_dir.
  size_t comparer_resident_bytes = 0;
  bool keep_weak_pairs = true;                // LinkOptions::keep_weak_pairs
  std::optional<size_t> cluster_score_limit;  // LinkOptions::cluster_score_limit
};

struct LinkRecordsReport {
  std::string mode;
  uint64_t records = 0, left_records = 0, right_records = 0;
  uint64_t linked_pairs = 0;  // links the clustering kept (= rows of the pairs file with linked = 1)
  LinkOutcome outcome;  // model, threshold, pairs, clusters
  std::optional<PairwiseQuality> quality;
  std::string key_fingerprint;  // pprl
  std::vector<ReviewDecision> decisions;  // as read from decisions_path (outcome.decisions: what became of them)
};

Result<LinkRecordsReport> LinkRecords(const LinkRecordsOptions& options);

// anonlink's clks.json: reads / writes {"clks": [base64, ...]}, kClkWords words per CLK. Errors
// name the file and the entry.
Result<std::vector<uint64_t>> ReadClksJson(const std::string& path);
Status WriteClksJson(const std::string& path, const std::vector<uint64_t>& clks);
// The `clk` column of a `records.csv` written by `ark pseudonymise`, as clks.json (record order).
// Returns the number of CLKs written. Errors name the file, line and column.
Result<size_t> ClksJsonFromRecords(const std::string& records_csv, const std::string& clks_json);

}  // namespace ark
