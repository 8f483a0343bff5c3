// Batch scoring of a boosted-tree model without libxgboost: the booster's JSON (xgboost's own
// model format, as FitGbt writes it) flattened into perfect binary trees and evaluated over
// blocks of rows on plain threads: trees of depth <= 4 make every node's comparison for the
// whole block, column by column, and look the leaf up from the bits; deeper ones are walked. It gives what xgboost's CPU predictor gives for
// the same finite rows: each value is compared as a float (`value < split` goes left), leaf values
// are added in float in tree order onto the base margin, and the sigmoid is taken in float.
// Missing values are not handled (xgboost's default sides are not kept): rows must be finite, as
// PredictGbt requires and Scorer::Score checks.
//
// Only what FitGbt makes is flattened: objective binary:logistic, booster gbtree, one output,
// numerical splits, depth <= kMaxForestDepth. For anything else Flatten says so, and the caller
// scores with xgboost (PredictGbt).
//
// Example:
//   auto f = Forest::Flatten(model.json, x.cols);
//   if (f.ok()) risk = f->Predict(x, 2);
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ark/status.h"
#include "stats/logistic.h"

namespace ark::stats {

inline constexpr int kMaxForestDepth = 10;

class Forest {
 public:
  // From the booster's JSON text, for rows of `cols` columns. FailedPrecondition when the model is
  // not one this class flattens (see above); InvalidArgument when the text is not JSON of that
  // shape or a tree splits on a column >= cols.
  static Result<Forest> Flatten(const std::string& booster_json, size_t cols);

  // The probability for every row of `x` (x.cols must be the `cols` given to Flatten, every value
  // finite). Rows are
  // split between `threads` threads (at least 1); the result does not depend on the number.
  std::vector<double> Predict(const Design& x, int threads) const;

  size_t trees() const { return trees_; }
  int depth() const { return depth_; }

 private:
  void PredictRows(const Design& x, size_t begin, size_t end, double* out) const;

  size_t cols_ = 0, trees_ = 0;
  int depth_ = 0;
  float base_margin_ = 0;
  // Tree t's internal node i (0 .. 2^depth - 2, children of i at 2i+1 and 2i+2) is at
  // t * (2^depth - 1) + i; its leaf j (0 .. 2^depth - 1) at t * 2^depth + j.
  std::vector<uint32_t> feature_;
  std::vector<float> split_;
  std::vector<float> leaf_;
};

}  // namespace ark::stats
