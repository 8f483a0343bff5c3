// `ark import-omop ARK DIR`: OMOP CDM 5.4 CSV files into an Ark (docs/imports.md).
//
// Reads from DIR (file names in any case, e.g. person.csv or PERSON.csv): person (required),
// observation_period, visit_occurrence, condition_occurrence, drug_exposure,
// procedure_occurrence, measurement, observation, death, and concept (optional: the vocabulary).
// OMOP persons are already linked: each becomes one Ark person (ImportBatch), with year and month
// of birth and sex (gender_concept_id 8507 male, 8532 female, else unknown); identifiers
// (person_source_value, locations, providers) are not read.
//
// Codes: a concept id becomes "<vocabulary_id>/<concept_code>" when concept.csv has it
// (SNOMED/65363002, LOINC/29463-7, RxNorm/308182, Visit/IP), else "OMOP/<concept_id>". A source
// value not already represented by that code is kept as a second event at the same time
// ("<vocabulary>/<code>" of the source concept, else "OMOP_SOURCE/<value>").
// Visits become encounters (Event.encounter = visit_occurrence_id) and events of their own with
// the visit's end time; observation periods become registrations (REG/OMOP, end = the day after
// the period's last day); clinical events starting outside every observation period of their
// person are dropped and counted (death is always kept, as DEATH/<cause code>).
//
// Errors name the file, line and column. Importing the same files twice is refused.
#pragma once

#include <map>
#include <string>

#include "ark/status.h"
#include "catalog/catalog.h"
#include "import/import_batch.h"

namespace ark {

struct OmopImportReport {
  ImportReport batch;
  std::map<std::string, uint64_t> rows;  // rows read per table
  uint64_t dropped_outside_observation = 0;
  uint64_t source_events = 0;            // extra events keeping source values
  uint64_t concepts_known = 0;           // concept ids resolved through concept.csv
  uint64_t concepts_unknown = 0;         // written as OMOP/<id>
};

// `optouts`: the source's opt-out information, matched by person.csv's person_id (ImportOptOuts).
Result<OmopImportReport> ImportOmop(Catalog& cat, const std::string& dir, const ImportOptOuts& optouts = {});

}  // namespace ark
