// L2-regularised logistic regression fitted by Newton's method (iteratively reweighted least
// squares), for risk models and for logistic recalibration (calibration intercept and slope).
//
// The model is P(y = 1 | x) = 1 / (1 + exp(-(b0 + offset + x . b))). FitLogistic maximises
//   sum_i w_i [y_i log p_i + (1 - y_i) log(1 - p_i)] - (lambda / 2) * |b|^2
// where the intercept b0 is never penalised. With lambda = 0 it is the maximum-likelihood fit
// that R's glm(y ~ x, family = binomial) returns. Features are used as given (no scaling):
// scale them first when lambda > 0 should treat them alike.
//
// Example:
//   Design x{3, 1, {0.5, 1.2, -0.3}};
//   ARK_ASSIGN_OR_RETURN(LogisticModel m, FitLogistic(x, {0, 1, 0}, {.lambda = 1.0}));
//   double p = m.Predict({0.7});
#pragma once

#include <cstddef>
#include <vector>

#include "ark/status.h"

namespace ark::stats {

// A dense feature matrix, row-major: values[i * cols + j] is feature j of row i.
struct Design {
  size_t rows = 0;
  size_t cols = 0;
  std::vector<double> values;
};

struct LogisticOptions {
  double lambda = 0;       // L2 penalty on the non-intercept coefficients, >= 0
  int max_iterations = 50;
  // Converged when the largest change of a coefficient is below this.
  double tolerance = 1e-10;
  bool intercept = true;   // fit b0 (else b0 = 0)
};

struct LogisticModel {
  double intercept = 0;
  std::vector<double> coefficients;  // one per column of the design
  int iterations = 0;
  double log_likelihood = 0;         // unpenalised, at the fit
  // Linear predictor and probability for one row of features (size must equal coefficients).
  double Linear(const double* x) const;
  double Predict(const double* x) const;
  double Predict(const std::vector<double>& x) const { return Predict(x.data()); }
};

// Fits the model. `y` holds 0/1 outcomes, one per row; `offset` (empty, or one per row) is
// added to the linear predictor with coefficient 1; `weights` (empty, or one per row, >= 0)
// weight the rows. Errors: InvalidArgument for mismatched sizes, outcomes other than 0/1,
// negative lambda or weights, non-finite values; FailedPrecondition when Newton's method does
// not converge in max_iterations (typically complete separation with lambda = 0: use lambda > 0)
// or the Hessian is singular (a constant or duplicated column with lambda = 0).
Result<LogisticModel> FitLogistic(const Design& x, const std::vector<int>& y, const LogisticOptions& options = {},
                                  const std::vector<double>& offset = {}, const std::vector<double>& weights = {});

// Probabilities for every row of `x`.
std::vector<double> PredictAll(const LogisticModel& model, const Design& x);

}  // namespace ark::stats
