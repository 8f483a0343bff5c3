// Network operations that borrow strength across sites, from aggregates only (issue 15):
//
//  "estimate" — each site fits the GLM on its own rows (after the model disclosure rules,
//    model_guard.h, and the residual-df minimum) and returns its coefficients and standard errors;
//    the coordinator pools one coefficient by random-effects meta-analysis (stats/meta.h:
//    DerSimonian–Laird and REML, Wald and Hartung–Knapp–Sidik–Jonkman intervals).
//  "counts" — each site returns, per unit (e.g. practice) and per stratum (e.g. age band × sex),
//    its event and people counts under OpenSAFELY's rules (7 or fewer redacted, others rounded to
//    5: disclosure/opensafely.h); a unit with either count redacted is withheld (only how many is
//    said). When the request carries reference rates per stratum, each unit also gets its expected
//    count Σ_s rate_s × people_us (to 0.01; a unit's expected count is a weighted sum of its
//    stratum sizes, given for units of more than 7 people only). The population passes
//    nfilter.subset and the differencing guard first.
//
// The coordinator (RunFederatedCounts) makes one round trip without rates, takes the network's
// reference rates from the published stratum counts (a stratum redacted at a site leaves that
// site out of that stratum's rate), then a second round trip with them. From the result:
// NetworkEbRates shrinks unit rates across the network (stats/eb.h), NetworkFunnel draws units
// (or whole sites) as indirectly standardised ratios (stats/funnel.h) from the rounded observed
// counts. Nothing row-level leaves a site; every exchange is on both ledgers (client.h, server.h).
//
// Example:
//   ARK_ASSIGN_OR_RETURN(NetworkMeta m, RunFederatedMeta(site, def, spec, "age_years", "fed", "ana", o));
//   ARK_ASSIGN_OR_RETURN(NetworkUnits u, RunFederatedCounts(site, def, {"admitted", "practice", {"age_band", "sex"}}, ...));
//   ARK_ASSIGN_OR_RETURN(stats::EbRates eb, NetworkEbRates(u));
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "ark/status.h"
#include "network/client.h"
#include "network/glm.h"
#include "network/site.h"
#include "stats/eb.h"
#include "stats/funnel.h"
#include "stats/meta.h"

namespace ark::net {

// ---- meta-analysis of per-site estimates ----

// Site side of "estimate": {"site", "terms", "beta", "se", "n_band"}.
Result<Json> EstimateAtSite(const Site& site, const Request& r);

struct NetworkMeta {
  std::string term;
  std::vector<std::string> sites;
  std::vector<double> estimate, variance;  // per site: β_term and se²
  stats::MetaResult dl, reml;
  std::vector<Exchange> exchanges;
};

// FailedPrecondition naming each site that refused, erred or did not answer; InvalidArgument when
// `term` is not one of the model's terms.
Result<NetworkMeta> RunFederatedMeta(const Site& site, const std::string& definition_path, const GlmSpec& spec,
                                     const std::string& term, const std::string& project, const std::string& user,
                                     std::chrono::milliseconds deadline);

// ---- counts per unit: empirical Bayes and funnel plots ----

struct CountsSpec {
  std::string event;                // bool (T = 1) or int (summed) variable
  std::string unit;                 // the unit's variable (e.g. practice); NULL units are left out
  std::vector<std::string> strata;  // variables whose values, joined by "|", make the stratum
};

// Site side of "counts": {"site", "strata": [{"stratum", "events", "people"}], "units": [{"unit",
// "events", "people", "expected"?}], "withheld": k}; counts are published (rounded) or null (redacted).
Result<Json> CountsAtSite(const Site& site, const Request& r);

struct UnitCounts {
  std::string site, unit;  // unit as the site names it
  int64_t events = 0, people = 0;  // published (rounded to 5)
  double expected = 0;             // against the network's reference rates
};

struct NetworkUnits {
  std::vector<std::string> sites;
  std::vector<std::string> strata;                 // sorted
  std::vector<double> reference_rates;             // per stratum
  std::vector<UnitCounts> units;                   // all sites' published units
  std::vector<UnitCounts> site_totals;             // one per site: Σ strata (published), expected
  int withheld = 0;                                // units withheld at the sites (redacted counts)
  std::vector<Exchange> exchanges;                 // both round trips
};

Result<NetworkUnits> RunFederatedCounts(const Site& site, const std::string& definition_path, const CountsSpec& spec,
                                        const std::string& project, const std::string& user, std::chrono::milliseconds deadline);

// Reference rates Σ events / Σ people per stratum over the sites' published stratum counts
// (json arrays as CountsAtSite answers); a stratum redacted at a site leaves that site out of it.
std::vector<double> ReferenceRatesFromStrata(const std::vector<std::string>& strata, const std::vector<Json>& site_strata);

// Units' rates shrunk across the network (events / people, in `units` order).
Result<stats::EbRates> NetworkEbRates(const std::vector<UnitCounts>& units);
// Funnel of units (observed = published events, expected as computed) under `options`.
Result<stats::FunnelPlot> NetworkFunnel(const std::vector<UnitCounts>& units, const stats::FunnelOptions& options = {});

}  // namespace ark::net
