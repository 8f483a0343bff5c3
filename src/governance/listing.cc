#include "governance/listing.h"

#include "catalog/catalog.h"

namespace ark::gov {

namespace {
std::vector<std::string> SplitRoles(const std::string& s) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < s.size()) {
    const size_t end = std::min(s.find(',', at), s.size());
    if (end > at) out.push_back(s.substr(at, end - at));
    at = end + 1;
  }
  return out;
}
}  // namespace

Result<std::vector<UserRecord>> ListUsers(Catalog& cat) {
  ARK_RETURN_IF_ERROR(EnsureGovernanceSchema(cat));
  ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare("SELECT name, roles, created_at, created_by FROM gov_users ORDER BY name"));
  std::vector<UserRecord> out;
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    out.push_back({q->Text(0), SplitRoles(q->Text(1)), q->Text(2), q->Text(3)});
  }
  return out;
}

Result<std::vector<RunRecord>> ListRuns(Catalog& cat, const std::string& project) {
  ARK_RETURN_IF_ERROR(EnsureGovernanceSchema(cat));
  ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare("SELECT id, project, user, definition_hash, at, population FROM gov_runs "
                                           "WHERE ? = '' OR project = ? ORDER BY id"));
  q->Bind(1, project).Bind(2, project);
  std::vector<RunRecord> out;
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    RunRecord r;
    r.id = q->Int(0);
    r.project = q->Text(1);
    r.user = q->Text(2);
    r.definition_hash = q->Text(3);
    r.at = q->Text(4);
    r.population = q->Int(5);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace ark::gov
