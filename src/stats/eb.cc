#include "stats/eb.h"

#include <cfloat>
#include <cmath>
#include <string>

namespace ark::stats {

Result<EbRates> EmpiricalBayesRates(const std::vector<double>& n, const std::vector<double>& x) {
  if (n.size() != x.size())
    return Status::InvalidArgument("EB rates: " + std::to_string(n.size()) + " event counts but " +
                                   std::to_string(x.size()) + " populations");
  if (n.empty()) return Status::InvalidArgument("EB rates: no areas");
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string area = "EB rates: area " + std::to_string(i + 1) + ": ";
    if (!std::isfinite(n[i]) || n[i] < 0) return Status::InvalidArgument(area + "events must be finite and >= 0");
    if (!std::isfinite(x[i]) || x[i] < DBL_EPSILON) return Status::InvalidArgument(area + "population must be finite and > 0");
  }
  EbRates r;
  const double m = static_cast<double>(n.size());
  double nsum = 0, xsum = 0;
  for (size_t i = 0; i < n.size(); ++i) {
    nsum += n[i];
    xsum += x[i];
    r.raw.push_back(n[i] / x[i]);
  }
  r.b = nsum / xsum;
  double s2 = 0;
  for (size_t i = 0; i < n.size(); ++i) s2 += x[i] * ((r.raw[i] - r.b) * (r.raw[i] - r.b) / xsum);
  r.a = s2 - r.b / (xsum / m);
  if (r.a < 0) {
    r.a = 0;
    r.a_truncated = true;
  }
  for (size_t i = 0; i < n.size(); ++i) {
    const double denom = r.a + r.b / x[i];
    r.weight.push_back(denom > 0 ? r.a / denom : 0);
    r.estimate.push_back(r.b + r.weight.back() * (r.raw[i] - r.b));
  }
  return r;
}

}  // namespace ark::stats
