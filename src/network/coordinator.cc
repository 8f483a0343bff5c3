#include "network/coordinator.h"

#include "catalog/catalog.h"
#include "core/fs.h"
#include "governance/gate.h"
#include "governance/governance.h"
#include "network/measure.h"

namespace ark::net {

Status AuthoriseCoordinator(const Site& site, const std::string& user, const std::string& token, const std::string& project) {
  ARK_ASSIGN_OR_RETURN(auto cat, Catalog::Open(site.ark_dir));
  ARK_RETURN_IF_ERROR(gov::EnsureGovernanceSchema(*cat));
  ARK_ASSIGN_OR_RETURN(gov::Actor who, gov::Identify(*cat, user, token));
  if (project.empty()) return Status::InvalidArgument("a federated request needs --project");
  auto p = gov::GetProject(*cat, project);
  if (!p.ok()) return gov::LogRefusal(site.ark_dir, user, Status::PermissionDenied("no project '" + project + "' at this site"));
  gov::Actor fed{user + "@" + site.config.name, who.roles};
  return gov::AuthoriseRun(*cat, fed, *p, {}, gov::Today());
}

Result<FederatedMeasures> RunFederatedMeasure(const Site& site, const std::string& definition_path, const std::string& project,
                                              const std::string& user, std::chrono::milliseconds deadline) {
  ARK_ASSIGN_OR_RETURN(Json body, MeasureRequestBody(definition_path));
  FederatedMeasures m;
  m.sites = Broadcast(site, "measure", project, user, body, deadline);
  const std::string failures = DescribeFailures(m.sites);
  if (!failures.empty()) return Status::FailedPrecondition("federated measure not complete: " + failures);
  std::map<std::string, std::vector<std::string>> by_measure;
  for (const auto& x : m.sites) {
    if (!x.body.contains("measures") || !x.body["measures"].is_array()) {
      return Status::FailedPrecondition(x.site + " answered without measures");
    }
    for (const auto& t : x.body["measures"]) {
      const std::string name = t.value("name", std::string());
      if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') return Status::FailedPrecondition(x.site + ": bad measure name");
      if (!t.contains("csv")) {
        m.withheld[x.site + "/" + name] = t.value("summary", std::string("withheld"));
        continue;
      }
      m.per_site[x.site][name] = t["csv"].get<std::string>();
      by_measure[name].push_back(t["csv"].get<std::string>());
    }
  }
  for (auto& [name, csvs] : by_measure) {
    // A measure withheld at any site cannot be pooled: the pool would silently be another population.
    bool complete = true;
    for (const auto& x : m.sites) complete = complete && !m.withheld.count(x.site + "/" + name);
    if (!complete) continue;
    auto pooled = PoolMeasures(csvs);
    if (!pooled.ok()) return pooled.status().WithContext("pooling " + name);
    m.pooled[name] = *pooled;
  }
  return m;
}

Status WriteFederatedMeasures(const FederatedMeasures& m, const std::string& out_dir) {
  if (PathExists(out_dir) && !PathExists(out_dir + "/network.json")) {
    return Status::FailedPrecondition(out_dir + " exists and is not an earlier federated run's directory: not replaced");
  }
  const std::string tmp = out_dir + ".tmp-" + std::to_string(UnixNow());
  (void)RemoveAll(tmp);
  for (const auto& [site, tables] : m.per_site) {
    ARK_RETURN_IF_ERROR(MakeDirs(tmp + "/sites/" + site));
    for (const auto& [name, csv] : tables) ARK_RETURN_IF_ERROR(WriteFileAtomic(tmp + "/sites/" + site + "/" + name + ".csv", csv));
  }
  ARK_RETURN_IF_ERROR(MakeDirs(tmp + "/pooled"));
  for (const auto& [name, csv] : m.pooled) ARK_RETURN_IF_ERROR(WriteFileAtomic(tmp + "/pooled/" + name + ".csv", csv));
  Json sites = Json::array();
  for (const auto& x : m.sites) {
    sites.push_back({{"site", x.site}, {"outcome", OutcomeName(x.outcome)}, {"request_sha256", x.request_sha256},
                     {"answer_sha256", x.answer_sha256}, {"seconds", x.seconds},
                     {"population_band", x.body.value("population_band", std::string())},
                     {"rules", x.body.value("rules", std::string())}});
  }
  Json withheld = Json::object();
  for (const auto& [k, why] : m.withheld) withheld[k] = why;
  Json j = {{"sites", sites}, {"pooled", Json::array()}, {"withheld", withheld}};
  for (const auto& [name, csv] : m.pooled) j["pooled"].push_back(name);
  ARK_RETURN_IF_ERROR(WriteFileAtomic(tmp + "/network.json", j.dump(2) + "\n"));
  return PublishDir(tmp, out_dir);
}

}  // namespace ark::net
