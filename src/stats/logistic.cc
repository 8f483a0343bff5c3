#include "stats/logistic.h"

#include <Eigen/Dense>
#include <cmath>
#include <string>

namespace ark::stats {
namespace {

double Sigmoid(double z) { return z >= 0 ? 1 / (1 + std::exp(-z)) : std::exp(z) / (1 + std::exp(z)); }

Status Validate(const Design& x, const std::vector<int>& y, const LogisticOptions& o, const std::vector<double>& offset,
                const std::vector<double>& weights) {
  if (x.values.size() != x.rows * x.cols)
    return Status::InvalidArgument("design has " + std::to_string(x.values.size()) + " values, expected rows x cols = " +
                                   std::to_string(x.rows * x.cols));
  if (y.size() != x.rows)
    return Status::InvalidArgument("outcome has " + std::to_string(y.size()) + " rows, design " + std::to_string(x.rows));
  if (!offset.empty() && offset.size() != x.rows) return Status::InvalidArgument("offset size differs from the design's rows");
  if (!weights.empty() && weights.size() != x.rows) return Status::InvalidArgument("weights size differs from the design's rows");
  if (!(o.lambda >= 0) || !std::isfinite(o.lambda)) return Status::InvalidArgument("lambda must be finite and >= 0");
  if (x.rows == 0) return Status::InvalidArgument("no rows to fit");
  for (size_t i = 0; i < x.rows; ++i) {
    if (y[i] != 0 && y[i] != 1)
      return Status::InvalidArgument("row " + std::to_string(i + 1) + ": outcome " + std::to_string(y[i]) + " is not 0 or 1");
    if (!offset.empty() && !std::isfinite(offset[i]))
      return Status::InvalidArgument("row " + std::to_string(i + 1) + ": offset is not finite");
    if (!weights.empty() && !(weights[i] >= 0 && std::isfinite(weights[i])))
      return Status::InvalidArgument("row " + std::to_string(i + 1) + ": weight must be finite and >= 0");
    for (size_t j = 0; j < x.cols; ++j)
      if (!std::isfinite(x.values[i * x.cols + j]))
        return Status::InvalidArgument("row " + std::to_string(i + 1) + ", column " + std::to_string(j + 1) + ": not finite");
  }
  return Status::OK();
}

}  // namespace

double LogisticModel::Linear(const double* x) const {
  double z = intercept;
  for (size_t j = 0; j < coefficients.size(); ++j) z += coefficients[j] * x[j];
  return z;
}

double LogisticModel::Predict(const double* x) const { return Sigmoid(Linear(x)); }

std::vector<double> PredictAll(const LogisticModel& model, const Design& x) {
  std::vector<double> p(x.rows);
  for (size_t i = 0; i < x.rows; ++i) p[i] = model.Predict(&x.values[i * x.cols]);
  return p;
}

Result<LogisticModel> FitLogistic(const Design& x, const std::vector<int>& y, const LogisticOptions& o,
                                  const std::vector<double>& offset, const std::vector<double>& weights) {
  ARK_RETURN_IF_ERROR(Validate(x, y, o, offset, weights));
  using Mat = Eigen::MatrixXd;  // column-major: the products below run down columns
  const Eigen::Index n = static_cast<Eigen::Index>(x.rows);
  const Eigen::Index k = static_cast<Eigen::Index>(x.cols) + (o.intercept ? 1 : 0);
  // Augmented design: [1, x] (the intercept first when fitted).
  Mat a(n, k);
  for (Eigen::Index i = 0; i < n; ++i) {
    Eigen::Index c = 0;
    if (o.intercept) a(i, c++) = 1;
    for (size_t j = 0; j < x.cols; ++j) a(i, c++) = x.values[static_cast<size_t>(i) * x.cols + j];
  }
  Eigen::VectorXd yy(n), off = Eigen::VectorXd::Zero(n), w = Eigen::VectorXd::Ones(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    yy(i) = y[static_cast<size_t>(i)];
    if (!offset.empty()) off(i) = offset[static_cast<size_t>(i)];
    if (!weights.empty()) w(i) = weights[static_cast<size_t>(i)];
  }
  Eigen::VectorXd penalty = Eigen::VectorXd::Constant(k, o.lambda);
  if (o.intercept) penalty(0) = 0;

  Eigen::VectorXd beta = Eigen::VectorXd::Zero(k);
  LogisticModel m;
  bool converged = false;
  for (m.iterations = 1; m.iterations <= o.max_iterations; ++m.iterations) {
    const Eigen::VectorXd eta = a * beta + off;
    Eigen::VectorXd p(n), v(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      p(i) = Sigmoid(eta(i));
      v(i) = w(i) * p(i) * (1 - p(i));
    }
    const Eigen::VectorXd grad = a.transpose() * (w.cwiseProduct(yy - p)) - penalty.cwiseProduct(beta);
    // Hessian A' V A as B'B with B = V^1/2 A: one symmetric rank-k update (blocked, fast).
    const Mat scaled = v.cwiseSqrt().asDiagonal() * a;
    Eigen::MatrixXd hess = Eigen::MatrixXd::Zero(k, k);
    hess.selfadjointView<Eigen::Lower>().rankUpdate(scaled.transpose());
    hess = hess.selfadjointView<Eigen::Lower>();
    hess.diagonal() += penalty;
    Eigen::LDLT<Eigen::MatrixXd> ldlt(hess);
    if (ldlt.info() != Eigen::Success || !ldlt.isPositive() || ldlt.vectorD().minCoeff() <= 1e-12 * hess.diagonal().maxCoeff())
      return Status::FailedPrecondition("logistic regression: the Hessian is singular (a constant or duplicated feature, "
                                        "or separation; use lambda > 0)");
    const Eigen::VectorXd step = ldlt.solve(grad);
    if (!step.allFinite()) return Status::FailedPrecondition("logistic regression: the Newton step is not finite");
    beta += step;
    if (step.cwiseAbs().maxCoeff() < o.tolerance * (1 + beta.cwiseAbs().maxCoeff())) {
      converged = true;
      break;
    }
  }
  if (!converged)
    return Status::FailedPrecondition("logistic regression did not converge in " + std::to_string(o.max_iterations) +
                                      " iterations (complete separation? use lambda > 0)");
  m.intercept = o.intercept ? beta(0) : 0;
  for (Eigen::Index j = o.intercept ? 1 : 0; j < k; ++j) m.coefficients.push_back(beta(j));
  const Eigen::VectorXd eta = a * beta + off;
  for (Eigen::Index i = 0; i < n; ++i) {
    const double z = eta(i);
    // log p = -log(1 + e^-z), log(1 - p) = -log(1 + e^z), computed stably.
    const double log_p = -(z >= 0 ? std::log1p(std::exp(-z)) : -z + std::log1p(std::exp(z)));
    const double log_q = log_p - z;
    m.log_likelihood += w(i) * (yy(i) == 1 ? log_p : log_q);
  }
  return m;
}

}  // namespace ark::stats
