// Generalised linear models fitted by Fisher scoring (iteratively reweighted least squares) in a
// form that federates: one iteration is one sum over sites. At the current coefficients β each
// site returns a GlmContribution (XᵀWX, XᵀWz, its deviance and row count: aggregates only, no
// rows); the coordinator adds them (Sum) and solves XᵀWX β' = XᵀWz (GlmStep). The fit equals the
// pooled fit on the union of the sites' rows up to rounding, and R's glm() (same start, same
// convergence rule, same iteration count).
//
// Families (canonical links): gaussian/identity, binomial/logit, poisson/log. An offset (e.g.
// log person-years for Poisson rates) enters the linear predictor with coefficient 1.
//
// Iterations and round trips, as R's glm.fit counts them: round trip 0 sends an empty β and each
// site starts from R's initial values (mu = y; (w y + 0.5) / (w + 1); y + 0.1). Iteration k
// solves for β_k and round trip k sends it; the answer gives the deviance at β_k (for the
// convergence test |dev_k - dev_{k-1}| / (|dev_k| + 0.1) < epsilon) and the sums for the next
// step. So a fit of `iterations` iterations costs iterations + 1 round trips, one per iteration
// plus the start; `round_trips` says so. Standard errors use the information matrix of the last
// step (as R's summary.glm does), times the dispersion: 1 for binomial and Poisson, Pearson χ² /
// (n - p) for gaussian.
//
// Example (the network layer does the fan-out and serialises contributions, plain vectors):
//   GlmRound round = [&](const std::vector<double>& beta) -> Result<GlmContribution> {
//     std::vector<GlmContribution> parts;  // one per site: GlmContribute(site, family, beta)
//     ...
//     return Sum(parts);
//   };
//   ARK_ASSIGN_OR_RETURN(GlmFit fit, FitGlmFederated(round, GlmFamily::kBinomial));
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ark/status.h"

namespace ark::stats {

enum class GlmFamily { kGaussian, kBinomial, kPoisson };

// "gaussian", "binomial", "poisson"; Parse is the inverse (InvalidArgument otherwise).
std::string_view GlmFamilyName(GlmFamily family);
Result<GlmFamily> ParseGlmFamily(std::string_view name);

// One site's rows. `x` is the full design, row-major (x[i * cols + j]), including a column of 1s
// when the model has an intercept. Binomial y is 0/1 (or a proportion with `weights` = trials);
// Poisson y is a count >= 0. `offset` and `weights` are empty or one per row; weights >= 0, and
// rows of weight 0 are left out (as R does).
struct GlmData {
  size_t rows = 0;
  size_t cols = 0;
  std::vector<double> x;
  std::vector<double> y;
  std::vector<double> offset;
  std::vector<double> weights;
};

// What one site returns for one β: sums over its rows, nothing per row.
struct GlmContribution {
  size_t p = 0;
  std::vector<double> xtwx;  // p × p, row-major, symmetric: Σ W x xᵀ
  std::vector<double> xtwz;  // p: Σ W x z, z the working response minus the offset
  double deviance = 0;       // Σ deviance residuals at β (at the start when β was empty)
  int64_t n = 0;             // rows with weight > 0
  // For the intercept-only (null) deviance without re-fitting: Σw, Σw·y and Σw·h(y), with
  // h = y² (gaussian), y log y + (1-y) log(1-y) (binomial), y log y (poisson).
  double sum_w = 0, sum_wy = 0, sum_wh = 0;
  bool has_offset = false;   // the site used a non-empty offset (then no null deviance)
};

// One site's contribution at `beta` (empty: R's starting values). Errors: InvalidArgument
// naming the row and field for mismatched sizes, non-finite values, y outside the family's
// range, negative weights, or a beta whose size is not cols.
Result<GlmContribution> GlmContribute(const GlmData& site, GlmFamily family, const std::vector<double>& beta);

// Adds contributions of the same p (InvalidArgument otherwise, or for none).
Result<GlmContribution> Sum(const std::vector<GlmContribution>& parts);

// Next coefficients: the solution of XᵀWX β = XᵀWz. FailedPrecondition when XᵀWX is singular
// (a constant or duplicated column, an empty factor level, separation).
Result<std::vector<double>> GlmStep(const GlmContribution& total);

struct GlmOptions {
  double epsilon = 1e-10;  // R's glm.control: |dev - dev_old| / (|dev| + 0.1) < epsilon
  int max_iterations = 50;
};

struct GlmFit {
  std::vector<double> beta;
  std::vector<double> se;        // standard errors (sqrt of the diagonal of dispersion × (XᵀWX)⁻¹)
  std::vector<double> covariance;  // p × p row-major, dispersion × (XᵀWX)⁻¹
  double deviance = 0;
  double null_deviance = 0;      // intercept-only model; NaN when a site used an offset
  double dispersion = 1;         // gaussian: Pearson χ² / (n - p)
  int64_t n = 0;
  int64_t df_residual = 0;       // n - p
  int iterations = 0;            // as R's glm()$iter
  int round_trips = 0;           // iterations + 1
};

// One round trip: every site's contribution at `beta`, summed.
using GlmRound = std::function<Result<GlmContribution>(const std::vector<double>& beta)>;
// One site's contribution at `beta`.
using GlmSite = std::function<Result<GlmContribution>(const std::vector<double>& beta)>;

// Fisher scoring on summed contributions. Errors from a round are returned as they are, with
// the iteration added; FailedPrecondition when the fit does not converge in max_iterations, the
// deviance is not finite, or XᵀWX is singular.
Result<GlmFit> FitGlmFederated(const GlmRound& round, GlmFamily family, const GlmOptions& options = {});
// The same, calling each site in turn and summing.
Result<GlmFit> FitGlmFederated(const std::vector<GlmSite>& sites, GlmFamily family, const GlmOptions& options = {});
// The pooled fit on rows held in one process.
Result<GlmFit> FitGlm(const GlmData& data, GlmFamily family, const GlmOptions& options = {});

}  // namespace ark::stats
