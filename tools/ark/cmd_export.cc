// `ark export ARK --to sqlite:FILE|postgresql://… [--schema ark|omop]` (docs/relational-schema.md).
//
// Governance (docs/governance.md): the export goes through the one gate (gov::Admit). In a project
// it is patient-level data, which never leaves the Ark: it may only be written to a SQLite file
// under ARK/export/ (where `ark run --engine sqlite` reads ARK/export/ark.sqlite), OMOP exports leave out
// persons not cleared for secondary use unless the project is for direct care (or exempt), and it
// is put on the ledger.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "command.h"
#include "core/fs.h"
#include "governance/gate.h"
#include "runs/governed_export.h"
#include "sql/connection.h"
#include "sql/export.h"
#include "who.h"

namespace ark::cli {
namespace {

// OK when `to` is "sqlite:FILE" with FILE under ARK/export/; otherwise the refusal's reason.
Status InsideTheArk(const std::string& ark_dir, const std::string& to) {
  if (to.rfind("sqlite:", 0) == 0 && runs::InExportDir(ark_dir, to.substr(7))) return Status::OK();
  return Status::PermissionDenied("a governed export is patient-level data and stays inside the Ark: write it to sqlite:" +
                                  ark_dir + "/export/… (release results through 'ark release')");
}

int Export(int argc, char** argv) {
  CLI::App app("Write an Ark's timelines into SQLite or PostgreSQL, in the Ark schema or OMOP CDM 5.4.", "ark export");
  std::string dir, to, schema = "ark";
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("--to", to, "sqlite:FILE or postgresql://user@host:port/db")->required();
  app.add_option("--schema", schema, "ark (what 'ark run' reads) | omop (OMOP CDM 5.4)")
      ->check(CLI::IsMember({"ark", "omop"}));
  bool direct_care = false;
  app.add_flag("--direct-care", direct_care,
               "omop only: also write persons not cleared for secondary use (opt-outs, unknown status); "
               "for direct care only");
  GateFlags gate;
  gate.Add(app);
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto access = gate.Admit(dir, "export", "", /*every_feed=*/true);  // exports every feed
  if (!access.ok()) return ReportError(access.status());
  if (access->governed) {
    const std::string who = access->actor.user;
    if (Status s = InsideTheArk(dir, to); !s.ok()) return ReportError(gov::LogRefusal(dir, who, s));
    if (direct_care && access->OptOutsApply()) {
      return ReportError(gov::LogRefusal(dir, who, Status::PermissionDenied(
          "--direct-care: project '" + access->project.id + "' is for " + gov::PurposeName(access->project.purpose) +
          " and opt-outs apply to it")));
    }
    // On the ledger before anything is written.
    if (int rc = ReportError(gov::RecordAccess(dir, *access, {{"schema", schema}, {"to", to}, {"direct_care", direct_care}}))) return rc;
  }
  auto t0 = std::chrono::steady_clock::now();
  if (to.rfind("sqlite:", 0) == 0) {  // the file's folder is made if missing (ARK/export/ the first time)
    const std::string parent = std::filesystem::path(to.substr(7)).parent_path().string();
    if (!parent.empty())
      if (int rc = ReportError(MakeDirs(parent))) return rc;
  }
  auto conn = sql::Connection::Open(to);
  if (!conn.ok()) return ReportError(conn.status());
  Status s = schema == "omop" ? sql::ExportOmop(dir, **conn, !direct_care) : sql::ExportArk(dir, **conn, sql::Schema::kArk);
  if (!s.ok()) return ReportError(s);
  std::printf("exported %s to %s (%s schema) in %.2f s\n", dir.c_str(), to.c_str(), schema.c_str(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
}

ARK_COMMAND(kExport, "export", "write the Ark into SQLite or PostgreSQL (Ark schema or OMOP CDM 5.4)", Export);

}  // namespace
}  // namespace ark::cli
