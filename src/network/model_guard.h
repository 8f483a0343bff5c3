// The model disclosure rules (disclosure/model_rules.h) as a site applies them to a network
// request, before anything is computed for the requester: DataSHIELD's nfilter.subset, nfilter.glm,
// nfilter.tab, factor levels, and the differencing guard against the populations of the earlier
// model requests in the same project at this site (all requesters: an attacker may use two names).
// The populations are kept in the Ark's catalog (table net_model_populations), so a restarted
// site still remembers them; a request with the same N as an earlier one is allowed (a retry, the
// same population again).
//
// A refusal is PermissionDenied "site 'NAME': RULE: why: refused", on this site's ledger (a
// "refusal" entry, gov::LogRefusal), and the server turns it into a signed refusal.
#pragma once

#include <string>
#include <vector>

#include "ark/status.h"
#include "disclosure/model_rules.h"
#include "network/site.h"

namespace ark::net {

// Checks `design` (CheckModelRequest) against the project's earlier populations, then records its N.
Status GuardModelRequest(const Site& site, const std::string& who, const std::string& project, const sdc::ModelDesign& design);

// Only nfilter.subset on N and the differencing guard (operations without a design, e.g. counts).
Status GuardPopulation(const Site& site, const std::string& who, const std::string& project, int64_t n);

// The populations of the earlier model requests in `project` at this Ark.
Result<std::vector<int64_t>> EarlierPopulations(const std::string& ark_dir, const std::string& project);

}  // namespace ark::net
