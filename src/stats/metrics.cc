#include "stats/metrics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "stats/logistic.h"

namespace ark::stats {
namespace {

Status CheckScores(const std::vector<double>& s, const std::vector<int>& y, bool probabilities) {
  if (s.size() != y.size())
    return Status::InvalidArgument(std::to_string(s.size()) + " scores but " + std::to_string(y.size()) + " outcomes");
  if (s.empty()) return Status::InvalidArgument("no rows");
  for (size_t i = 0; i < s.size(); ++i) {
    if (y[i] != 0 && y[i] != 1)
      return Status::InvalidArgument("row " + std::to_string(i + 1) + ": outcome " + std::to_string(y[i]) + " is not 0 or 1");
    if (!std::isfinite(s[i])) return Status::InvalidArgument("row " + std::to_string(i + 1) + ": score is not finite");
    if (probabilities && (s[i] < 0 || s[i] > 1))
      return Status::InvalidArgument("row " + std::to_string(i + 1) + ": probability " + std::to_string(s[i]) +
                                     " is outside [0, 1]");
  }
  return Status::OK();
}

// DeLong's placement of x: the mean over `others` (sorted) of 1 when x ranks above the other
// (x a case above a control, or x a control below a case), 1/2 when tied, 0 otherwise.
double Placement(double x, const std::vector<double>& others, bool x_is_case) {
  const auto lo = std::lower_bound(others.begin(), others.end(), x);
  const auto hi = std::upper_bound(lo, others.end(), x);
  const double below = static_cast<double>(lo - others.begin()), equal = static_cast<double>(hi - lo);
  const double above = static_cast<double>(others.end() - hi);
  return ((x_is_case ? below : above) + 0.5 * equal) / static_cast<double>(others.size());
}

double Logit(double p) {
  p = std::clamp(p, 1e-12, 1 - 1e-12);
  return std::log(p / (1 - p));
}

}  // namespace

Result<Roc> Auroc(const std::vector<double>& score, const std::vector<int>& y) {
  ARK_RETURN_IF_ERROR(CheckScores(score, y, false));
  std::vector<double> cases, controls;
  for (size_t i = 0; i < y.size(); ++i) (y[i] ? cases : controls).push_back(score[i]);
  if (cases.empty() || controls.empty()) return Status::InvalidArgument("AUROC needs at least one case and one control");
  std::sort(cases.begin(), cases.end());
  std::sort(controls.begin(), controls.end());
  Roc r;
  r.cases = cases.size(), r.controls = controls.size();
  std::vector<double> v10(cases.size()), v01(controls.size());
  for (size_t i = 0; i < cases.size(); ++i) v10[i] = Placement(cases[i], controls, true);
  for (size_t j = 0; j < controls.size(); ++j) v01[j] = Placement(controls[j], cases, false);
  r.auc = std::accumulate(v10.begin(), v10.end(), 0.0) / static_cast<double>(cases.size());
  if (cases.size() < 2 || controls.size() < 2) {  // DeLong's variance needs two of each
    r.ci_low = r.ci_high = r.auc;
    return r;
  }
  auto spread = [&](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += (x - r.auc) * (x - r.auc);
    return s / static_cast<double>(v.size() - 1);
  };
  r.se = std::sqrt(spread(v10) / static_cast<double>(cases.size()) + spread(v01) / static_cast<double>(controls.size()));
  r.ci_low = std::max(0.0, r.auc - 1.959963984540054 * r.se);
  r.ci_high = std::min(1.0, r.auc + 1.959963984540054 * r.se);
  return r;
}

Result<double> Auprc(const std::vector<double>& score, const std::vector<int>& y) {
  ARK_RETURN_IF_ERROR(CheckScores(score, y, false));
  std::vector<size_t> order(score.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] > score[b]; });
  const double positives = std::accumulate(y.begin(), y.end(), 0.0);
  if (positives == 0) return Status::InvalidArgument("AUPRC needs at least one case");
  double tp = 0, fp = 0, ap = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    double new_tp = 0;
    while (j < order.size() && score[order[j]] == score[order[i]]) new_tp += y[order[j]], ++j;
    fp += static_cast<double>(j - i) - new_tp;
    tp += new_tp;
    ap += (new_tp / positives) * (tp / (tp + fp));
    i = j;
  }
  return ap;
}

Result<double> Brier(const std::vector<double>& p, const std::vector<int>& y) {
  ARK_RETURN_IF_ERROR(CheckScores(p, y, true));
  double s = 0;
  for (size_t i = 0; i < p.size(); ++i) s += (p[i] - y[i]) * (p[i] - y[i]);
  return s / static_cast<double>(p.size());
}

Result<Calibration> Calibrate(const std::vector<double>& p, const std::vector<int>& y) {
  ARK_RETURN_IF_ERROR(CheckScores(p, y, true));
  Calibration c;
  const double n = static_cast<double>(p.size());
  c.mean_predicted = std::accumulate(p.begin(), p.end(), 0.0) / n;
  c.observed_rate = std::accumulate(y.begin(), y.end(), 0.0) / n;
  c.difference = c.mean_predicted - c.observed_rate;
  if (c.observed_rate == 0 || c.observed_rate == 1)
    return Status::FailedPrecondition("calibration intercept and slope need both outcomes among the rows");
  std::vector<double> lp(p.size());
  for (size_t i = 0; i < p.size(); ++i) lp[i] = Logit(p[i]);
  ARK_ASSIGN_OR_RETURN(LogisticModel in_large, FitLogistic(Design{p.size(), 0, {}}, y, {}, lp));
  c.intercept = in_large.intercept;
  ARK_ASSIGN_OR_RETURN(LogisticModel slope, FitLogistic(Design{p.size(), 1, lp}, y));
  c.slope = slope.coefficients[0];
  return c;
}

Result<std::vector<RiskBin>> CalibrationBins(const std::vector<double>& p, const std::vector<int>& y, int bins) {
  ARK_RETURN_IF_ERROR(CheckScores(p, y, true));
  if (bins < 1 || static_cast<size_t>(bins) > p.size())
    return Status::InvalidArgument("bins must be between 1 and the number of rows");
  std::vector<size_t> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  std::vector<RiskBin> out(static_cast<size_t>(bins));
  const size_t n = p.size(), b = static_cast<size_t>(bins);
  for (size_t k = 0; k < n; ++k) {
    RiskBin& bin = out[k * b / n];
    ++bin.n;
    bin.mean_predicted += p[order[k]];
    bin.observed_rate += y[order[k]];
  }
  for (RiskBin& bin : out) bin.mean_predicted /= static_cast<double>(bin.n), bin.observed_rate /= static_cast<double>(bin.n);
  return out;
}

Result<double> TopThreshold(const std::vector<double>& score, double percent) {
  if (!(percent > 0 && percent <= 100)) return Status::InvalidArgument("percent must be in (0, 100]");
  if (score.empty()) return Status::InvalidArgument("no rows");
  std::vector<double> s = score;
  const size_t k = std::max<size_t>(1, static_cast<size_t>(std::ceil(percent / 100 * static_cast<double>(s.size()) - 1e-9)));
  std::nth_element(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(k - 1), s.end(), std::greater<>());
  return s[k - 1];
}

ErrorRates RatesAt(const std::vector<double>& score, const std::vector<int>& y, double threshold) {
  ErrorRates r;
  size_t fp = 0, fn = 0;
  r.n = score.size();
  for (size_t i = 0; i < score.size(); ++i) {
    const bool flag = score[i] >= threshold;
    r.flagged += flag;
    r.cases += y[i] == 1;
    fp += flag && y[i] == 0;
    fn += !flag && y[i] == 1;
  }
  const size_t controls = r.n - r.cases;
  r.false_positive_rate = controls ? static_cast<double>(fp) / static_cast<double>(controls) : 0;
  r.false_negative_rate = r.cases ? static_cast<double>(fn) / static_cast<double>(r.cases) : 0;
  return r;
}

Result<std::vector<GroupMetrics>> ByGroup(const std::vector<double>& p, const std::vector<int>& y,
                                          const std::vector<std::string>& group, double percent) {
  ARK_RETURN_IF_ERROR(CheckScores(p, y, true));
  if (group.size() != p.size()) return Status::InvalidArgument("group labels differ in number from the rows");
  ARK_ASSIGN_OR_RETURN(double threshold, TopThreshold(p, percent));
  std::map<std::string, std::pair<std::vector<double>, std::vector<int>>> rows;
  for (size_t i = 0; i < p.size(); ++i) rows[group[i]].first.push_back(p[i]), rows[group[i]].second.push_back(y[i]);
  std::vector<GroupMetrics> out;
  for (const auto& [label, py] : rows) {
    GroupMetrics g;
    g.group = label;
    const ErrorRates r = RatesAt(py.first, py.second, threshold);
    g.n = r.n, g.cases = r.cases;
    g.mean_predicted = std::accumulate(py.first.begin(), py.first.end(), 0.0) / static_cast<double>(g.n);
    g.observed_rate = static_cast<double>(g.cases) / static_cast<double>(g.n);
    g.difference = g.mean_predicted - g.observed_rate;
    g.false_positive_rate = r.false_positive_rate, g.false_negative_rate = r.false_negative_rate;
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace ark::stats
