// What one HL7 v2 message or FHIR resource means for the live feed, before pseudonymisation.
// Identifiers in the clear exist only in memory at the edge: the listener/ingester pseudonymises
// them immediately and never writes them (docs/hl7-fhir.md, "trust model").
//
// Mapping of fields: docs/hl7-fhir.md. Times: hl7::ParseTimestamp (HL7) and FHIR dateTime with an
// offset are converted to UTC; times without an offset are taken as written.
//
// Additions beyond the agreed interface (C1): Observation::status, LiveRecord::sending_facility,
// LiveRecord::admission_source, LiveRecord::specialty (PV1-10, hospital service),
// LiveRecord::conditions (FHIR Condition), ParseFhirDateTime. Nothing in the agreed interface
// changed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ark/status.h"
#include "core/event.h"
#include "core/time.h"
#include "hl7/hl7.h"

namespace ark::live {

struct Identity {           // PID (or MRG for A40's merged-away patient)
  std::string nhs_number;   // PID-3 repetition with identifier type NH / assigning authority NHS, "" if none
  std::string mrn;          // local hospital number (PID-3 other repetition (type MR first) / PID-2)
  std::string family, given, date_of_birth /*YYYYMMDD*/, sex /*M/F/U*/, postcode;
};

struct Observation {        // one OBX (ORU^R01) or FHIR Observation / Condition
  std::string system, code, text;   // OBX-3.3 coding system (e.g. "LN", "SCT", local), OBX-3.1, OBX-3.2
  double value = kNoValue;  std::string unit;  Seconds time = kNoTime;   // OBX-14, else OBR-7
  std::string abnormal_flag;        // OBX-8
  std::string status;               // OBX-11 ("F" final, "C" corrected, ...)
};

struct LiveRecord {
  enum class Kind { kAdmit /*A01*/, kTransfer /*A02*/, kDischarge /*A03*/, kRegister /*A04*/, kUpdate /*A08*/, kMerge /*A40*/, kResult /*ORU^R01*/ };
  Kind kind = Kind::kUpdate;
  std::string message_type;          // "ADT^A01"
  std::string control_id;            // MSH-10 (idempotency key)
  std::string sending_facility;      // MSH-4.1
  Seconds message_time = kNoTime;    // MSH-7
  Seconds event_time = kNoTime;      // EVN-6 (event occurred), else EVN-2, else MSH-7
  Identity patient;
  Identity merged;                   // A40: MRG-1 (prior identifiers)
  std::string patient_class;         // PV1-2 (I inpatient, E emergency, O outpatient)
  std::string admission_type;        // PV1-4 (e.g. "EM" emergency / "EL" elective)
  std::string specialty;             // PV1-10 hospital service (e.g. "180", "300")
  std::string admission_source;      // PV1-14
  std::string site, ward, room, bed; // PV1-3 facility (PL.4), point of care (PL.1), room (PL.2), bed (PL.3)
  std::string prior_ward, prior_bed; // PV1-6 for transfers
  std::string visit_number;          // PV1-19
  Seconds admit_time = kNoTime, discharge_time = kNoTime;  // PV1-44, PV1-45
  std::string discharge_disposition; // PV1-36
  std::vector<Observation> observations;  // ORU OBX; FHIR Observation
  std::vector<Observation> conditions;    // FHIR Condition (system "SNOMED"), time = onset
};

// Errors: InvalidArgument naming segment and field (e.g. "segment 1 (MSH), field 9: unsupported
// message type ADT^A05", "PID missing", "segment 3 (PV1), field 44: bad timestamp ...").
Result<LiveRecord> FromHl7(const hl7::Message& m);

// FHIR R4 → records. FromFhirBundle takes a transaction/batch Bundle (JSON; its entries'
// resources), a single resource, or NDJSON (one resource per line). Patient → kUpdate (identity
// only); Encounter → kAdmit (no period.end) or kDischarge (period.end), class → patient_class
// ("IMP" → "I", "EMER" → "E", "AMB" → "O"); Observation → kResult with one Observation (code from
// the first coding: system "http://loinc.org" → "LN", "http://snomed.info/sct" → "SCT");
// Condition → kResult with one entry in `conditions`. Resources of other types are skipped. The
// patient of an Encounter/Observation/Condition is the reference "Patient/<id>" or
// "urn:uuid:<id>" in subject: its id is put in patient.mrn (a Bundle's Patient resources are
// resolved, so their identifiers are filled in as well). Errors: InvalidArgument naming the
// entry / line and field ("line 3: Observation.effectiveDateTime: bad dateTime '2020-13-01'").
Result<std::vector<LiveRecord>> FromFhirBundle(std::string_view json);

// FHIR dateTime / date / instant ("2020", "2020-01", "2020-01-02", "2020-01-02T03:04:05[.sss]
// (Z|+hh:mm)") → seconds (UTC when an offset is given).
Result<Seconds> ParseFhirDateTime(std::string_view text);

}  // namespace ark::live
