// The disclosure-control engine (`ark sdc`): rule sets "opensafely" and "acro" as shared SPECS.md
// ("Disclosure control") states them, for lists of counts and two-way tables with margins, plus
// magnitude tables (dominance), regression outputs (residual degrees of freedom) and the rounding
// variants. Every output that leaves an Ark passes through here (or through opensafely.h, which
// is the same OpenSAFELY rule for one count).
//
// Example:
//   SdcOptions o;                        // opensafely defaults
//   ARK_ASSIGN_OR_RETURN(TableCheck t, CheckTable(table, o));
//   // t.status == "pass"; t.cells[i][j].published == nullopt for a redacted cell
//
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ark/status.h"

namespace ark::sdc {

enum class RuleSet { kOpenSafely, kAcro };
enum class Rounding { kNearest5, kMidpoint6, kNone };

struct SdcOptions {
  RuleSet rules = RuleSet::kOpenSafely;
  // OpenSAFELY. Default: counts <= 7 redacted, then rounded to the nearest 5.
  int64_t redact_at_or_below = 7;
  Rounding rounding = Rounding::kNearest5;  // kMidpoint6: ceil(x/6)*6 - 3*(x != 0)
  // ACRO. Default: a cell with count < 10 fails; zeros are disclosive; nk-dominance n=2, k=0.9;
  // p-ratio p=0.10; regressions need >= 10 residual degrees of freedom.
  int64_t threshold = 10;
  bool zeros_disclosive = true;
  int nk_n = 2;
  double nk_k = 0.9;
  double p_ratio = 0.10;
  int64_t min_residual_dof = 10;
  // Both: secondary suppression so that no row or column of a table has a single suppressed cell.
  // Default: on.
  bool secondary_suppression = true;
};

Result<RuleSet> ParseRuleSet(const std::string& name);
const char* RuleSetName(RuleSet r);

// Midpoint-6 rounding: 0->0, 1..6->3, 7..12->9, 13..18->15.
int64_t Midpoint6(int64_t x);
// Nearest multiple of 5 (halves up: 2.5 -> 5), as opensafely.h.
int64_t Round5(int64_t x);

struct CellCheck {
  int64_t raw = 0;
  std::optional<int64_t> published;  // nullopt: redacted / suppressed
  std::string outcome;               // "ok", "redacted", "primary", "secondary"
  std::string reason;                // why, for a person ("count 3 < threshold 10")
};

// A two-way table of counts (a list of counts is a table with one column). Margins are recomputed
// from the published cells only; a row or column total is nullopt when it has no published cell.
struct TableCheck {
  std::vector<std::string> row_labels, col_labels;
  std::vector<std::vector<CellCheck>> cells;  // [row][col]
  std::vector<std::optional<int64_t>> row_totals, col_totals;
  std::optional<int64_t> total;
  std::string status;  // "pass" | "review" | "fail"
  std::string summary;
  int primary = 0, secondary = 0;
};

struct CountTable {
  std::vector<std::string> row_labels, col_labels;
  std::vector<std::vector<int64_t>> counts;  // [row][col], all >= 0
  // [row][col]: 1 = the cell arrived already redacted ("[REDACTED]", as `ark run` writes it);
  // such a cell stays redacted. Empty: none.
  std::vector<std::vector<uint8_t>> withheld;
  // An `ark run` measure table (numerator and denominator per measure, interval and group): no
  // margins across its columns, so no secondary suppression between numerator and denominator.
  bool measures = false;
};

// Applies the rule set. OpenSAFELY: redact, round, recompute totals (status "pass": the published
// form is safe to release). ACRO: threshold and zeros as primary suppression, then secondary
// suppression (status "review" when anything was suppressed, as ACRO does with suppression on).
// InvalidArgument for negative counts or a ragged table.
Result<TableCheck> CheckTable(const CountTable& t, const SdcOptions& o);

// Parses a CSV: the first column holds row labels, every other column holds counts (integers;
// a non-integer or negative value is an error naming its line and column; "[REDACTED]" is a
// withheld cell). A measure table as `ark run` writes it (measure, interval_start, interval_end,
// ratio, numerator, denominator, group columns...) is read as it is: each row is labelled by its
// measure, interval and groups, its counts are the numerator and denominator, and its ratio must
// follow from them (a ratio from unrounded counts, or beside a redacted count, would disclose
// what the rounding hid: InvalidArgument naming the line).
Result<CountTable> ReadCountCsv(const std::string& path);

// Magnitude cell (e.g. a sum of costs) with its contributions: ACRO's nk-dominance and p-ratio.
struct MagnitudeCheck {
  bool pass = true;
  std::string reason;
};
MagnitudeCheck CheckMagnitude(std::vector<double> contributions, const SdcOptions& o);

// Regression outputs: fail when residual degrees of freedom < min_residual_dof.
MagnitudeCheck CheckRegression(int64_t residual_dof, const SdcOptions& o);

// Differencing: a new population of `n` compared with earlier releases' populations; refused when
// it differs from any by 1 .. threshold-1 people. Returns the earlier size it is too close to.
std::optional<int64_t> DifferencingConflict(int64_t n, const std::vector<int64_t>& earlier, int64_t threshold = 10);

}  // namespace ark::sdc
