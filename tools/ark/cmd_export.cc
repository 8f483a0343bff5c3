// `ark export ARK --to sqlite:FILE|postgresql://… [--schema ark|omop]` (docs/relational-schema.md).
#include <chrono>
#include <cstdio>

#include "command.h"
#include "sql/connection.h"
#include "sql/export.h"

namespace ark::cli {
namespace {

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
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto t0 = std::chrono::steady_clock::now();
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
