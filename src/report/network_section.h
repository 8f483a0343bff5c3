// The report section "Network: four regions that borrow strength" (issue 15): what a network of
// Arks answered from aggregates only — per-region and pooled measures, a federated logistic
// regression beside the pooled fit (computed by the demo from the regions' rows for comparison
// only: in a real network nobody holds them together), a meta-analysis of one coefficient, a
// funnel plot of regions and of practices, and empirical-Bayes shrunk practice rates.
//
// Every count shown is as the sites released it (OpenSAFELY's rules: 7 or fewer redacted, others
// rounded to 5); ratios, funnel positions and shrunk rates are computed from those rounded counts;
// units a site withheld are counted, not shown.
//
// Example:
//   NetworkFigures f;  // filled by the demo from the network's answers
//   html += NetworkSectionHtml(f, &json["network"]);
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "stats/meta.h"

namespace ark {

struct NetworkRegionInfo {
  std::string site, profile, population_band;
  double seconds = 0;  // its answer to the federated measure
};

struct NetworkUnit {
  std::string site, unit;
  int64_t events = 0, people = 0;  // as released (rounded)
  double expected = 0;
};

struct NetworkFigures {
  std::vector<NetworkRegionInfo> regions;
  // One measure over intervals: per region, then the pool (last); nullopt = redacted.
  std::string measure;
  std::vector<std::string> intervals;
  std::vector<std::vector<std::optional<int64_t>>> numerator, denominator;  // [region..., pooled][interval]
  // The federated fit and the pooled one (same terms).
  std::vector<std::string> terms;
  std::vector<double> fed_beta, fed_se, pooled_beta, pooled_se;
  int64_t n = 0;
  int iterations = 0, round_trips = 0, exchanges = 0;
  uint64_t bytes = 0;
  double fed_seconds = 0, pooled_seconds = 0;
  // A meta-analysis of one term's per-region estimates.
  std::string meta_term;
  std::vector<double> meta_estimate, meta_variance;
  std::optional<stats::MetaResult> meta_dl, meta_reml;
  // Counts per practice and per region (regions: unit = site) for the funnel and EB.
  std::vector<NetworkUnit> practices, region_totals;
  int withheld = 0;
  // The ledgers.
  int ledger_exchanges = 0;  // exchanges the coordinator made (each on both ledgers)
  bool ledgers_verified = false;
};

std::string NetworkSectionHtml(const NetworkFigures& f, nlohmann::ordered_json* out);

}  // namespace ark
