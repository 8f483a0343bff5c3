// One governed export of an Ark into a SQLite file inside the Ark, for the server's "export" jobs
// (src/server/jobs.h), as `ark export ARK --to sqlite:ARK/export/FILE --project P` does in a project
// (tools/ark/cmd_export.cc; docs/governance.md, "Every way out is governed").
//
// GovernedExport: the gate (gov::Admit, command "export", every feed: an export reads them all; a
// project is required); the file must be inside ARK/export/ (patient-level data never leaves the
// Ark); "data.accessed" (schema, to, direct_care false) on the ledger before anything is written;
// then sql::ExportArk (schema "ark", what `ark run --engine sqlite` reads) or sql::ExportOmop with
// only persons cleared for secondary use (schema "omop": OMOP has no opt-out column, so it fails
// closed), replacing the file. Stages through `progress`: "gate", "export"; `cancelled` is checked
// before the export starts (study::Cancelled: nothing written nor recorded), not during it.
//
// Example:
//   runs::ExportRequest r{.gate = {.project = "p1", .identified = actor}, .ark_dir = ark,
//                         .schema = "omop", .file = ark + "/export/job-3.sqlite"};
//   ARK_RETURN_IF_ERROR(runs::GovernedExport(r));
//
// Thread safety: calls may run concurrently with others on the same Ark (the ledger appends are
// serialised by `ledger_mutex` when given); two exports must not write the same file.
#pragma once

#include <functional>
#include <mutex>
#include <string>

#include "ark/status.h"
#include "governance/gate.h"

namespace ark::runs {

struct ExportRequest {
  gov::GateRequest gate;  // command "export" and every_feed are set here; the project is required
  std::string ark_dir;
  std::string schema;     // "ark" or "omop"
  std::string file;       // the SQLite file: inside ark_dir/export/
  std::function<void(const std::string& stage, double fraction)> progress;
  std::function<bool()> cancelled;
  std::mutex* ledger_mutex = nullptr;  // held around each ledger append
};

Status GovernedExport(ExportRequest r);

// Whether `file` is a file under ark_dir/export/ once "." and ".." are resolved: the only place a
// governed export may write (`ark export --project` and export jobs alike). Not the catalog, the
// store or any other file of the Ark, which an export's DROP TABLE and CREATE TABLE would damage.
bool InExportDir(const std::string& ark_dir, const std::string& file);

}  // namespace ark::runs
