// Pseudonymisation at the edge: a LiveRecord (identifiers in the clear, in memory only) becomes a
// PseudoRecord, the only form that is logged, kept in live state or written to the store.
//
// NHS numbers become HMAC-SHA256 pseudonyms under the feed custodian's programme key, exactly as
// `ark pseudonymise` makes them (privacy/key.h; the normalised 10 digits), so live persons meet
// the persons of batch extracts. Local hospital numbers (MRN) become HMAC("mrn:" + MRN) and visit
// numbers HMAC("visit:" + number) (16 hex digits). Names, full dates of birth, postcodes,
// observation free text and NTE comments are dropped; year and month of birth and sex are kept.
//
// Log format: binary (EncodePseudo / DecodePseudo, live/pseudo_codec.cc), the form the live log
// writes; JSON (ToJson / PseudoFromJson) is what logs written before it hold, still read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ark/status.h"
#include "core/event.h"
#include "live/record.h"
#include "privacy/key.h"

namespace ark::live {

constexpr PersonKey kNoPerson = UINT32_MAX;

struct PseudoObs {
  std::string system, code, unit, flag;
  double value = kNoValue;
  Seconds time = kNoTime;
};

struct PseudoRecord {
  uint64_t seq = 0;  // position in the live log (1-based), set by the ingestor
  LiveRecord::Kind kind = LiveRecord::Kind::kUpdate;
  std::string message_type;  // "ADT^A01", "FHIR^Observation"
  std::string control_id;    // MSH-10
  std::string sender;        // sending facility (MSH-4)
  Seconds message_time = kNoTime, event_time = kNoTime;
  int64_t received_us = 0;  // our receipt, microseconds since the Unix epoch (UTC)
  // The person: pseudonyms (64 hex digits; "" when absent) and the Ark person key (assigned by
  // the ingestor from the pseudonyms).
  std::string nhs_pseudonym, mrn_pseudonym;
  std::string merged_nhs_pseudonym, merged_mrn_pseudonym;  // A40: the merged-away identifiers
  PersonKey person = kNoPerson;
  PersonKey merged_person = kNoPerson;  // A40: key the merged-away identifiers had (if any)
  int birth_year = 0, birth_month = 0;
  char sex = 'U';
  std::string patient_class, admission_type, specialty, site, ward, room, bed, prior_ward,
      prior_bed;
  std::string visit;  // HMAC of the visit number, 16 hex digits
  std::string disposition;
  Seconds admit_time = kNoTime, discharge_time = kNoTime;
  std::vector<PseudoObs> observations;  // results, and FHIR conditions (system "SNOMED")

  bool has_identity() const { return !nhs_pseudonym.empty() || !mrn_pseudonym.empty(); }
};

// Pseudonymises `r` under `key`. Never fails: an invalid NHS number is dropped (the MRN still
// identifies the person at this site).
PseudoRecord Pseudonymise(const LiveRecord& r, const ProgrammeKey& key);

std::string ToJson(const PseudoRecord& r);
// Errors: Corruption naming the field.
Result<PseudoRecord> PseudoFromJson(std::string_view json);

// Binary form (live-log record type 18): appends to *out. DecodePseudo gives back every field
// exactly (doubles bit for bit); errors: Corruption saying what is wrong.
void EncodePseudo(const PseudoRecord& r, std::string* out);
Result<PseudoRecord> DecodePseudo(std::string_view bytes);

const char* KindName(LiveRecord::Kind k);

}  // namespace ark::live
