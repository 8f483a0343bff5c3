// `ark import-meds ARK FILE.csv[.gz]`: MEDS-shaped data (docs/imports.md).
//
// Columns: subject_id (integer), time ("YYYY-MM-DD[THH:MM[:SS[.ffffff]]]", empty for static
// facts), code, numeric_value (optional), unit (optional), end_time (optional, same form as time:
// the end of an admission or registration). Any other column (MEDS text_value, a misnamed
// 'value') is not read: it is named in MedsImportReport::ignored_columns, with its non-empty
// values counted, so the caller can warn. Each subject becomes one Ark person
// (ImportBatch, source "meds"); subject ids themselves are not kept.
// Codes are kept verbatim ("LAB//SpO2", "HR", "ADMISSION//CARDIAC"), so MEDS/ACES code names
// work unchanged. Demographics: static "SEX//male|female|M|F" and "GENDER//…" set the sex;
// "MEDS_BIRTH" sets the year and month of birth; "MEDS_DEATH" becomes a DEATH/MEDS event (the
// person's death date). Other rows without a time cannot be placed on a timeline: they are
// skipped and counted.
//
// Errors name the file, line and column. Importing the same content twice is refused.
#pragma once

#include <string>
#include <vector>

#include "ark/status.h"
#include "catalog/catalog.h"
#include "import/import_batch.h"

namespace ark {

struct MedsIgnoredColumn {
  std::string name;
  uint64_t values = 0;  // non-empty values dropped
  std::string hint;     // "did you mean 'numeric_value'?" or ""
};

struct MedsImportReport {
  ImportReport batch;
  std::vector<MedsIgnoredColumn> ignored_columns;  // in file order
  uint64_t rows = 0;
  uint64_t static_skipped = 0;  // rows without a time that are not demographics
};

// `optouts`: the source's opt-out information, matched by subject_id (ImportOptOuts).
Result<MedsImportReport> ImportMeds(Catalog& cat, const std::string& path, const ImportOptOuts& optouts = {});

}  // namespace ark
