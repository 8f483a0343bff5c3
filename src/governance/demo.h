// The governance part of `ark demo`: on a built Ark, creates users and an approved planning
// project, runs two analyses under it (opt-outs applied, fail closed), checks and releases their
// outputs, shows that the security rules refuse what they must, and leaves a ledger with a signed
// checkpoint that `ark ledger verify ARK` accepts. Returns an HTML fragment for the report: the
// public register of projects and releases, the refusals, and the signed checkpoint.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ark/status.h"

namespace ark::gov {

struct GovernanceDemo {
  std::string html;               // a <section> for the report (self-contained, no scripts)
  nlohmann::ordered_json summary; // project, releases, ledger size/root, refusals
};

// `ark_dir`: a built Ark (catalog + store). `work_dir`: where the analyses' raw outputs are
// written before submission (e.g. <out>/governance); created if missing.
Result<GovernanceDemo> RunGovernanceDemo(const std::string& ark_dir, const std::string& work_dir);

}  // namespace ark::gov
