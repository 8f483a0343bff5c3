// The coordinator: `ark network run` from one site's Ark. Who asks is a user of that Ark
// (authenticated by their token there); the request names them to the other sites as USER, signed
// by this site, and each site checks that its own committee approved USER@THIS-SITE on the project.
//
// Example:
//   ARK_ASSIGN_OR_RETURN(Site s, LoadSite(ark, "net.yaml"));
//   ARK_RETURN_IF_ERROR(AuthoriseCoordinator(s, "ana", token, "fed-diabetes"));
//   ARK_ASSIGN_OR_RETURN(FederatedMeasures m, RunFederatedMeasure(s, "def.yaml", "fed-diabetes", "ana", 30s));
//   ARK_RETURN_IF_ERROR(WriteFederatedMeasures(m, "out/fed"));
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "ark/status.h"
#include "network/client.h"
#include "network/site.h"

namespace ark::net {

// The user is identified by their token on this Ark (gov::Identify: a refusal is logged), and the
// project must be approved here with USER@SITE among its people (gov::AuthoriseRun).
Status AuthoriseCoordinator(const Site& site, const std::string& user, const std::string& token, const std::string& project);

struct FederatedMeasures {
  std::vector<Exchange> sites;                                    // member order
  std::map<std::string, std::map<std::string, std::string>> per_site;  // site -> measure -> released CSV
  std::map<std::string, std::string> pooled;                      // measure -> pooled CSV
  std::map<std::string, std::string> withheld;                    // "site/measure" -> the rule that withheld it
};

// Sends the definition to every member (in parallel, each with `deadline`) and pools the answers.
// FailedPrecondition naming every site that refused, failed or did not answer within its deadline
// (and why): a pooled figure over part of the network is never returned as the network's.
Result<FederatedMeasures> RunFederatedMeasure(const Site& site, const std::string& definition_path, const std::string& project,
                                              const std::string& user, std::chrono::milliseconds deadline);

// DIR/sites/<site>/<measure>.csv, DIR/pooled/<measure>.csv and DIR/network.json (each site's
// outcome, request and answer hashes, seconds), published atomically.
Status WriteFederatedMeasures(const FederatedMeasures& m, const std::string& out_dir);

}  // namespace ark::net
