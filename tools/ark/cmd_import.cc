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
  return {{"batch", b.batch}, {"persons", b.persons}, {"new_persons", b.new_persons}, {"events", b.events}};
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
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto cat = Catalog::Open(dir);
  if (!cat.ok()) return ReportError(cat.status());
  auto r = ImportOmop(**cat, in);
  if (!r.ok()) return ReportError(r.status());
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
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto cat = Catalog::Open(dir);
  if (!cat.ok()) return ReportError(cat.status());
  auto r = ImportMeds(**cat, in);
  if (!r.ok()) return ReportError(r.status());
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
