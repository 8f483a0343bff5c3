#include "stats/meta.h"

#include <cmath>
#include <string>

#include "stats/distributions.h"

namespace ark::stats {
namespace {

Status Validate(const std::vector<double>& y, const std::vector<double>& v) {
  if (y.size() != v.size())
    return Status::InvalidArgument("meta-analysis: " + std::to_string(y.size()) + " estimates but " +
                                   std::to_string(v.size()) + " variances");
  if (y.size() < 2) return Status::InvalidArgument("meta-analysis needs at least two estimates");
  for (size_t i = 0; i < y.size(); ++i) {
    if (!std::isfinite(y[i])) return Status::InvalidArgument("meta-analysis: estimate " + std::to_string(i + 1) + " is not finite");
    if (!(v[i] > 0 && std::isfinite(v[i])))
      return Status::InvalidArgument("meta-analysis: variance " + std::to_string(i + 1) + " must be finite and > 0");
  }
  return Status::OK();
}

// Σw, Σw², the weighted mean and Σw(y - mean)² for weights 1 / (v + tau2).
struct Weighted {
  double s = 0, s2 = 0, s3 = 0, mean = 0, rss = 0, rss2 = 0;  // rss2 = Σ w² (y - mean)²
};

Weighted Weigh(const std::vector<double>& y, const std::vector<double>& v, double tau2) {
  Weighted w;
  double sy = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    const double wi = 1 / (v[i] + tau2);
    w.s += wi;
    w.s2 += wi * wi;
    w.s3 += wi * wi * wi;
    sy += wi * y[i];
  }
  w.mean = sy / w.s;
  for (size_t i = 0; i < y.size(); ++i) {
    const double wi = 1 / (v[i] + tau2), r = y[i] - w.mean;
    w.rss += wi * r * r;
    w.rss2 += wi * wi * r * r;
  }
  return w;
}

Result<double> RemlTau2(const std::vector<double>& y, const std::vector<double>& v, double start, int* iterations) {
  double tau2 = start;
  for (*iterations = 1; *iterations <= 1000; ++*iterations) {
    const Weighted w = Weigh(y, v, tau2);
    const double trace_p = w.s - w.s2 / w.s;
    const double trace_pp = w.s2 - 2 * w.s3 / w.s + w.s2 * w.s2 / (w.s * w.s);
    double step = (w.rss2 - trace_p) / trace_pp;
    while (tau2 + step < 0) step /= 2;
    tau2 += step;
    if (std::abs(step) < 1e-12) return tau2;
  }
  return Status::FailedPrecondition("meta-analysis: REML did not converge in 1000 iterations");
}

MetaInterval Wald(double estimate, double se) {
  MetaInterval m;
  const double z = NormalQuantile(0.975);
  m.se = se;
  m.low = estimate - z * se;
  m.high = estimate + z * se;
  m.statistic = estimate / se;
  m.p_value = std::erfc(std::abs(m.statistic) / std::sqrt(2.0));
  return m;
}

MetaInterval Hksj(double estimate, const Weighted& w, int k) {
  MetaInterval m;
  const double df = k - 1;
  const double s2w = w.rss <= 2.220446049250313e-16 ? 0 : w.rss / df;  // as metafor
  m.se = std::sqrt(s2w / w.s);
  const double t = StudentTQuantile(0.975, df);
  m.low = estimate - t * m.se;
  m.high = estimate + t * m.se;
  m.statistic = estimate / m.se;
  m.p_value = 2 * StudentTCdf(-std::abs(m.statistic), df);
  return m;
}

}  // namespace

Result<MetaResult> RandomEffectsMeta(const std::vector<double>& y, const std::vector<double>& v, Tau2Method method) {
  ARK_RETURN_IF_ERROR(Validate(y, v));
  MetaResult r;
  r.k = static_cast<int>(y.size());
  const Weighted fe = Weigh(y, v, 0);
  const double trace_p = fe.s - fe.s2 / fe.s;
  r.q = fe.rss;
  r.q_p_value = ChiSquaredUpperTail(r.q, r.k - 1);
  r.tau2 = std::max(0.0, (r.q - (r.k - 1)) / trace_p);  // DerSimonian–Laird
  if (method == Tau2Method::kReml) {
    ARK_ASSIGN_OR_RETURN(r.tau2, RemlTau2(y, v, r.tau2, &r.reml_iterations));
  }
  const Weighted re = Weigh(y, v, r.tau2);
  r.estimate = re.mean;
  r.wald = Wald(r.estimate, 1 / std::sqrt(re.s));
  r.hksj = Hksj(r.estimate, re, r.k);
  const double s2 = (r.k - 1) / trace_p;
  r.i2 = 100 * r.tau2 / (s2 + r.tau2);
  r.h2 = (r.tau2 + s2) / s2;
  return r;
}

}  // namespace ark::stats
