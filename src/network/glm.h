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
// when its residual degrees of freedom are below the disclosure minimum (sdc: 10).
//
// Coordinator side (RunFederatedGlm): stats::FitGlmFederated with one Broadcast per iteration; a
// site that does not answer has its step retried, up to `retries` times `retry_pause`
// apart, so a site that dies mid-fit and comes back resumes the fit from the last iterate; beyond
// that the fit fails naming the site. Refusals and errors (which a retry would repeat) are not.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "ark/status.h"
#include "core/event.h"
#include "network/client.h"
#include "network/site.h"
#include "stats/glm.h"
#include "study/engine.h"
#include "study/feeds.h"

namespace ark::net {

struct GlmSpec {
  std::string outcome;
  std::vector<std::string> covariates;
  std::string offset;  // "" = none
  stats::GlmFamily family = stats::GlmFamily::kBinomial;
};

// The request body: the definition (as MeasureRequestBody) and the model.
Result<Json> GlmRequestBody(const std::string& definition_path, const GlmSpec& spec);

// The site's design for a definition and model (also used by tests for the pooled fit), reading
// only events of `feeds` (nullopt: every feed).
Result<stats::GlmData> GlmDesign(const std::string& ark_dir, const std::string& definition_path, const GlmSpec& spec,
                                 study::Purpose purpose, std::vector<PersonKey>* persons,
                                 const study::Feeds& feeds = std::nullopt);

// The site's answer to one "glm" request: {"n", "p", "xtwx", "xtwz", "deviance", "sum_w", "sum_wy",
// "sum_wh", "has_offset"} at body "beta" (empty: the start).
Result<Json> GlmAtSite(const Site& site, const Request& r);

struct GlmRunOptions {
  std::chrono::milliseconds deadline{60000};  // per site and round trip
  int retries = 5;
  std::chrono::milliseconds retry_pause{1000};
};

struct GlmRun {
  stats::GlmFit fit;
  int exchanges = 0, retried = 0;
  uint64_t bytes = 0;  // request and answer texts, all sites
  std::vector<std::string> names;  // "(Intercept)", covariates...
};

Result<GlmRun> RunFederatedGlm(const Site& site, const std::string& definition_path, const GlmSpec& spec,
                               const std::string& project, const std::string& user, const GlmRunOptions& o);

}  // namespace ark::net
