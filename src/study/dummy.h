// `ark dummy DEF --people N --out ARK`: a small Ark of made-up persons whose data satisfies a
// study definition's codelists and windows (OpenSAFELY's dummy data), so analysts can write and
// test definitions without access to the real Ark (docs/study-definitions.md, "Dummy data").
//
// The Ark is real: one imported batch (feed "dummy", import/import_batch.h) built into a store
// with `ark build`'s writer, so `ark run ARK DEF` runs on it with any engine and purpose. Dummy
// persons declare "no opt-outs" (a known status: not opted out), so research runs include them.
//
// What is made, all from a splitmix64 stream of `seed` (the same seed, definition and N give the
// same Ark, byte for byte in its events):
//  - persons: sex M/F, ages spread over the population's age range at the reference day (the
//    fixed index date, else the end of the latest interval), a few outside it; IMD deciles 1-10
//    (with dummy LSOAs, ten per decile); a practice registration (REG/DUMMYnn) from before the
//    first window to no end, a tenth of them ending (most re-registering) inside the span; a few
//    deaths;
//  - for each codelist (registration lists REG/* aside) about half of the persons have events:
//    some spread over the whole span, and for each variable on the codelist some inside its
//    window around the index (or around an index event, for `each`/`first` indexes; around an
//    interval's start or end for interval-relative windows). Codes are the list's exact codes,
//    and codes under its prefixes (J44* gives ICD10/J44.0 and ICD10/J44.9);
//  - ends (start + 0-20 days) for codelists used with `overlapping`, `spanning`, `active`,
//    `length`, `end` or `at: end`;
//  - values for value-using variables (value/min/max/mean): around a threshold the definition
//    compares the variable with (e.g. `last_hba1c <= 58`), else a range by the codelist's name
//    (hba1c, bmi, blood pressure, cholesterol, egfr), else 1-100.
//
// Errors: InvalidArgument when people < 1; FailedPrecondition when `ark_dir` exists and is not
// empty; those of Catalog::Create, ImportBatch::Commit and BuildTimelines.
#pragma once

#include <cstdint>
#include <string>

#include "ark/status.h"
#include "study/definition.h"

namespace ark::study {

struct DummyOptions {
  int people = 500;
  uint64_t seed = 1;
  int threads = 2;
};

struct DummyReport {
  uint64_t persons = 0, events = 0;
  int32_t span_from = 0, span_to = 0;  // days: the period events were made in
};

Result<DummyReport> MakeDummyArk(const Definition& def, const std::string& ark_dir, const DummyOptions& o);

}  // namespace ark::study
