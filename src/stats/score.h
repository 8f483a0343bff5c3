// A trained risk model as `ark model train` writes it (model.json, and for boosted trees the
// booster.json beside it), loaded for scoring new rows of the same features.
//
// Example:
//   ARK_ASSIGN_OR_RETURN(Scorer s, LoadScorer(model_json, booster_text));
//   ARK_ASSIGN_OR_RETURN(std::vector<double> risk, s.Score(table.x, 2));
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ark/status.h"
#include "stats/forest.h"
#include "stats/gbt.h"
#include "stats/logistic.h"

namespace ark::stats {

struct Scorer {
  std::string type;                   // "logistic" or "gbt"
  std::vector<std::string> features;  // column order of the rows to score
  // logistic: p = 1 / (1 + exp(-(intercept + sum coefficient_j (x_j - mean_j) / sd_j)))
  double intercept = 0;
  std::vector<double> mean, sd, coefficient;
  GbtModel gbt;         // gbt
  int gbt_threads = 1;  // gbt: the threads it was trained with (model.json parameters.threads)
  // gbt: the booster flattened for batch scoring (stats/forest.h), when it is of the kind
  // FitGbt makes; else null, and xgboost scores with gbt_threads.
  std::shared_ptr<const Forest> forest;

  // Risk for every row of `x` (columns as `features`) on `threads` threads (the flattened forest
  // and the logistic formula; xgboost itself uses gbt_threads). InvalidArgument on a column
  // mismatch.
  Result<std::vector<double>> Score(const Design& x, int threads) const;
};

// From model.json (`type` absent means logistic, as models trained before boosted trees were)
// and, for gbt, the text of the booster file. InvalidArgument naming the missing or bad field.
Result<Scorer> LoadScorer(const nlohmann::ordered_json& model, const std::string& booster_json);

}  // namespace ark::stats
