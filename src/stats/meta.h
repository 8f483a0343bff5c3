// Random-effects meta-analysis of per-site estimates y_i with sampling variances v_i (k >= 2
// sites), as R's metafor::rma(yi, vi, method = "DL" | "REML", test = "z" | "knha") computes it.
//
//   w_i = 1 / v_i, θ_FE = Σ w y / Σ w, Q = Σ w (y - θ_FE)², tr P = Σw - Σw² / Σw
//   DerSimonian–Laird: τ² = max(0, (Q - (k - 1)) / tr P)
//   REML: τ² maximises the restricted likelihood, by Fisher scoring from the DL value:
//     τ² += [Σ w*² (y - θ)² - tr P*] / tr(P*P*), w* = 1 / (v + τ²), kept >= 0 by halving the
//     step (as metafor), until the change is below 1e-12
//   θ = Σ w* y / Σ w*, SE = 1 / sqrt(Σ w*)
//   Wald (test "z"): θ ± z_0.975 SE, p from the normal
//   Hartung–Knapp–Sidik–Jonkman (test "knha"): SE_HK = sqrt(Σ w* (y - θ)² / ((k - 1) Σ w*)),
//     θ ± t_{k-1, 0.975} SE_HK, p from t with k - 1 df (no truncation of the factor at 1)
//   I² = 100 τ² / (τ² + s²), s² = (k - 1) / tr P (metafor's definition; equals (Q - df) / Q
//   for DL when τ² > 0); H² = (τ² + s²) / s².
//
// Example:
//   ARK_ASSIGN_OR_RETURN(MetaResult m, RandomEffectsMeta({0.1, 0.3, 0.2}, {0.01, 0.02, 0.015}));
//   // m.estimate, m.wald.low, m.hksj.high, m.tau2, m.i2
#pragma once

#include <vector>

#include "ark/status.h"

namespace ark::stats {

enum class Tau2Method { kDerSimonianLaird, kReml };

struct MetaInterval {
  double se = 0;
  double low = 0, high = 0;  // 95%
  double statistic = 0;      // θ / se: z (Wald) or t (HKSJ)
  double p_value = 0;        // two-sided
};

struct MetaResult {
  int k = 0;
  double estimate = 0;       // θ
  double tau2 = 0;
  double q = 0;              // Cochran's Q (fixed-effect weights)
  double q_p_value = 0;      // P(χ²_{k-1} > Q)
  double i2 = 0;             // percent
  double h2 = 1;
  MetaInterval wald;         // test = "z"
  MetaInterval hksj;         // test = "knha"
  int reml_iterations = 0;   // 0 for DL
};

// Errors: InvalidArgument for fewer than two estimates, mismatched sizes, non-finite values or
// variances <= 0 (naming the estimate); FailedPrecondition when REML does not converge.
Result<MetaResult> RandomEffectsMeta(const std::vector<double>& y, const std::vector<double>& v,
                                     Tau2Method method = Tau2Method::kReml);

}  // namespace ark::stats
