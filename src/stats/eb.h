// Empirical-Bayes shrinkage of rates (Poisson–gamma model, Marshall's 1991 global method of
// moments), so that a small area's unstable rate borrows strength from all areas. The same
// numbers as R's spdep::EBest(n, x) (columns raw and estmm; attributes a and b).
//
// For areas i with events n_i and population at risk x_i:
//   raw r_i = n_i / x_i, global rate b = Σn / Σx,
//   s² = Σ x_i (r_i - b)² / Σx, a = s² - b / (Σx / m)  (m areas; a < 0 is set to 0),
//   estimate = b + a (r_i - b) / (a + b / x_i), shrinkage weight a / (a + b / x_i).
// When a is 0 (the rates vary no more than Poisson noise explains) every estimate is b. When no
// area has an event (b = 0) every estimate is 0 (spdep gives NaN there, 0/0).
//
// Example:
//   ARK_ASSIGN_OR_RETURN(EbRates eb, EmpiricalBayesRates({2, 30, 0}, {150, 2000, 40}));
//   // eb.estimate[2] > 0: the empty small area is pulled towards the global rate
#pragma once

#include <vector>

#include "ark/status.h"

namespace ark::stats {

struct EbRates {
  std::vector<double> raw;       // n / x
  std::vector<double> estimate;  // shrunk rate
  std::vector<double> weight;    // a / (a + b / x): 1 keeps the raw rate, 0 takes b
  double a = 0;                  // between-area variance of the rates (after truncation at 0)
  double b = 0;                  // global rate
  bool a_truncated = false;      // the moment estimate of a was negative and set to 0
};

// Errors (InvalidArgument, naming the area): mismatched sizes, no areas, non-finite values,
// negative events, or a population below machine epsilon (spdep's checks).
Result<EbRates> EmpiricalBayesRates(const std::vector<double>& events, const std::vector<double>& population);

}  // namespace ark::stats
