// `ark import-clks ARK --source NAME --clks clks.json [--ids ids.csv] [--one-record-per-person]`:
// a custodian's pre-encoded CLKs (anonlink's clks.json) staged into an Ark for
// `ark link --mode pprl` (import/clk_import.h, docs/linkage.md).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "command.h"
#include "import/clk_import.h"

namespace ark::cli {
namespace {

int ImportClksCmd(int argc, char** argv) {
  CLI::App app("Stage pre-encoded CLKs (anonlink clks.json, base64 1024-bit) as a batch for 'ark link --mode pprl'.",
               "ark import-clks");
  std::string dir;
  ClkImportOptions o;
  bool json = false;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("--source", o.source, "the batch's source name (a-z, 0-9, _)")->required();
  app.add_option("--clks", o.clks_path, "anonlink clks.json: {\"clks\": [base64, ...]}")->required();
  app.add_option("--ids", o.ids_path,
                 "CSV, one row per CLK: id (unique; checked, not stored), optional nhs_pseudonym (64 hex digits)");
  app.add_flag("--one-record-per-person", o.one_record_per_person,
               "the source holds at most one record per person: linkage never merges two of its records");
  app.add_flag("--json", json, "print the report as JSON");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto cat = Catalog::Open(dir);
  if (!cat.ok()) return ReportError(cat.status());
  auto r = ImportClks(**cat, o);
  if (!r.ok()) return ReportError(r.status());
  if (json) {
    nlohmann::ordered_json j = {{"batch", r->batch}, {"records", r->records}, {"with_nhs_pseudonym", r->with_pseudonym}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("staged %llu CLKs (%llu with an NHS-number pseudonym) as batch %lld; run 'ark link %s --mode pprl'\n",
                (unsigned long long)r->records, (unsigned long long)r->with_pseudonym, (long long)r->batch, dir.c_str());
  }
  return 0;
}

}  // namespace

ARK_COMMAND(kImportClks, "import-clks", "stage pre-encoded anonlink CLKs (clks.json) for PPRL linkage", ImportClksCmd);

}  // namespace ark::cli
