// Disclosure rules a site applies before it answers a federated request (a model, a mean, a
// subset), with DataSHIELD's defaults as the starting rule set, plus the Ark's differencing
// guard. A refusal is Status::PermissionDenied whose message starts with the rule's name:
//
//   nfilter.subset          a subset (or the rows a column is non-zero on) has 1 .. 2 rows
//   nfilter.tab             a level of a binary outcome, a 0/1 covariate or a factor has 1 .. 2 rows
//   nfilter.glm             parameters > 0.33 × N
//   nfilter.levels.max      a factor has more than 40 levels
//   nfilter.levels.density  a factor has more levels than 0.33 × N
//   differencing            N differs from an earlier request's N in the same project by 1 .. 9
//
// The non-zero-rows form of nfilter.subset closes dsBase#250: a one-hot vector times a column
// has one non-zero row, so its mean over everyone (or over the subset the vector picks) would
// give that person's value; both are refused here. The differencing threshold (10) is the one
// the Ark's release rule uses (governance/release.h, SubmitOptions::differencing_threshold).
//
// Example (at a site, before computing anything for a GLM request):
//   ARK_RETURN_IF_ERROR(CheckModelRequest(design, project_earlier_ns, ModelRules{}));
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ark/status.h"

namespace ark::sdc {

struct ModelRules {
  int64_t nfilter_tab = 3;
  double nfilter_glm = 0.33;
  int64_t nfilter_subset = 3;
  int64_t nfilter_levels_max = 40;
  double nfilter_levels_density = 0.33;
  int64_t differencing_threshold = 10;
};

// A factor covariate as the site holds it: the number of rows at each level.
struct FactorLevels {
  std::string name;
  std::vector<int64_t> counts;
};

// What a site is asked to fit, as plain arrays (the GLM's design, row-major, with its
// intercept column if any, and outcome). Columns whose values are all 0 or 1 are checked as
// binary covariates; a column of all 1s (the intercept) is not.
struct ModelDesign {
  size_t rows = 0;
  size_t cols = 0;
  const std::vector<double>* x = nullptr;
  const std::vector<double>* y = nullptr;
  bool binary_outcome = false;
  std::vector<std::string> column_names;  // optional, for messages (else "column j")
  std::vector<FactorLevels> factors;      // factor covariates, checked for levels and counts
};

// nfilter.subset for a subset of `n` rows (0 rows is allowed: it discloses nothing).
Status CheckSubset(int64_t n, const ModelRules& rules = {});
// nfilter.subset on the rows where `column` is non-zero (for a mean, sum or variance of it).
Status CheckAggregateColumn(const std::string& name, const std::vector<double>& column, const ModelRules& rules = {});
// nfilter.levels.max, nfilter.levels.density (against `n` rows) and nfilter.tab on each level.
Status CheckFactor(const FactorLevels& factor, int64_t n, const ModelRules& rules = {});
// differencing: `n` against the populations of the project's earlier requests.
Status CheckDifferencing(int64_t n, const std::vector<int64_t>& earlier, const ModelRules& rules = {});
// All of the above for a model, in this order: nfilter.subset on N, each factor (levels, then
// nfilter.tab on its levels), nfilter.glm, nfilter.tab on a binary outcome and each 0/1
// covariate, nfilter.subset on each column's non-zero rows, and differencing. InvalidArgument for a malformed design.
Status CheckModelRequest(const ModelDesign& design, const std::vector<int64_t>& earlier, const ModelRules& rules = {});

}  // namespace ark::sdc
