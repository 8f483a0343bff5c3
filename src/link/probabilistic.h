// Probabilistic record linkage (Fellegi–Sunter, as Splink does it), on plaintext values or on
// privacy-preserving encodings (privacy/bloom.h): the same blocking, model and clustering for both.
//
//   1. Candidate pairs: the union of the blocking rules (records sharing a rule's key); blocks
//      larger than `max_block` records are skipped and counted.
//   2. Each pair gets a comparison level per field: plaintext uses Jaro–Winkler (names, text),
//      date levels (exact / one component differs or day-month swapped / else) and postcode
//      levels (exact / one character / outward code / else); encodings use the Dice coefficient
//      of the per-field Bloom filters, cut into levels. Missing values are a null level (weight 0).
//   3. u-probabilities from random record pairs; m-probabilities and the match share λ among
//      candidate pairs by EM. Match weight = Σ log2(m/u); probability = posterior given λ.
//      Plaintext: an exact match on a name or postcode adds log2(u_exact / share of its value)
//      (term frequencies: "smith" counts less than a rare surname).
//   4. The threshold is estimated, not a default: a pair is a match when its posterior
//      probability is ≥ 0.5 under the estimated model, i.e. weight ≥ log2((1−λ)/λ). It is
//      returned (and printed by the commands). `threshold_probability` overrides it.
//   5. Clustering (link/cluster.h): pairs above the threshold in decreasing weight; two clusters
//      merge only when the mean match probability over all their cross pairs reaches a bound
//      (no chaining), and never when they hold different `group` ids (e.g. two different valid
//      NHS-number pseudonyms) or records of the same `unique_source` (one record per person).
//      Two sources: greedy one-to-one under the same hard constraints.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ark/status.h"
#include "link/blocking_store.h"
#include "link/encoded_rows.h"
#include "privacy/bloom.h"

namespace ark {

// Input records, column-wise. Either `values` (plaintext) or `filters`/`present` (encoded).
struct LinkInput {
  std::vector<FieldDef> fields;
  size_t n = 0;
  bool encoded = false;
  std::vector<std::vector<std::string>> values;    // [field][record], normalised, "" = missing
  std::vector<std::vector<uint64_t>> filters;      // [field][record * kFieldWords]
  std::vector<std::vector<uint8_t>> present;       // [field][record]
  std::vector<uint64_t> clk;                       // record * kClkWords (optional)
  // Encoded (optional), instead of filters, present and clk: the records already record-major,
  // in memory or a file (EncodedRows; its fields are those before the CLK fields), so that they
  // are never all on the heap. REQUIRES then: rows->size() == n; filters, present, clk empty.
  std::shared_ptr<EncodedRows> rows;
  // [rule][record], 0 = none. With CLKs, adaptive_lsh and the standard rules (kNameRules +
  // kLshBands), the LSH bands' columns are recomputed from the CLKs and never read: they may be
  // left empty.
  std::vector<std::vector<uint64_t>> blocking;
  // Instead of blocking's first columns (optional): rule r's keys, for r < columns(), in a file
  // read a rule at a time (KeyColumns), where blocking[r] is left empty. REQUIRES then:
  // blocking_columns->size() == n.
  std::shared_ptr<KeyColumns> blocking_columns;
  std::vector<uint32_t> source;                    // per record (optional): file / batch
  std::vector<uint32_t> group;                     // per record (optional): kNoGroup or a fixed cluster id
  // Per source id (optional): 1 when that source holds at most one record per person (its data
  // say so): no cluster gets two records of it. At most 64 such sources are honoured.
  std::vector<uint8_t> unique_source;
  // Encoded (optional): per field (empty for a field without), each record's coarsened frequency
  // band of its value as the custodian computed it on its own file (FrequencyBands; kNoBand for a
  // missing value): pprl term frequencies for name and postcode fields, never exact counts.
  std::vector<std::vector<uint8_t>> tf_band;
  uint32_t tf_band_k = 10;  // the k FrequencyBands used
  // Encoded (optional): per field, Dice cuts of levels 0-2 (else level 3) instead of the kind's;
  // a field whose cuts are all 0 keeps its kind's levels.
  std::vector<std::array<float, 3>> dice_cuts;
  // Records whose only encoding is a CLK (optional; AddClkField): per record, 1 when it has no
  // per-field filters. Per field, p + 1 for the CLK field of part p: it is compared on the Dice
  // of that part of the CLKs (`clk`, cut by its dice_cuts), and, when clk_only is set, only on pairs where at least one
  // record is clk_only (a pair of two records with per-field filters is scored on those alone, as
  // if the CLK field were absent; a clk_only record has no per-field filters, so a pair with one
  // is scored on the CLK fields alone). Their m are estimated by EM on all candidate pairs, never by a
  // blocking rule's session.
  std::vector<uint8_t> clk_only;
  std::vector<uint8_t> clk_field;
  // Clerical review decisions (link/review.h), in the order given: a non-match is a cannot-link
  // (the two records never end up in one cluster); a match is a must-link, applied before any
  // automatic link unless it breaks a hard rule (groups, one-record-per-person sources, a reviewed
  // non-match), which LinkOutcome::decisions reports. Decided pairs are always scored and kept.
  struct Decision {
    uint32_t a, b;  // record indices, a != b
    bool match;
  };
  std::vector<Decision> decisions;
  static constexpr uint32_t kNoGroup = 0xffffffffu;
};

inline constexpr size_t kMaxLinkFields = 16;

// A CLK-only pair is compared on kClkParts fields, each the Dice of one contiguous part (512
// bits) of the CLKs. The parts are not independent (each encodes every value of the record), so
// fewer parts count the same evidence fewer times: four 256-bit quarters made the model
// overconfident; one whole-CLK field leaves EM (u fixed from random pairs) unidentifiable, its top
// level's u being mostly true matches, so that no pair reaches the threshold. Two is the fewest
// that EM can estimate.
inline constexpr int kClkParts = 2;
// Dice cuts for part `part` of `parts` of the records' CLKs (in.clk or in.rows): levels at 80%,
// 60% and 40% of the way from the mean Dice of random pairs of records with bits in that part
// (20000 draws, fixed seed) to 1: two unrelated half-full CLKs share many bits.
std::array<float, 3> ClkDiceCuts(const LinkInput& in, int part, int parts);
// Appends the CLK fields "clk_0".."clk_<kClkParts-1>" (present where the part has a bit set;
// compared on the records' CLKs: with in->filters, their filters are unused zeros), marks them
// in->clk_field (part + 1), gives them ClkDiceCuts and every existing field the cuts of its kind,
// and sets in->clk_only from `clk_only` (one per record; empty: every pair is compared on the CLK
// fields). REQUIRES: in->encoded, in->n CLKs (in->clk or in->rows), in->fields.size() + kClkParts
// <= kMaxLinkFields.
void AddClkField(LinkInput* in, std::vector<uint8_t> clk_only);

// PPRL term frequencies, bounded (docs/linkage.md, "Frequencies of keyed tokens"). Custodian
// side: the band of each value among `values` (one field of one file; "" = missing -> kNoBand):
// band 0 for every value with fewer than k occurrences ("rare": no finer band below k), then
// band b >= 1 for counts in [k·4^(b-1), k·4^b), the last band open-ended. Nothing finer than a
// factor of 4 is revealed, and nothing at all about how rare a value under k is.
inline constexpr uint8_t kNoBand = 255;
inline constexpr int kFrequencyBands = 5;
std::vector<uint8_t> FrequencyBands(const std::vector<std::string>& values, uint32_t k);
// Ark side: the share of records a value of `band` stands for among `present` records with a
// value: the band's geometric middle count (band 0: sqrt(k)) / present.
double BandShare(uint8_t band, uint32_t k, size_t present);

struct LinkOptions {
  bool cross_source_only = false;  // only pairs of records from different sources
  bool one_to_one = false;         // each record links to at most one record of another source
  bool skip_grouped_pairs = true;  // pairs where both records have a group are decided by it
  size_t max_block = 2000;         // blocks larger than this are skipped (and counted)
  size_t u_samples = 1000000;      // random pairs for the u-probabilities
  int em_iterations = 100;
  uint64_t seed = 1;
  std::optional<double> threshold_probability;  // override the estimated threshold
  int threads = 2;
  // Scored pairs below this probability that are not accepted are counted, not kept (memory:
  // a dedupe of millions of records has hundreds of millions of weak candidate pairs).
  double keep_min_probability = 0.001;
  // Inputs with at most this many record pairs score every pair (blocking still picks the pairs
  // that train m): the clustering then sees every cross pair.
  double all_pairs_up_to = 1e6;
  // Clustering: two clusters merge only when the mean match probability over all their cross
  // pairs (unscored pairs count 0) is at least this; unset = the pair threshold probability.
  std::optional<double> cluster_bound;
  size_t cluster_score_limit = 256;  // merges with at most this many cross pairs score them all
  // Clerical review band [low, high) of match probability: pairs in it are neither linked nor
  // discarded but listed in LinkOutcome::review (unless decided). low >= keep_min_probability.
  std::optional<std::array<double, 2>> review_band;
  // An exact match on a name or postcode (pprl: Dice level 0, with LinkInput::tf_band) weighs by
  // how rare the value is (Splink's term-frequency adjustment; TermFrequencyAdjustments in
  // probabilistic.cc). A pair takes the smaller adjustment of its two records.
  bool term_frequencies = true;
  // With CLKs and the standard rules (kNameRules + kLshBands), recompute the LSH bands from the
  // CLKs with as many bits per band as keep each band at <= lsh_pairs_per_record pairs per record,
  // and refine any name rule over that budget with sampled CLK bits (see RefineRuleKeys).
  bool adaptive_lsh = true;
  double lsh_pairs_per_record = 3.0;
  double min_rule_pairs = 1e6;  // ... but a rule may always give this many
  // Memory: the candidate pairs are made, compared and counted for EM in chunks of records (by
  // the first record of a pair) of at most this many generated pairs each (a record whose own
  // pairs exceed it is a chunk alone): about 8 + 4 + fields bytes per pair of a chunk. With more
  // than one chunk the compared pairs (8 + fields bytes each) go to a temporary file in
  // `spill_dir` (PairSpill: unnamed, 0600, gone when the linkage ends) and are read back in
  // pieces to be scored. The outcome does not depend on it: the same pairs, in the same order,
  // with the same arithmetic.
  size_t chunk_pairs = size_t{1} << 24;
  // False: LinkOutcome::pairs holds only the pairs at or above the threshold, in the review band
  // or decided, not the weak kept pairs (below the threshold, probability >= keep_min_probability),
  // nor the pairs of two records with a `group` each (decided by their groups) unless a review
  // decided them: the clustering reads those from a temporary file in `spill_dir` (WeakPairFile)
  // for its coherence sums. The clusters are the same; `pairs`, `linked` and `review` index the
  // shorter list. For `ark link`.
  bool keep_weak_pairs = true;
  std::string spill_dir;  // empty: the system's temporary folder
  // With a `spill_dir`, the comparer's record-major copy of the encoded records (field filters,
  // presence bits and CLK: about 296 bytes a record with five fields) is written to an unnamed
  // 0600 file there and read through a read-only map, not held on the heap; the process's
  // resident pages of that map are dropped (MADV_DONTNEED) often enough to stay under about this
  // many bytes (never within a phase when the file is smaller), and at the end of each phase;
  // every page is then faulted in again: a small budget costs page faults (docs/linkage.md).
  // LinkProbabilisticReleasing then frees LinkInput::filters and LinkInput::clk. The outcome does
  // not depend on it.
  size_t comparer_resident_bytes = size_t{1} << 30;
};

struct FieldModel {
  std::string name;
  std::vector<std::string> levels;  // level labels, best first
  std::vector<double> m, u;         // per level
};

struct ScoredPair {
  uint32_t a, b;
  float weight, probability;
  float clk_dice;                 // -1 when no CLKs
  std::array<uint8_t, 16> levels; // per field (at most kMaxFields); 255 = null
};

// What the clustering did (link/cluster.h), for the linkage-quality report.
struct ClusterStats {
  double bound = 0.5;              // the mean cross-pair probability a merge needed
  uint64_t merges = 0;             // merges done (accepted pairs that joined two clusters)
  uint64_t incoherent_merges = 0;  // merges refused because the cross pairs did not cohere
  uint64_t conflict_clusters = 0;  // clusters in which a hard-conflict merge was refused
  // Clusters holding two different LinkInput::group ids (in `ark link`: two different valid NHS
  // pseudonyms). The clustering never makes one; counted from the final clusters as a check.
  uint64_t two_group_clusters = 0;
  double expected_false_merges = 0;  // Σ (1 − mean cross-pair probability) over the merges done
  std::vector<uint64_t> sizes;     // clusters per size bucket: 1, 2–3, 4–7, ... (cluster.h)
  uint64_t largest = 0;            // records in the largest cluster
  double ExpectedFalseMergeRate() const { return merges ? expected_false_merges / merges : 0; }
};

struct LinkOutcome {
  std::vector<FieldModel> model;
  double lambda = 0;               // estimated share of matches among candidate pairs
  double threshold_weight = 0;     // estimated (or from the override)
  double threshold_probability = 0.5;
  uint64_t candidate_pairs = 0, skipped_blocks = 0, skipped_block_records = 0, em_iterations = 0;
  std::vector<uint64_t> pairs_per_rule;
  std::vector<std::string> tf_fields;  // fields with term-frequency adjustments (plaintext)
  bool all_pairs = false;          // every record pair was scored (LinkOptions::all_pairs_up_to)
  std::vector<ScoredPair> pairs;   // scored candidate pairs: accepted, or probability >= keep_min_probability
  // Indices into `pairs` (ascending) of the links the clustering kept: pairs at or above the
  // threshold that it joined (or found already joined), not those it discarded (one-to-one: a
  // record already linked by a stronger pair; a cannot-link constraint) nor those decided by
  // groups. A subset of the pairs at or above the threshold.
  std::vector<uint32_t> linked;
  // Indices into `pairs` (ascending) of the pairs in LinkOptions::review_band that no decision
  // covers: held for clerical review, not linked.
  std::vector<uint32_t> review;
  // Per LinkInput::decisions entry, what the clustering did with it.
  enum class DecisionResult : uint8_t {
    kLinked,          // match: the two records are in one cluster
    kKeptApart,       // non-match: they are not
    kConflict,        // match refused: it would break a hard rule (conflict_reason)
  };
  struct DecisionOutcome {
    DecisionResult result;
    std::string conflict_reason;  // kConflict: "different valid NHS pseudonyms", ...
  };
  std::vector<DecisionOutcome> decisions;
  int lsh_bits = 0;                // bits per LSH band when recomputed (adaptive_lsh), else 0
  std::vector<int> rule_refine_bits;  // per rule: CLK bits added to keep it in budget (adaptive_lsh)
  struct GroupConsistency {        // over all candidate pairs, against LinkInput::group
    uint64_t both_grouped = 0, same_group_match = 0, same_group_nonmatch = 0, different_group_match = 0;
    uint64_t ungrouped_accepted = 0;
  } groups;
  std::vector<uint32_t> cluster;   // per record: cluster id (the smallest record index in it)
  uint64_t clusters = 0;
  uint64_t refused_merges = 0;     // merges refused by a hard conflict (groups, one-record-per-person)
  ClusterStats clustering;
  double expected_false_matches = 0;   // Σ (1 − p) over accepted pairs
  double expected_missed_matches = 0;  // Σ p over rejected candidate pairs
  double seconds_blocking = 0, seconds_em = 0, seconds_total = 0;
};

Result<LinkOutcome> LinkProbabilistic(const LinkInput& in, const LinkOptions& options);
// The same linkage (the same outcome), holding less: frees in->blocking once the candidate pairs
// are made and in->filters once the comparisons hold their record-major copy of them (both are
// left empty; the rest of *in is unchanged). For callers that need neither afterwards.
Result<LinkOutcome> LinkProbabilisticReleasing(LinkInput* in, const LinkOptions& options);

// Jaro–Winkler similarity (prefix scale 0.1, up to 4 characters).
double JaroWinkler(std::string_view a, std::string_view b);

// Text of a pair's explanation: "given_name: exact (+7.1); surname: jw>=0.92 (+5.0); ...".
std::string ExplainPair(const LinkOutcome& o, const ScoredPair& p);

}  // namespace ark
