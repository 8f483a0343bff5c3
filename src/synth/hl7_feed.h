// `ark synth --hl7`: the acute trust's extract as an HL7 v2 message stream (docs/hl7-fhir.md,
// "Synthetic feed").
//
// WriteHl7Feed reads the acute extract a GenerateRegion run wrote (<region>/acute/patients.csv,
// ae_attendances.csv, inpatient_spells.csv, lab_results.csv) and writes
// <region>/acute/feed.hl7: the same persons, MRNs, NHS numbers (digits as the trust holds them),
// times and codes as HL7 v2.4 messages in the order they would be sent:
//   A&E attendance   ADT^A04 at arrival (PV1-2 E, ward "ED"), ADT^A03 at departure (PV1-36 the
//                    disposal code)
//   inpatient spell  ADT^A01 at admission (PV1-4 the NHS admission method code, PV1-19 the spell
//                    id); emergency spells of more than 12 hours are admitted to the acute
//                    medical unit "AMU" and moved to the extract's ward by ADT^A02 4–12 hours
//                    later; ADT^A03 at discharge (PV1-36 the discharge destination code)
//   lab results      ORU^R01 per (patient, collection time): OBR-7 the collection time, one OBX
//                    per result (OBX-3 "<LOINC>^<name>^LN^<local code>^<name>^L", e.g.
//                    "2160-0^Creatinine^LN^CREA^Creatinine^L", value, unit, H/L flag for
//                    creatinine), sent 30–120 minutes after collection
//   vital signs      not in the extract (the ward's e-observations system, "EOBS"): for each
//                    inpatient spell an ORU^R01 set 10–30 minutes after admission and about every
//                    12 hours while in hospital, at most 6 sets: respiratory rate (LOINC 9279-1),
//                    SpO2 (59408-5), systolic BP (8480-6), pulse (8867-4), temperature (8310-5),
//                    oxygen flow (3151-8; 2 L/min when SpO2 would be below 92%); deranged on
//                    admission by the primary diagnosis (sepsis, pneumonia, COPD, AKI, MI, heart
//                    failure; other emergencies a little), improving by 40% per set, so NEWS2 fires
// Times are local civil time as in the extract, without offset. EVN-6 is the event time, EVN-2
// and MSH-7 the sending time (5–120 s later). Messages are sorted by MSH-7. MSH-10 is "F" and a
// 9-digit sequence number.
//
// File format: messages one after another; every segment ends with CR (0x0D) and every message
// is followed by one LF (0x0A), so each message starts on a line beginning "MSH|" (what
// `ark send-hl7` reads). The output is a pure function of the extract and `seed` (written
// atomically: complete or absent).
#pragma once

#include <cstdint>
#include <string>

#include "ark/status.h"

namespace ark::synth {

struct Hl7FeedReport {
  uint64_t messages = 0;
  uint64_t admits = 0, transfers = 0, discharges = 0, registrations = 0, results = 0;
  uint64_t vitals = 0;  // ORU^R01 vital-sign sets (part of `messages`, not of `results`)
  uint64_t bytes = 0;
};

// REQUIRES: `region_dir` holds a complete region (acute/*.csv). Errors: NotFound, IOError,
// InvalidArgument (a row of the extract that cannot be read, naming file, line and column).
// `last_days` > 0 keeps only the messages sent in the feed's last `last_days` days (a demo's
// replay); their control ids are those they have in the whole feed.
Result<Hl7FeedReport> WriteHl7Feed(const std::string& region_dir, uint64_t seed, int last_days = 0);

}  // namespace ark::synth
