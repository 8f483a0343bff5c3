// FHIR R4 resource helpers shared by the bulk NDJSON importer (fhir/bulk.h) and the live
// mapping (live/record.h FromFhirBundle): dateTime parsing, codes, references.
// Field list: SPECS.md "FHIR R4"; mapping: docs/hl7-fhir.md.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ark/status.h"
#include "core/time.h"

namespace ark::fhir {

// FHIR date / dateTime / instant: "YYYY", "YYYY-MM", "YYYY-MM-DD", "YYYY-MM-DDThh:mm[:ss[.f+]]"
// followed by "Z" or "+hh:mm"/"-hh:mm" (required by FHIR when a time is given, accepted without).
// With `to_utc` an offset is applied (result in UTC, as HL7 timestamps in the live feed); without
// it the wall-clock time as written is kept (the store's convention, core/time.h).
// Errors: InvalidArgument with a short reason.
Result<Seconds> ParseDateTime(std::string_view text, bool to_utc);

// Ark code "VOCAB/CODE" of a FHIR coding system URI and code: http://snomed.info/sct → SNOMED,
// http://loinc.org → LOINC, RxNorm → RxNorm, CVX → CVX, ICD-10 → ICD10, dm+d → DMD, v3 ActCode →
// ACTCODE; any other system → FHIR. "" when the code is empty.
std::string ArkCode(std::string_view system, std::string_view code);
// HL7 v2-style short coding system for a URI ("LN", "SCT", else the URI itself).
std::string ShortSystem(std::string_view system);

// The first coding of a CodeableConcept (`cc` may be missing or malformed: then false).
bool FirstCoding(const nlohmann::json* cc, std::string* system, std::string* code, std::string* display);

// The id in a Reference's "reference": "Patient/<id>" → "<id>", "urn:uuid:<id>" → "<id>",
// "https://…/Patient/<id>" → "<id>"; "" when absent.
std::string ReferenceId(const nlohmann::json& resource, const char* field);

// A string member, or "" when missing or not a string.
std::string Str(const nlohmann::json& j, const char* key);
// j[key] when it exists (any type), else nullptr.
const nlohmann::json* Member(const nlohmann::json& j, const char* key);

// The NHS number system URI (https://fhir.nhs.uk/Id/nhs-number).
inline constexpr std::string_view kNhsNumberSystem = "https://fhir.nhs.uk/Id/nhs-number";

}  // namespace ark::fhir
