// A remedy for unequal error rates between groups (docs/risk-models.md, "Remedy"): group-wise
// logistic recalibration. On the training rows, for each group g (e.g. deprivation quintile),
//   logit P(y = 1) = a_g + b_g logit(p)
// is fitted by maximum likelihood (R's glm(y ~ logit(p)) within the group); the remedied risk is
//   p' = 1 / (1 + exp(-(a_g + b_g logit(p)))),
// with p clipped to [1e-12, 1 - 1e-12] before the logit. A group with fewer than `min_cell`
// people with or without the outcome, or whose fit fails, keeps a_g = 0, b_g = 1 (no change),
// and so does a label the fit never saw.
//
// Example:
//   ARK_ASSIGN_OR_RETURN(Recalibration r, FitGroupRecalibration(p_train, y_train, quintile, 10));
//   std::vector<double> p2 = ApplyRecalibration(r, p_valid, quintile_valid);
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ark/status.h"

namespace ark::stats {

struct GroupRecalibration {
  double intercept = 0, slope = 1;
  bool fitted = false;  // false: too small or the fit failed; the identity is used
};

struct Recalibration {
  std::string group_variable;
  std::map<std::string, GroupRecalibration> groups;
};

// InvalidArgument for mismatched sizes, labels other than 0/1, probabilities outside [0, 1].
Result<Recalibration> FitGroupRecalibration(const std::vector<double>& p, const std::vector<int>& y,
                                            const std::vector<std::string>& group, int min_cell);

// p' for each row (sizes must match; a label not in `r` is left unchanged).
std::vector<double> ApplyRecalibration(const Recalibration& r, const std::vector<double>& p,
                                       const std::vector<std::string>& group);

// model.json's "remedy": {"type": "recalibrate-by-deprivation", "group_variable", "groups": [{group,
// intercept, slope, fitted}]}, and back (InvalidArgument naming the bad field).
nlohmann::ordered_json RecalibrationJson(const Recalibration& r);
Result<Recalibration> RecalibrationFromJson(const nlohmann::ordered_json& j);

}  // namespace ark::stats
