// Federated GLMs (linear, logistic, Poisson with offset) by Fisher scoring over the network: each
// iteration is one round trip to every site, each site returning only its contribution at the
// current coefficients (XᵀWX, XᵀWz, deviance and a few sums: stats/glm.h), never rows. The fit
// equals the pooled fit on the union of the sites' rows.
//
// Site side (GlmAtSite): the same governance as a measure (measure.h: the project approved by this
// site's committee for USER@S). The design comes from the study definition sent with the request:
// the outcome, covariates and optional offset are variables of its dataset (bool as 0/1, int,
// float; a row with any of them missing is left out), evaluated by the native engine with the
// project's purpose and opt-outs, and recorded once per fit (gov::RecordRun, "run.executed"). The
// site keeps the design in memory for the fit (keyed by requester, project and request), so later
// iterations do not re-read the Ark; a restarted site rebuilds it. A site refuses (naming the rule)
// when its residual degrees of freedom are below the disclosure minimum (sdc: 10), and before any
// contribution of a new fit applies the model disclosure rules (model_guard.h: nfilter.subset,
// nfilter.glm, nfilter.tab, factor levels, differencing against the project's earlier requests);
// a refusal names the site and the rule.
//
// Coordinator side (RunFederatedGlm): stats::FitGlmFederated with one Broadcast per iteration; a
// site that does not answer has its step retried, up to `retries` times `retry_pause`
// apart, so a site that dies mid-fit and comes back resumes the fit from the last iterate; beyond
// that the fit fails naming the site. Refusals and errors (which a retry would repeat) are not.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "ark/status.h"
#include "core/event.h"
#include "disclosure/model_rules.h"
#include "network/client.h"
#include "network/site.h"
#include "stats/glm.h"
#include "study/engine.h"
#include "study/feeds.h"

namespace ark::net {

// A factor covariate: the variable's values (its dataset text) in `levels`, the first the
// reference; one 0/1 column per other level, named "NAME=LEVEL". A row whose value is not one of
// the levels (or NULL) is left out, as a missing value is.
struct GlmFactor {
  std::string name;
  std::vector<std::string> levels;
};

struct GlmSpec {
  std::string outcome;
  std::vector<std::string> covariates;
  std::vector<GlmFactor> factors;
  std::string offset;  // "" = none
  stats::GlmFamily family = stats::GlmFamily::kBinomial;
};

// "(Intercept)", the covariates, then each factor's non-reference levels as "NAME=LEVEL".
std::vector<std::string> GlmTermNames(const GlmSpec& spec);

// Parses "NAME=L1|L2|L3" (the CLI's --factor): at least two distinct levels.
Result<GlmFactor> ParseGlmFactor(const std::string& text);

// The request body: the definition (as MeasureRequestBody) and the model.
Result<Json> GlmRequestBody(const std::string& definition_path, const GlmSpec& spec);

// The site's design for a definition and model (also used by tests for the pooled fit), reading
// only events of `feeds` (nullopt: every feed); the rows at each level of each factor go to
// `factor_counts` when given.
Result<stats::GlmData> GlmDesign(const std::string& ark_dir, const std::string& definition_path, const GlmSpec& spec,
                                 study::Purpose purpose, std::vector<PersonKey>* persons,
                                 std::vector<sdc::FactorLevels>* factor_counts = nullptr,
                                 const study::Feeds& feeds = std::nullopt);

// The model disclosure rules (model_guard.h) on a site's design for `spec`: what GlmAtSite checks
// before it computes anything for a new fit.
sdc::ModelDesign GlmModelDesign(const stats::GlmData& d, const GlmSpec& spec, const std::vector<sdc::FactorLevels>& factors);

// The site's answer to one "glm" request: {"n", "p", "xtwx", "xtwz", "deviance", "sum_w", "sum_wy",
// "sum_wh", "has_offset"} at body "beta" (empty: the start).
Result<Json> GlmAtSite(const Site& site, const Request& r);

struct GlmRunOptions {
  std::chrono::milliseconds deadline{60000};  // per site and round trip
  int retries = 5;
  std::chrono::milliseconds retry_pause{1000};
  std::function<void(int round_trip)> before_round = nullptr;  // called before each round trip (0, 1, ...): tests
};

struct GlmRun {
  stats::GlmFit fit;
  int exchanges = 0, retried = 0;
  uint64_t bytes = 0;  // request and answer texts, all sites
  std::vector<double> round_seconds;  // wall time of each round trip (0: the start, which builds the designs)
  std::vector<std::string> names;  // "(Intercept)", covariates...
};

Result<GlmRun> RunFederatedGlm(const Site& site, const std::string& definition_path, const GlmSpec& spec,
                               const std::string& project, const std::string& user, const GlmRunOptions& o);

}  // namespace ark::net
