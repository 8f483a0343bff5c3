// `ark import-omop ARK DIR`, `ark import-meds ARK FILE.csv[.gz]`: already-linked data sets into an
// Ark, ready for `ark build` (docs/imports.md).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "command.h"
#include "import/meds_import.h"
#include "import/omop_import.h"

namespace ark::cli {
namespace {

using OJson = nlohmann::ordered_json;

OJson BatchJson(const ImportReport& b) {
  OJson j = {{"batch", b.batch}, {"persons", b.persons}, {"new_persons", b.new_persons}, {"events", b.events}};
  j["optouts_declared"] = b.optouts_declared;
  j["opted_out"] = b.opted_out;
  j["optout_ids_unmatched"] = b.optout_ids_unmatched;
  return j;
}

// --optouts FILE / --optouts-none: the source's opt-out information (ImportOptOuts).
struct OptOutFlags {
  std::string file;
  bool none = false;
  void Add(CLI::App& app) {
    auto* f = app.add_option("--optouts", file, "CSV with a person_id column: the source's opted-out persons (ids hashed at import, never stored)");
    auto* n = app.add_flag("--optouts-none,--no-optouts-declared", none,
                           "the source states that none of its persons opted out");
    f->excludes(n);
  }
  ImportOptOuts Get() const {
    if (!file.empty()) return {ImportOptOuts::Mode::kList, file};
    if (none) return {ImportOptOuts::Mode::kNone, ""};
    return {};
  }
};

// What the terminal says about opt-outs after an import.
void PrintOptOutNote(const ImportReport& b) {
  if (!b.optouts_declared) {
    std::fprintf(stderr, "note: no opt-out information given (--optouts FILE or --optouts-none): persons without an "
                         "NHS-number pseudonym have no known opt-out status and are used only for --purpose direct-care\n");
    return;
  }
  std::fprintf(stderr, "opt-outs: %llu of %llu persons opted out", (unsigned long long)b.opted_out, (unsigned long long)b.persons);
  if (b.optout_ids_unmatched) std::fprintf(stderr, "; warning: %llu listed ids are no person of this import", (unsigned long long)b.optout_ids_unmatched);
  std::fprintf(stderr, "\n");
}

int ImportOmopCmd(int argc, char** argv) {
  CLI::App app("Import OMOP CDM 5.4 CSV files (person, observation_period, visit_occurrence, condition_occurrence, "
               "drug_exposure, procedure_occurrence, measurement, observation, death; concept for codes).",
               "ark import-omop");
  std::string dir, in;
  bool json = false;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("dir", in, "directory of OMOP CDM CSV files")->required();
  app.add_flag("--json", json, "print the report as JSON");
  OptOutFlags oo;
  oo.Add(app);
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto cat = Catalog::Open(dir);
  if (!cat.ok()) return ReportError(cat.status());
  auto r = ImportOmop(**cat, in, oo.Get());
  if (!r.ok()) return ReportError(r.status());
  PrintOptOutNote(r->batch);
  OJson j = BatchJson(r->batch);
  j["rows"] = r->rows;
  j["dropped_outside_observation_period"] = r->dropped_outside_observation;
  j["source_value_events"] = r->source_events;
  j["concepts_resolved"] = r->concepts_known;
  j["concepts_unresolved"] = r->concepts_unknown;
  if (json) {
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("imported %llu persons, %llu events as batch %lld (%llu events outside observation periods dropped); "
                "run 'ark build %s'\n",
                (unsigned long long)r->batch.persons, (unsigned long long)r->batch.events, (long long)r->batch.batch,
                (unsigned long long)r->dropped_outside_observation, dir.c_str());
  }
  return 0;
}

int ImportMedsCmd(int argc, char** argv) {
  CLI::App app("Import MEDS-shaped data (subject_id,time,code,numeric_value CSV, optionally gzipped).", "ark import-meds");
  std::string dir, in;
  bool json = false;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("file", in, "FILE.csv or FILE.csv.gz")->required();
  app.add_flag("--json", json, "print the report as JSON");
  OptOutFlags oo;
  oo.Add(app);
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto cat = Catalog::Open(dir);
  if (!cat.ok()) return ReportError(cat.status());
  auto r = ImportMeds(**cat, in, oo.Get());
  if (!r.ok()) return ReportError(r.status());
  PrintOptOutNote(r->batch);
  for (const auto& c : r->ignored_columns) {
    std::fprintf(stderr, "warning: %s: column '%s' is not read (MEDS columns: subject_id, time, code, numeric_value, unit, end_time): %llu values dropped%s%s\n",
                 in.c_str(), c.name.c_str(), (unsigned long long)c.values, c.hint.empty() ? "" : "; ", c.hint.c_str());
  }
  OJson j = BatchJson(r->batch);
  j["rows"] = r->rows;
  j["static_rows_skipped"] = r->static_skipped;
  for (const auto& c : r->ignored_columns) j["ignored_columns"][c.name] = c.values;
  if (json) {
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("imported %llu persons, %llu events as batch %lld (%llu static rows skipped); run 'ark build %s'\n",
                (unsigned long long)r->batch.persons, (unsigned long long)r->batch.events, (long long)r->batch.batch,
                (unsigned long long)r->static_skipped, dir.c_str());
  }
  return 0;
}

ARK_COMMAND(kImportOmop, "import-omop", "import OMOP CDM 5.4 CSV files (already linked persons)", ImportOmopCmd);
ARK_COMMAND(kImportMeds, "import-meds", "import MEDS-shaped CSV (already linked subjects)", ImportMedsCmd);

}  // namespace
}  // namespace ark::cli
