#include "runs/governed_export.h"

#include <filesystem>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "governance/governance.h"
#include "runs/steps.h"
#include "sql/connection.h"
#include "sql/export.h"
#include "study/engine.h"

namespace ark::runs {
bool InExportDir(const std::string& ark_dir, const std::string& file) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(fs::absolute(ark_dir, ec) / "export", ec);
  const fs::path f = fs::weakly_canonical(fs::absolute(file, ec), ec);
  if (ec) return false;
  auto r = root.begin(), p = f.begin();
  for (; r != root.end() && p != f.end() && *r == *p; ++r, ++p) {
  }
  return r == root.end() && p != f.end();
}

Status GovernedExport(ExportRequest r) {
  auto stage = [&r](const char* name, double f) { return EnterStage(r.cancelled, r.progress, name, f); };
  if (r.gate.project.empty()) return Status::InvalidArgument("a governed export needs a project");
  if (r.schema != "ark" && r.schema != "omop")
    return Status::InvalidArgument("schema must be ark or omop, not '" + r.schema + "'");
  r.gate.command = "export";
  r.gate.every_feed = true;  // an export reads every feed of the Ark
  ARK_RETURN_IF_ERROR(stage("gate", 0.0));
  ARK_ASSIGN_OR_RETURN(auto cat, Catalog::Open(r.ark_dir));
  ARK_ASSIGN_OR_RETURN(gov::Access access, AdmitLocked(*cat, r.gate, r.ledger_mutex));
  if (!access.governed) return Status::Internal("the gate admitted an export in project " + r.gate.project + " ungoverned");
  if (!InExportDir(r.ark_dir, r.file)) {
    MaybeLock l(r.ledger_mutex);
    return gov::LogRefusal(r.ark_dir, access.actor.user, Status::PermissionDenied(
        "a governed export is patient-level data and stays inside the Ark: under " + r.ark_dir + "/export/"));
  }
  ARK_RETURN_IF_ERROR(stage("export", 0.1));
  {
    // On the ledger before anything is written.
    MaybeLock l(r.ledger_mutex);
    ARK_RETURN_IF_ERROR(gov::RecordAccess(r.ark_dir, access, {{"schema", r.schema}, {"to", "sqlite:" + r.file},
                                                              {"direct_care", false}}));
  }
  ARK_RETURN_IF_ERROR(MakeDirs(r.ark_dir + "/export"));
  (void)RemoveAll(r.file);  // a file a failed attempt left is replaced
  ARK_ASSIGN_OR_RETURN(auto conn, sql::Connection::Open("sqlite:" + r.file));
  return r.schema == "omop" ? sql::ExportOmop(r.ark_dir, *conn, /*secondary_use_only=*/true)
                            : sql::ExportArk(r.ark_dir, *conn, sql::Schema::kArk);
}

}  // namespace ark::runs
