#include "network/model_guard.h"

#include "catalog/catalog.h"
#include "governance/governance.h"

namespace ark::net {
namespace {

Status EnsureTable(Catalog& cat) {
  return cat.Exec(
      "CREATE TABLE IF NOT EXISTS net_model_populations (project TEXT NOT NULL, n INTEGER NOT NULL, "
      "PRIMARY KEY (project, n))");
}

Status Remember(const std::string& ark_dir, const std::string& project, int64_t n) {
  ARK_ASSIGN_OR_RETURN(auto cat, Catalog::Open(ark_dir));
  ARK_RETURN_IF_ERROR(EnsureTable(*cat));
  ARK_ASSIGN_OR_RETURN(auto ins, cat->Prepare("INSERT OR IGNORE INTO net_model_populations (project, n) VALUES (?, ?)"));
  ins->Bind(1, project).Bind(2, n);
  return ins->Run();
}

Status Refusal(const Site& site, const std::string& who, const Status& s) {
  if (s.code() != StatusCode::kPermissionDenied) return s;
  return gov::LogRefusal(site.ark_dir, who, Status::PermissionDenied("site '" + site.config.name + "': " + s.message()));
}

}  // namespace

Result<std::vector<int64_t>> EarlierPopulations(const std::string& ark_dir, const std::string& project) {
  ARK_ASSIGN_OR_RETURN(auto cat, Catalog::Open(ark_dir));
  ARK_RETURN_IF_ERROR(EnsureTable(*cat));
  ARK_ASSIGN_OR_RETURN(auto q, cat->Prepare("SELECT n FROM net_model_populations WHERE project = ? ORDER BY n"));
  q->Bind(1, project);
  std::vector<int64_t> out;
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    out.push_back(q->Int(0));
  }
  return out;
}

Status GuardModelRequest(const Site& site, const std::string& who, const std::string& project, const sdc::ModelDesign& design) {
  ARK_ASSIGN_OR_RETURN(std::vector<int64_t> earlier, EarlierPopulations(site.ark_dir, project));
  ARK_RETURN_IF_ERROR(Refusal(site, who, sdc::CheckModelRequest(design, earlier)));
  return Remember(site.ark_dir, project, static_cast<int64_t>(design.rows));
}

Status GuardPopulation(const Site& site, const std::string& who, const std::string& project, int64_t n) {
  ARK_ASSIGN_OR_RETURN(std::vector<int64_t> earlier, EarlierPopulations(site.ark_dir, project));
  ARK_RETURN_IF_ERROR(Refusal(site, who, sdc::CheckSubset(n)));
  ARK_RETURN_IF_ERROR(Refusal(site, who, sdc::CheckDifferencing(n, earlier)));
  return Remember(site.ark_dir, project, n);
}

}  // namespace ark::net
