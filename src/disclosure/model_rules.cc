#include "disclosure/model_rules.h"

#include <cmath>

#include "disclosure/sdc.h"

namespace ark::sdc {
namespace {

std::string N(int64_t n) { return std::to_string(n); }

Status Refuse(const std::string& rule, const std::string& why) {
  return Status::PermissionDenied(rule + ": " + why + ": refused");
}

std::string ColumnName(const ModelDesign& d, size_t j) {
  return j < d.column_names.size() ? d.column_names[j] : "column " + std::to_string(j + 1);
}

// nfilter.tab on one two-level variable: neither level may hold 1 .. tab-1 rows.
Status CheckTwoLevels(const std::string& what, int64_t ones, int64_t rows, const ModelRules& r) {
  for (int64_t c : {ones, rows - ones})
    if (c > 0 && c < r.nfilter_tab)
      return Refuse("nfilter.tab", what + " has a level with " + N(c) + " rows, fewer than " + N(r.nfilter_tab));
  return Status::OK();
}

}  // namespace

Status CheckSubset(int64_t n, const ModelRules& r) {
  if (n > 0 && n < r.nfilter_subset)
    return Refuse("nfilter.subset", "a subset of " + N(n) + " rows, fewer than " + N(r.nfilter_subset));
  return Status::OK();
}

Status CheckAggregateColumn(const std::string& name, const std::vector<double>& column, const ModelRules& r) {
  int64_t nonzero = 0;
  for (double v : column) nonzero += v != 0 && !std::isnan(v);
  if (nonzero > 0 && nonzero < r.nfilter_subset)
    return Refuse("nfilter.subset", "'" + name + "' is non-zero on " + N(nonzero) + " rows, fewer than " +
                                        N(r.nfilter_subset) + " (its mean or sum would reveal them)");
  return Status::OK();
}

Status CheckFactor(const FactorLevels& f, int64_t n, const ModelRules& r) {
  const int64_t levels = static_cast<int64_t>(f.counts.size());
  if (levels > r.nfilter_levels_max)
    return Refuse("nfilter.levels.max", "factor '" + f.name + "' has " + N(levels) + " levels, more than " +
                                            N(r.nfilter_levels_max));
  if (static_cast<double>(levels) > r.nfilter_levels_density * static_cast<double>(n))
    return Refuse("nfilter.levels.density", "factor '" + f.name + "' has " + N(levels) + " levels for " + N(n) +
                                                " rows, more than " + std::to_string(r.nfilter_levels_density) + " x N");
  for (size_t l = 0; l < f.counts.size(); ++l)
    if (f.counts[l] > 0 && f.counts[l] < r.nfilter_tab)
      return Refuse("nfilter.tab", "factor '" + f.name + "' level " + std::to_string(l + 1) + " has " + N(f.counts[l]) +
                                       " rows, fewer than " + N(r.nfilter_tab));
  return Status::OK();
}

Status CheckDifferencing(int64_t n, const std::vector<int64_t>& earlier, const ModelRules& r) {
  if (auto e = DifferencingConflict(n, earlier, r.differencing_threshold))
    return Refuse("differencing", "this request's " + N(n) + " rows differ from an earlier request's " + N(*e) +
                                      " in the project by fewer than " + N(r.differencing_threshold));
  return Status::OK();
}

Status CheckModelRequest(const ModelDesign& d, const std::vector<int64_t>& earlier, const ModelRules& r) {
  if (!d.x || !d.y || d.x->size() != d.rows * d.cols || d.y->size() != d.rows)
    return Status::InvalidArgument("model request: the design or outcome does not have rows x cols values");
  const int64_t n = static_cast<int64_t>(d.rows);
  ARK_RETURN_IF_ERROR(CheckSubset(n, r));
  // Factors next: one with too many or too dense levels is refused whatever else the design holds.
  for (const FactorLevels& f : d.factors) ARK_RETURN_IF_ERROR(CheckFactor(f, n, r));
  if (static_cast<double>(d.cols) > r.nfilter_glm * static_cast<double>(n))
    return Refuse("nfilter.glm", N(static_cast<int64_t>(d.cols)) + " parameters for " + N(n) + " rows, more than " +
                                     std::to_string(r.nfilter_glm) + " x N");
  if (d.binary_outcome) {
    int64_t ones = 0;
    for (double v : *d.y) ones += v == 1;
    ARK_RETURN_IF_ERROR(CheckTwoLevels("the outcome", ones, n, r));
  }
  for (size_t j = 0; j < d.cols; ++j) {
    int64_t ones = 0, zeros = 0;
    std::vector<double> column(d.rows);
    for (size_t i = 0; i < d.rows; ++i) {
      column[i] = (*d.x)[i * d.cols + j];
      ones += column[i] == 1;
      zeros += column[i] == 0;
    }
    if (ones == n) continue;  // the intercept
    if (ones + zeros == n) ARK_RETURN_IF_ERROR(CheckTwoLevels("covariate '" + ColumnName(d, j) + "'", ones, n, r));
    ARK_RETURN_IF_ERROR(CheckAggregateColumn(ColumnName(d, j), column, r));
  }
  return CheckDifferencing(n, earlier, r);
}

}  // namespace ark::sdc
