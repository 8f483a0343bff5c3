#include "stats/glm.h"

#include <Eigen/Dense>
#include <cfloat>
#include <cmath>
#include <limits>
#include <string>

namespace ark::stats {
namespace {

// The link, its inverse and derivative, the variance and deviance residual, as R's families
// compute them (including their clamps, so that fits agree with glm() to the last digits).
struct Family {
  GlmFamily f;

  double Start(double y, double w) const {  // R's family$initialize (mustart)
    switch (f) {
      case GlmFamily::kGaussian: return y;
      case GlmFamily::kBinomial: return (w * y + 0.5) / (w + 1);
      case GlmFamily::kPoisson: return y + 0.1;
    }
    return y;
  }
  double Link(double mu) const {
    switch (f) {
      case GlmFamily::kGaussian: return mu;
      case GlmFamily::kBinomial: return std::log(mu / (1 - mu));
      case GlmFamily::kPoisson: return std::log(mu);
    }
    return mu;
  }
  double Inverse(double eta) const {
    switch (f) {
      case GlmFamily::kGaussian: return eta;
      case GlmFamily::kBinomial: {
        const double t = eta < -30 ? DBL_EPSILON : eta > 30 ? 1 / DBL_EPSILON : std::exp(eta);
        return t / (1 + t);
      }
      case GlmFamily::kPoisson: return std::max(std::exp(eta), DBL_EPSILON);
    }
    return eta;
  }
  double MuEta(double eta) const {  // dmu/deta
    switch (f) {
      case GlmFamily::kGaussian: return 1;
      case GlmFamily::kBinomial: {
        if (eta > 30 || eta < -30) return DBL_EPSILON;
        const double opexp = 1 + std::exp(eta);
        return std::exp(eta) / (opexp * opexp);
      }
      case GlmFamily::kPoisson: return std::max(std::exp(eta), DBL_EPSILON);
    }
    return 1;
  }
  double Variance(double mu) const {
    switch (f) {
      case GlmFamily::kGaussian: return 1;
      case GlmFamily::kBinomial: return mu * (1 - mu);
      case GlmFamily::kPoisson: return mu;
    }
    return 1;
  }
  static double YLogY(double y, double mu) { return y != 0 ? y * std::log(y / mu) : 0; }
  double DevResid(double y, double mu, double w) const {
    switch (f) {
      case GlmFamily::kGaussian: return w * (y - mu) * (y - mu);
      case GlmFamily::kBinomial: return 2 * w * (YLogY(y, mu) + YLogY(1 - y, 1 - mu));
      case GlmFamily::kPoisson: return y > 0 ? 2 * w * (y * std::log(y / mu) - (y - mu)) : 2 * mu * w;
    }
    return 0;
  }
  // h(y) of the null-deviance sums (see GlmContribution).
  double H(double y) const {
    switch (f) {
      case GlmFamily::kGaussian: return y * y;
      case GlmFamily::kBinomial: return YLogY(y, 1) + YLogY(1 - y, 1);
      case GlmFamily::kPoisson: return YLogY(y, 1);
    }
    return 0;
  }
};

std::string Row(size_t i) { return "row " + std::to_string(i + 1); }

Status Validate(const GlmData& d, GlmFamily family, const std::vector<double>& beta) {
  if (d.cols == 0) return Status::InvalidArgument("GLM design has no columns");
  if (d.x.size() != d.rows * d.cols)
    return Status::InvalidArgument("GLM design has " + std::to_string(d.x.size()) + " values, expected rows x cols = " +
                                   std::to_string(d.rows * d.cols));
  if (d.y.size() != d.rows)
    return Status::InvalidArgument("GLM outcome has " + std::to_string(d.y.size()) + " rows, design " + std::to_string(d.rows));
  if (!d.offset.empty() && d.offset.size() != d.rows) return Status::InvalidArgument("GLM offset size differs from the design's rows");
  if (!d.weights.empty() && d.weights.size() != d.rows)
    return Status::InvalidArgument("GLM weights size differs from the design's rows");
  if (!beta.empty() && beta.size() != d.cols)
    return Status::InvalidArgument("GLM coefficients: " + std::to_string(beta.size()) + " given, the design has " +
                                   std::to_string(d.cols) + " columns");
  for (double b : beta)
    if (!std::isfinite(b)) return Status::InvalidArgument("GLM coefficients are not finite");
  for (size_t i = 0; i < d.rows; ++i) {
    const double y = d.y[i];
    if (!std::isfinite(y)) return Status::InvalidArgument(Row(i) + ": outcome is not finite");
    if (family == GlmFamily::kBinomial && (y < 0 || y > 1))
      return Status::InvalidArgument(Row(i) + ": binomial outcome " + std::to_string(y) + " is not in [0, 1]");
    if (family == GlmFamily::kPoisson && y < 0)
      return Status::InvalidArgument(Row(i) + ": Poisson outcome " + std::to_string(y) + " is negative");
    if (!d.offset.empty() && !std::isfinite(d.offset[i])) return Status::InvalidArgument(Row(i) + ": offset is not finite");
    if (!d.weights.empty() && !(d.weights[i] >= 0 && std::isfinite(d.weights[i])))
      return Status::InvalidArgument(Row(i) + ": weight must be finite and >= 0");
    for (size_t j = 0; j < d.cols; ++j)
      if (!std::isfinite(d.x[i * d.cols + j]))
        return Status::InvalidArgument(Row(i) + ", column " + std::to_string(j + 1) + ": not finite");
  }
  return Status::OK();
}

// The deviance of the intercept-only model without offset, from the summed null statistics.
double NullDeviance(const GlmContribution& t, GlmFamily family) {
  if (t.has_offset || !(t.sum_w > 0)) return std::numeric_limits<double>::quiet_NaN();
  const double c = t.sum_wy / t.sum_w;
  auto xlog = [](double a, double b) { return a != 0 ? a * std::log(b) : 0; };
  switch (family) {
    case GlmFamily::kGaussian: return t.sum_wh - c * t.sum_wy;
    case GlmFamily::kBinomial: return 2 * (t.sum_wh - xlog(t.sum_wy, c) - xlog(t.sum_w - t.sum_wy, 1 - c));
    case GlmFamily::kPoisson: return 2 * (t.sum_wh - xlog(t.sum_wy, c) - t.sum_wy + c * t.sum_w);
  }
  return 0;
}

// XᵀWX scaled to unit diagonal (S A S with S = diag(1/sqrt(A_jj))) and factored, so that the
// singularity test does not depend on the columns' units. Empty when singular.
struct Factored {
  Eigen::VectorXd s;
  Eigen::LDLT<Eigen::MatrixXd> ldlt;
};

Result<Factored> Factor(const GlmContribution& t) {
  const Eigen::Index p = static_cast<Eigen::Index>(t.p);
  if (t.xtwx.size() != t.p * t.p || t.xtwz.size() != t.p || t.p == 0)
    return Status::InvalidArgument("GLM contribution: XtWX or XtWz has the wrong size for p = " + std::to_string(t.p));
  Eigen::MatrixXd a(p, p);
  for (Eigen::Index i = 0; i < p; ++i)
    for (Eigen::Index j = 0; j < p; ++j) a(i, j) = t.xtwx[static_cast<size_t>(i * p + j)];
  if (!a.allFinite()) return Status::FailedPrecondition("GLM: XtWX is not finite");
  Factored f;
  f.s.resize(p);
  for (Eigen::Index j = 0; j < p; ++j) {
    if (!(a(j, j) > 0))
      return Status::FailedPrecondition("GLM: XtWX is singular (column " + std::to_string(j + 1) + " is all zero)");
    f.s(j) = 1 / std::sqrt(a(j, j));
  }
  f.ldlt.compute(f.s.asDiagonal() * a * f.s.asDiagonal());
  if (f.ldlt.info() != Eigen::Success || !f.ldlt.isPositive() || f.ldlt.vectorD().minCoeff() <= 1e-11)
    return Status::FailedPrecondition("GLM: XtWX is singular (a constant or duplicated column, an empty level, or separation)");
  return f;
}

}  // namespace

std::string_view GlmFamilyName(GlmFamily family) {
  switch (family) {
    case GlmFamily::kGaussian: return "gaussian";
    case GlmFamily::kBinomial: return "binomial";
    case GlmFamily::kPoisson: return "poisson";
  }
  return "?";
}

Result<GlmFamily> ParseGlmFamily(std::string_view name) {
  for (GlmFamily f : {GlmFamily::kGaussian, GlmFamily::kBinomial, GlmFamily::kPoisson})
    if (name == GlmFamilyName(f)) return f;
  return Status::InvalidArgument("GLM family '" + std::string(name) + "' is not gaussian, binomial or poisson");
}

Result<GlmContribution> GlmContribute(const GlmData& d, GlmFamily family, const std::vector<double>& beta) {
  ARK_RETURN_IF_ERROR(Validate(d, family, beta));
  const Family fam{family};
  const size_t p = d.cols;
  GlmContribution c;
  c.p = p;
  c.xtwx.assign(p * p, 0);
  c.xtwz.assign(p, 0);
  c.has_offset = !d.offset.empty();
  std::vector<double> wx(p);
  for (size_t i = 0; i < d.rows; ++i) {
    const double w = d.weights.empty() ? 1 : d.weights[i];
    if (w == 0) continue;
    const double y = d.y[i], off = d.offset.empty() ? 0 : d.offset[i];
    const double* x = &d.x[i * p];
    // R starts from eta = link(mustart) without the offset; later from x.beta + offset.
    double eta;
    if (beta.empty()) {
      eta = fam.Link(fam.Start(y, w));
    } else {
      eta = off;
      for (size_t j = 0; j < p; ++j) eta += x[j] * beta[j];
    }
    const double mu = fam.Inverse(eta), mu_eta = fam.MuEta(eta);
    c.deviance += fam.DevResid(y, mu, w);
    ++c.n;
    c.sum_w += w;
    c.sum_wy += w * y;
    c.sum_wh += w * fam.H(y);
    const double z = (eta - off) + (y - mu) / mu_eta;
    const double ww = w * mu_eta * mu_eta / fam.Variance(mu);
    for (size_t j = 0; j < p; ++j) wx[j] = ww * x[j];
    for (size_t j = 0; j < p; ++j) {
      c.xtwz[j] += wx[j] * z;
      double* rowj = &c.xtwx[j * p];
      for (size_t k = j; k < p; ++k) rowj[k] += wx[j] * x[k];
    }
  }
  for (size_t j = 0; j < p; ++j)
    for (size_t k = 0; k < j; ++k) c.xtwx[j * p + k] = c.xtwx[k * p + j];
  return c;
}

Result<GlmContribution> Sum(const std::vector<GlmContribution>& parts) {
  if (parts.empty()) return Status::InvalidArgument("GLM: no contributions to sum");
  GlmContribution t = parts[0];
  for (size_t s = 1; s < parts.size(); ++s) {
    const GlmContribution& c = parts[s];
    if (c.p != t.p || c.xtwx.size() != t.xtwx.size() || c.xtwz.size() != t.xtwz.size())
      return Status::InvalidArgument("GLM: contribution " + std::to_string(s + 1) + " has p = " + std::to_string(c.p) +
                                     ", the first has " + std::to_string(t.p));
    for (size_t i = 0; i < t.xtwx.size(); ++i) t.xtwx[i] += c.xtwx[i];
    for (size_t i = 0; i < t.xtwz.size(); ++i) t.xtwz[i] += c.xtwz[i];
    t.deviance += c.deviance;
    t.n += c.n;
    t.sum_w += c.sum_w;
    t.sum_wy += c.sum_wy;
    t.sum_wh += c.sum_wh;
    t.has_offset = t.has_offset || c.has_offset;
  }
  return t;
}

Result<std::vector<double>> GlmStep(const GlmContribution& total) {
  ARK_ASSIGN_OR_RETURN(Factored f, Factor(total));
  Eigen::VectorXd b(static_cast<Eigen::Index>(total.p));
  for (Eigen::Index j = 0; j < b.size(); ++j) b(j) = total.xtwz[static_cast<size_t>(j)];
  const Eigen::VectorXd beta = f.s.asDiagonal() * f.ldlt.solve(f.s.asDiagonal() * b);
  if (!beta.allFinite()) return Status::FailedPrecondition("GLM: the step is not finite");
  return std::vector<double>(beta.data(), beta.data() + beta.size());
}

Result<GlmFit> FitGlmFederated(const GlmRound& round, GlmFamily family, const GlmOptions& options) {
  if (!(options.epsilon > 0) || options.max_iterations < 1)
    return Status::InvalidArgument("GLM options: epsilon must be > 0 and max_iterations >= 1");
  GlmFit fit;
  auto call = [&](const std::vector<double>& beta) -> Result<GlmContribution> {
    ++fit.round_trips;
    auto r = round(beta);
    if (!r.ok()) return r.status().WithContext("GLM round trip " + std::to_string(fit.round_trips));
    if (!std::isfinite(r->deviance))
      return Status::FailedPrecondition("GLM: the deviance is not finite at round trip " + std::to_string(fit.round_trips));
    return r;
  };
  ARK_ASSIGN_OR_RETURN(GlmContribution last, call({}));
  const int64_t p = static_cast<int64_t>(last.p);
  if (last.n <= p)
    return Status::FailedPrecondition("GLM: " + std::to_string(last.n) + " rows for " + std::to_string(p) + " parameters");
  for (fit.iterations = 1; fit.iterations <= options.max_iterations; ++fit.iterations) {
    ARK_ASSIGN_OR_RETURN(std::vector<double> beta, GlmStep(last));
    ARK_ASSIGN_OR_RETURN(GlmContribution next, call(beta));
    if (next.p != last.p) return Status::InvalidArgument("GLM: the sites' number of parameters changed between rounds");
    if (std::abs(next.deviance - last.deviance) / (std::abs(next.deviance) + 0.1) < options.epsilon) {
      ARK_ASSIGN_OR_RETURN(Factored f, Factor(last));  // the information of the last step, as R
      fit.beta = std::move(beta);
      fit.deviance = next.deviance;
      fit.null_deviance = NullDeviance(next, family);
      fit.n = next.n;
      fit.df_residual = next.n - p;
      // Gaussian: Pearson χ² = the deviance; binomial and Poisson: fixed at 1.
      fit.dispersion = family == GlmFamily::kGaussian ? next.deviance / static_cast<double>(fit.df_residual) : 1;
      const Eigen::Index k = static_cast<Eigen::Index>(p);
      const Eigen::MatrixXd inv =
          f.s.asDiagonal() * f.ldlt.solve(Eigen::MatrixXd::Identity(k, k)) * f.s.asDiagonal() * fit.dispersion;
      fit.covariance.resize(static_cast<size_t>(k * k));
      for (Eigen::Index i = 0; i < k; ++i) {
        for (Eigen::Index j = 0; j < k; ++j) fit.covariance[static_cast<size_t>(i * k + j)] = inv(i, j);
        fit.se.push_back(std::sqrt(inv(i, i)));
      }
      return fit;
    }
    last = std::move(next);
  }
  return Status::FailedPrecondition("GLM did not converge in " + std::to_string(options.max_iterations) + " iterations");
}

Result<GlmFit> FitGlmFederated(const std::vector<GlmSite>& sites, GlmFamily family, const GlmOptions& options) {
  if (sites.empty()) return Status::InvalidArgument("GLM: no sites");
  GlmRound round = [&](const std::vector<double>& beta) -> Result<GlmContribution> {
    std::vector<GlmContribution> parts;
    for (size_t s = 0; s < sites.size(); ++s) {
      auto c = sites[s](beta);
      if (!c.ok()) return c.status().WithContext("site " + std::to_string(s + 1));
      parts.push_back(std::move(*c));
    }
    return Sum(parts);
  };
  return FitGlmFederated(round, family, options);
}

Result<GlmFit> FitGlm(const GlmData& data, GlmFamily family, const GlmOptions& options) {
  return FitGlmFederated([&](const std::vector<double>& beta) { return GlmContribute(data, family, beta); }, family,
                         options);
}

}  // namespace ark::stats
