// Performance of a risk score against 0/1 outcomes: discrimination (AUROC with a DeLong 95%
// interval, AUPRC), accuracy (Brier score), calibration (in the large, logistic recalibration
// intercept and slope, by risk decile) and error rates at a top-k% threshold, overall and by
// subgroup. Scores are probabilities in [0, 1] unless said otherwise (AUROC takes any score).
//
// Example:
//   ARK_ASSIGN_OR_RETURN(Roc roc, Auroc(p, y));          // roc.auc, roc.ci_low, roc.ci_high
//   ARK_ASSIGN_OR_RETURN(Calibration c, Calibrate(p, y)); // c.slope near 1 when well calibrated
#pragma once

#include <string>
#include <vector>

#include "ark/status.h"

namespace ark::stats {

struct Roc {
  double auc = 0;
  double se = 0;       // DeLong (1988) standard error
  double ci_low = 0;   // auc -/+ 1.959964 se, clipped to [0, 1] (as R's pROC does)
  double ci_high = 0;
  size_t cases = 0, controls = 0;
};

// Area under the ROC curve: P(score of a case > score of a control), ties counting half, with
// DeLong's variance. Higher scores mean higher risk. Errors: InvalidArgument for mismatched
// sizes, labels other than 0/1, non-finite scores, or no cases or no controls.
Result<Roc> Auroc(const std::vector<double>& score, const std::vector<int>& y);

// Area under the precision-recall curve as average precision: sum over the distinct thresholds
// (highest first) of (recall gained) x (precision there); tied scores enter together. Errors as
// Auroc (no cases is an error; no controls is allowed).
Result<double> Auprc(const std::vector<double>& score, const std::vector<int>& y);

// Mean squared error of probabilities. Errors: InvalidArgument as Auroc, probabilities outside
// [0, 1], no rows.
Result<double> Brier(const std::vector<double>& p, const std::vector<int>& y);

struct Calibration {
  double mean_predicted = 0;
  double observed_rate = 0;
  // Calibration-in-the-large as a difference of rates: mean_predicted - observed_rate.
  double difference = 0;
  // Logistic recalibration: intercept a of logit P(y) = a + logit(p) (slope fixed at 1), and
  // slope b of logit P(y) = c + b logit(p). Perfect calibration: a = 0, b = 1.
  double intercept = 0;
  double slope = 0;
};

// Probabilities are clipped to [1e-12, 1 - 1e-12] before the logit. Errors: as Brier, and
// FailedPrecondition when all outcomes are equal (the recalibration has no finite fit).
Result<Calibration> Calibrate(const std::vector<double>& p, const std::vector<int>& y);

struct RiskBin {
  size_t n = 0;
  double mean_predicted = 0;
  double observed_rate = 0;
};
// Calibration plot data: rows sorted by p and cut into `bins` groups as equal in size as
// possible (deciles for 10). Errors: as Brier; bins < 1 or more bins than rows.
Result<std::vector<RiskBin>> CalibrationBins(const std::vector<double>& p, const std::vector<int>& y, int bins = 10);

// The threshold that flags the top `percent`% of scores: the score of the ceil(percent/100 x n)-th
// highest row; every row with score >= threshold is flagged (ties at the threshold included).
// Errors: percent outside (0, 100], no rows.
Result<double> TopThreshold(const std::vector<double>& score, double percent);

struct ErrorRates {
  size_t n = 0, flagged = 0, cases = 0;
  double false_positive_rate = 0;  // flagged controls / controls (0 when no controls)
  double false_negative_rate = 0;  // unflagged cases / cases (0 when no cases)
};
// Rates of flagging rows with score >= threshold.
ErrorRates RatesAt(const std::vector<double>& score, const std::vector<int>& y, double threshold);

struct GroupMetrics {
  std::string group;
  size_t n = 0, cases = 0;
  double mean_predicted = 0, observed_rate = 0, difference = 0;  // calibration-in-the-large
  double false_positive_rate = 0, false_negative_rate = 0;        // at the overall threshold
};
// Per subgroup (label of each row, e.g. deprivation quintile), in sorted label
// order: calibration-in-the-large and the error rates at the overall top-`percent`% threshold.
// Errors: as Brier and TopThreshold; group size differs from the rows.
Result<std::vector<GroupMetrics>> ByGroup(const std::vector<double>& p, const std::vector<int>& y,
                                          const std::vector<std::string>& group, double percent);

}  // namespace ark::stats
