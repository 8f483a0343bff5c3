// Gradient-boosted trees for a binary outcome, through libxgboost's C API (Debian's
// libxgboost-dev; only this file's .cc includes it). Deterministic: the seed and the number of
// threads are fixed by the parameters, the histogram method is used, and the same inputs give the
// same trees and the same model text.
//
// Example:
//   GbtParams p;  p.trees = 200;  p.max_depth = 3;
//   ARK_ASSIGN_OR_RETURN(GbtModel m, FitGbt(x, y, p));
//   ARK_ASSIGN_OR_RETURN(std::vector<double> risk, PredictGbt(m, x, 2));
//   // m.json is xgboost's own JSON model format (saved beside model.json as booster.json).
#pragma once

#include <string>
#include <vector>

#include "ark/status.h"
#include "stats/logistic.h"

namespace ark::stats {

// Names (as in the model file's `model:` mapping) and defaults.
struct GbtParams {
  int trees = 200;               // boosting rounds, 1..10000
  int max_depth = 3;             // 1..16
  double eta = 0.05;             // learning rate, (0, 1]
  double min_child_weight = 5;   // >= 0
  double subsample = 1;          // (0, 1]
  double colsample = 1;          // colsample_bytree, (0, 1]
  double lambda = 1;             // L2 penalty on leaf weights, >= 0
  int seed = 7;
  // 1..64. Default 1: on a shared, busy machine xgboost's OpenMP threads spin-wait for each
  // other (300 trees on 2,800 rows: 1.4 s with 1 thread, 37 s with 2 under load 18); the trees
  // are the same whatever the number.
  int threads = 1;
};

// OK, or InvalidArgument naming the first parameter out of range ("max_depth must be ...").
Status CheckGbtParams(const GbtParams& p);

struct GbtModel {
  std::string json;  // xgboost's JSON model (XGBoosterSaveModelToBuffer, format json)
  // Share of the total split gain per feature (sums to 1 when any split was made), one per column.
  std::vector<double> gain_share;
};

// Fits binary:logistic boosted trees. Errors: InvalidArgument for bad parameters (CheckGbtParams),
// mismatched sizes, outcomes other than 0/1, non-finite values or no rows; Internal with
// xgboost's message when the library fails.
Result<GbtModel> FitGbt(const Design& x, const std::vector<int>& y, const GbtParams& p);

// Probabilities for every row of `x` from a model's JSON text. Errors: InvalidArgument when the
// text is not a model xgboost can load or `x` has another number of columns.
Result<std::vector<double>> PredictGbt(const GbtModel& m, const Design& x, int threads);

// A model loaded once to score rows one at a time (live re-scoring: parsing the model's JSON for
// every row would cost milliseconds). One thread. Not thread-safe: one caller at a time.
class GbtPredictor {
 public:
  // Errors as PredictGbt's (not a model, another number of features than `cols`).
  static Result<GbtPredictor> Load(const GbtModel& m, size_t cols);
  GbtPredictor(GbtPredictor&&) noexcept;
  GbtPredictor& operator=(GbtPredictor&&) noexcept;
  ~GbtPredictor();
  // The probability for one row of `cols` values (the same as PredictGbt gives for it).
  Result<double> Predict(const double* row) const;

 private:
  GbtPredictor() = default;
  void* booster_ = nullptr;
  size_t cols_ = 0;
};

}  // namespace ark::stats
