// Funnel plots of indirectly standardised ratios (regions, practices, providers), as data: each
// unit's ratio and z-score, and control limits at 95% and 99.8% against the expected count.
// Drawing is the report's job.
//
// Indirect standardisation: stratum reference rates r_s (by default the network's own, Σ_u O_us /
// Σ_u N_us), a unit's expected count E_u = Σ_s r_s N_us, its ratio SR_u = O_u / E_u (target 1).
//
// Limits: the normal approximation on the square-root scale (Spiegelhalter 2005, "Handling
// over-dispersion of performance indicators", Table 1 for standardised ratios): y = sqrt(O / E),
// s = 1 / (2 sqrt(E)), z = (y - 1) / s = 2 (sqrt(O) - sqrt(E)); the limits for the ratio at
// expected count E are (1 ± z_p s)² with z_p = 1.960 (95%) and 3.090 (99.8%), the lower clipped
// at 0 when 1 - z_p s < 0. Chosen over exact Poisson limits because the z-scores, the
// overdispersion estimates and the limits are then all on one scale; the square root (variance
// stabilising for Poisson counts) keeps the limits asymmetric, as Poisson limits are.
//
// Overdispersion (units differ by more than Poisson noise, e.g. unmeasured case mix):
//   φ = (1/I) Σ z_w², z_w the z-scores winsorised at 10% each tail: with k = floor(0.1 I), the
//   k lowest are set to the (k+1)-th lowest and the k highest to the (k+1)-th highest.
//   Multiplicative: when φ > 1, z / sqrt(φ) and limits (1 ± z_p sqrt(φ) s)².
//   Additive (random effects): τ² = (I φ - (I - 1)) / (Σw - Σw² / Σw), w = 1 / s², applied when
//   positive; z = (y - 1) / sqrt(s² + τ²) and limits (1 ± z_p sqrt(s² + τ²))².
// The default is ADDITIVE: the spread between practices or regions from case mix does not shrink
// as a unit grows, so a multiplicative φ (which narrows every funnel towards 1 as E grows) still
// flags nearly every large unit once φ > 1; the additive τ² gives large units a floor width and
// leaves small units' limits nearly as they were.
//
// Example:
//   ARK_ASSIGN_OR_RETURN(FunnelPlot f, Funnel({{"A", 12, 9.5}, {"B", 40, 51.2}, ...}));
//   // f.points[i].ratio, f.points[i].flag; f.curve[j].expected, f.curve[j].low95 ...
#pragma once

#include <string>
#include <vector>

#include "ark/status.h"

namespace ark::stats {

// Stratum reference rates Σ_u events[u][s] / Σ_u population[u][s] (units × strata).
// InvalidArgument for ragged tables, negative or non-finite cells, or a stratum with no people.
Result<std::vector<double>> ReferenceRates(const std::vector<std::vector<double>>& events,
                                           const std::vector<std::vector<double>>& population);
// Expected counts E_u = Σ_s rates[s] population[u][s].
Result<std::vector<double>> ExpectedCounts(const std::vector<std::vector<double>>& population,
                                           const std::vector<double>& rates);

struct FunnelUnit {
  std::string name;
  double observed = 0;  // O >= 0
  double expected = 0;  // E > 0
};

enum class Overdispersion { kNone, kMultiplicative, kAdditive };

struct FunnelOptions {
  Overdispersion overdispersion = Overdispersion::kAdditive;
  double winsor = 0.10;    // fraction winsorised in each tail, in [0, 0.5)
  int curve_points = 100;  // limit curve, geometric in E from min(E) / 2 to 1.2 max(E)
};

struct FunnelPoint {
  std::string name;
  double observed = 0, expected = 0, ratio = 0;
  double z = 0;           // 2 (sqrt(O) - sqrt(E)), before any overdispersion adjustment
  double z_adjusted = 0;  // after it (equal to z when none is applied)
  // 0 inside the 95% limits, +1 / -1 above / below the 95% limit, +2 / -2 beyond 99.8%.
  int flag = 0;
};

struct FunnelLimits {
  double expected = 0;
  double low95 = 0, high95 = 0, low998 = 0, high998 = 0;  // for the ratio
};

struct FunnelPlot {
  std::vector<FunnelPoint> points;
  std::vector<FunnelLimits> curve;
  double phi = 1;   // winsorised estimate (reported whatever the option)
  double tau2 = 0;  // additive estimate, >= 0 (reported whatever the option)
  Overdispersion applied = Overdispersion::kNone;  // what the limits use (none if φ <= 1)
};

// The limits at one expected count, under a fit's overdispersion.
FunnelLimits FunnelLimitsAt(double expected, const FunnelPlot& fit);

// Errors: InvalidArgument (naming the unit) for non-finite values, O < 0 or E <= 0, no units,
// fewer than two units with overdispersion requested, or bad options.
Result<FunnelPlot> Funnel(const std::vector<FunnelUnit>& units, const FunnelOptions& options = {});

}  // namespace ark::stats
