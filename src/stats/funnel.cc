#include "stats/funnel.h"

#include <algorithm>
#include <cmath>

#include "stats/distributions.h"

namespace ark::stats {
namespace {

Status CheckTable(const std::vector<std::vector<double>>& t, const char* what, size_t strata) {
  for (size_t u = 0; u < t.size(); ++u) {
    if (t[u].size() != strata)
      return Status::InvalidArgument(std::string(what) + ": unit " + std::to_string(u + 1) + " has " +
                                     std::to_string(t[u].size()) + " strata, expected " + std::to_string(strata));
    for (size_t s = 0; s < strata; ++s)
      if (!std::isfinite(t[u][s]) || t[u][s] < 0)
        return Status::InvalidArgument(std::string(what) + ": unit " + std::to_string(u + 1) + ", stratum " +
                                       std::to_string(s + 1) + " must be finite and >= 0");
  }
  return Status::OK();
}

// The ratio at y = 1 + k (k may be negative), squared back from the square-root scale.
double Ratio(double k) { return std::pow(std::max(0.0, 1 + k), 2); }

// Standard deviation on the square-root scale at expected count e, overdispersion included.
double Spread(double e, const FunnelPlot& f) {
  const double s2 = 1 / (4 * e);
  switch (f.applied) {
    case Overdispersion::kNone: return std::sqrt(s2);
    case Overdispersion::kMultiplicative: return std::sqrt(f.phi * s2);
    case Overdispersion::kAdditive: return std::sqrt(s2 + f.tau2);
  }
  return std::sqrt(s2);
}

double WinsorisedMeanSquare(std::vector<double> z, double fraction) {
  std::sort(z.begin(), z.end());
  const size_t n = z.size(), k = static_cast<size_t>(std::floor(fraction * static_cast<double>(n)));
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    const double w = std::clamp(z[i], z[k], z[n - 1 - k]);
    sum += w * w;
  }
  return sum / static_cast<double>(n);
}

}  // namespace

Result<std::vector<double>> ReferenceRates(const std::vector<std::vector<double>>& events,
                                           const std::vector<std::vector<double>>& population) {
  if (events.empty() || events.size() != population.size())
    return Status::InvalidArgument("reference rates: events and population need the same units (at least one)");
  const size_t strata = population[0].size();
  ARK_RETURN_IF_ERROR(CheckTable(events, "reference rates: events", strata));
  ARK_RETURN_IF_ERROR(CheckTable(population, "reference rates: population", strata));
  std::vector<double> rates(strata);
  for (size_t s = 0; s < strata; ++s) {
    double o = 0, n = 0;
    for (size_t u = 0; u < events.size(); ++u) {
      o += events[u][s];
      n += population[u][s];
    }
    if (!(n > 0)) return Status::InvalidArgument("reference rates: stratum " + std::to_string(s + 1) + " has no people");
    rates[s] = o / n;
  }
  return rates;
}

Result<std::vector<double>> ExpectedCounts(const std::vector<std::vector<double>>& population,
                                           const std::vector<double>& rates) {
  ARK_RETURN_IF_ERROR(CheckTable(population, "expected counts: population", rates.size()));
  for (size_t s = 0; s < rates.size(); ++s)
    if (!std::isfinite(rates[s]) || rates[s] < 0)
      return Status::InvalidArgument("expected counts: rate of stratum " + std::to_string(s + 1) + " must be finite and >= 0");
  std::vector<double> e;
  for (const auto& row : population) {
    double sum = 0;
    for (size_t s = 0; s < rates.size(); ++s) sum += rates[s] * row[s];
    e.push_back(sum);
  }
  return e;
}

FunnelLimits FunnelLimitsAt(double expected, const FunnelPlot& f) {
  static const double z95 = NormalQuantile(0.975), z998 = NormalQuantile(0.999);
  const double sd = Spread(expected, f);
  return {expected, Ratio(-z95 * sd), Ratio(z95 * sd), Ratio(-z998 * sd), Ratio(z998 * sd)};
}

Result<FunnelPlot> Funnel(const std::vector<FunnelUnit>& units, const FunnelOptions& o) {
  if (units.empty()) return Status::InvalidArgument("funnel: no units");
  if (!(o.winsor >= 0 && o.winsor < 0.5)) return Status::InvalidArgument("funnel: winsor must be in [0, 0.5)");
  if (o.curve_points < 2) return Status::InvalidArgument("funnel: curve_points must be >= 2");
  if (o.overdispersion != Overdispersion::kNone && units.size() < 2)
    return Status::InvalidArgument("funnel: overdispersion needs at least two units");
  FunnelPlot f;
  std::vector<double> z;
  double sw = 0, sw2 = 0, emin = 0, emax = 0;
  for (size_t i = 0; i < units.size(); ++i) {
    const FunnelUnit& u = units[i];
    if (!std::isfinite(u.observed) || u.observed < 0 || !std::isfinite(u.expected) || !(u.expected > 0))
      return Status::InvalidArgument("funnel: unit " + std::to_string(i + 1) + " '" + u.name +
                                     "': observed must be >= 0 and expected > 0, both finite");
    FunnelPoint p{u.name, u.observed, u.expected, u.observed / u.expected, 2 * (std::sqrt(u.observed) - std::sqrt(u.expected))};
    z.push_back(p.z);
    f.points.push_back(p);
    sw += 4 * u.expected;
    sw2 += 16 * u.expected * u.expected;
    emin = i == 0 ? u.expected : std::min(emin, u.expected);
    emax = std::max(emax, u.expected);
  }
  const double n = static_cast<double>(units.size());
  if (units.size() >= 2) {
    f.phi = WinsorisedMeanSquare(z, o.winsor);
    f.tau2 = std::max(0.0, (n * f.phi - (n - 1)) / (sw - sw2 / sw));
  }
  if (o.overdispersion == Overdispersion::kMultiplicative && f.phi > 1) f.applied = Overdispersion::kMultiplicative;
  if (o.overdispersion == Overdispersion::kAdditive && f.tau2 > 0) f.applied = Overdispersion::kAdditive;
  static const double z95 = NormalQuantile(0.975), z998 = NormalQuantile(0.999);
  for (FunnelPoint& p : f.points) {
    p.z_adjusted = (std::sqrt(p.ratio) - 1) / Spread(p.expected, f);
    const double a = std::abs(p.z_adjusted);
    p.flag = (a > z998 ? 2 : a > z95 ? 1 : 0) * (p.z_adjusted < 0 ? -1 : 1);
  }
  const double lo = emin / 2, hi = 1.2 * emax;
  for (int j = 0; j < o.curve_points; ++j)
    f.curve.push_back(FunnelLimitsAt(lo * std::pow(hi / lo, j / static_cast<double>(o.curve_points - 1)), f));
  return f;
}

}  // namespace ark::stats
