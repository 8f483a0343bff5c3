// A second, independent error model for the synthetic region's identity files ("model2"), applied
// after `ark synth` to test linkage on mistakes the generator does not make itself
// (`ark corrupt REGION`; docs/synthetic-region.md, "A second error model").
//
// Per record (each custodian's identity file), independently, from a stream keyed by
// (seed, custodian, record):
//   ocr_name        an OCR confusion in the given or family name (rn<->m, cl<->d, li<->h, vv<->w,
//                   e<->c, i<->l, u<->v, a<->o)                                              3%
//   ocr_dob         an OCR digit confusion in the date of birth (1<->7, 3<->8, 5<->6, 0<->8), only
//                   when the result is still a valid date                                    1%
//   ocr_nhs         an OCR digit confusion in the NHS number (so its check digit fails)      1%
//   swapped_names   given and family name exchanged                                        1.5%
//   day_month       day and month of birth transposed (when both are 12 or less and differ)  2%
//   missing_postcode postcode emptied                                                         3%
//   nickname        a given name replaced by a short form from a table of its own (John->Jack,
//                   Margaret->Meg, Edward->Ted; not the generator's)                          3%
//   moved           postcode and LSOA replaced by those of another record of the same file   2%
// Per person: `twin` (0.3% of people): every record of the person takes the family name, date of
// birth, postcode and LSOA of another person (their first record), keeping its own given name,
// sex and NHS number — a twin living at the same address.
//
// Row order and count are kept, so truth/records.csv still holds; each change is logged in
// truth/model2_errors.csv (`custodian,record,kind`). Files are rewritten atomically.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "ark/status.h"

namespace ark::synth {

struct CorruptOptions {
  std::string region_dir;  // written by `ark synth` (custodian folders, truth/records.csv)
  uint64_t seed = 1;
  double rate_scale = 1.0;  // multiplies every rate above (tests use a large one)
};

struct CorruptReport {
  uint64_t records = 0, records_changed = 0;
  std::map<std::string, uint64_t> by_kind;  // kind -> records changed by it
};

// REQUIRES: region_dir holds an `ark synth` region. Errors name the file and line.
Result<CorruptReport> CorruptRegion(const CorruptOptions& options);

}  // namespace ark::synth
