// The network part of `ark demo` (issue 15): four regions, each synthesised with its own profile
// (`ark synth --profile default|young-deprived|old-affluent|mixed`) and built into its own Ark with
// its own keys, served by `ark network serve` on loopback; the federated project approved by each
// region's committee; then a federated measure, a federated logistic regression (beside the pooled
// fit, computed here for comparison only), a meta-analysis, counts per practice for funnel plots
// and empirical-Bayes rates. Returns the report section (report/network_section.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ark/status.h"

namespace ark::cli {

// `largest` is the size of the largest region (young-deprived); the others are scaled by their
// profiles' sizes. Works in `work` (created); the servers are stopped before it returns.
Result<std::string> NetworkDemo(const std::string& work, int largest, uint64_t seed, int threads, nlohmann::ordered_json* summary);

}  // namespace ark::cli
