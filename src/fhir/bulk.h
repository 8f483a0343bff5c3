// FHIR R4 Bulk Data NDJSON into an Ark: `ark ingest ARK --format fhir-ndjson DIR --key KEYFILE`.
//
// Reads every *.ndjson file of DIR (one resource per line; the resource type comes from each
// line's resourceType, so a file may hold any). Patient resources give persons: year and month
// of birth (birthDate), sex (gender), death (deceasedDateTime → a DEATH/FHIR event); the NHS
// number (identifier with system https://fhir.nhs.uk/Id/nhs-number, Modulus 11 checked) is
// pseudonymised in this process with the programme key — HMAC-SHA256 as `ark pseudonymise`
// makes it, so these persons link with the other feeds — and is never written. Names,
// addresses, other identifiers and the resources' ids are not kept (ids only join resources in
// memory). Persons without a valid NHS number get keys of their own and are not known for
// opt-outs (fail closed, import/import_batch.h).
//
// Events (source "fhir"; codes "VOCAB/CODE", fhir/resource.h ArkCode):
//   Encounter          ENCCLASS/<class.code> at period.start, end period.end; plus the first
//                      type coding (e.g. SNOMED/185347001) at period.start; both carry the
//                      encounter as Event.encounter
//   Condition          code at onsetDateTime (else recordedDate), end abatementDateTime
//   Observation        code (LOINC/…) at effectiveDateTime / effectivePeriod.start / issued, value
//                      valueQuantity.value, unit valueQuantity.code or .unit; each component with
//                      a valueQuantity is an event of its own (blood pressure)
//   Procedure          code at performedPeriod.start / performedDateTime, end performedPeriod.end
//   MedicationRequest  medicationCodeableConcept at authoredOn
//   Immunization       vaccineCode at occurrenceDateTime
//   AllergyIntolerance code at recordedDate (else onsetDateTime)
// Other resource types are counted and skipped. Times keep the wall-clock time as written (the
// store's convention; a time zone offset is checked but not applied).
//
// Errors name the file, NDJSON line and field ("Encounter.000.ndjson:12: Encounter.period.start:
// bad dateTime '1989-13-04': month 13"). A resource whose subject is not a Patient in DIR is an
// error too. Importing the same files twice is refused (content hash). Nothing is written on
// error.
#pragma once

#include <map>
#include <string>

#include "ark/status.h"
#include "catalog/catalog.h"
#include "import/import_batch.h"
#include "privacy/key.h"

namespace ark::fhir {

struct BulkIngestReport {
  ImportReport batch;
  std::map<std::string, uint64_t> resources;  // resources read per type
  uint64_t skipped = 0;                       // resources of other types
  uint64_t nhs_valid = 0, nhs_missing = 0, nhs_invalid = 0;
  uint64_t events_without_time = 0;           // resources with no usable time (dropped)
  std::string key_fingerprint;
};

Result<BulkIngestReport> IngestBulkNdjson(Catalog& cat, const std::string& dir, const ProgrammeKey& key);

}  // namespace ark::fhir
