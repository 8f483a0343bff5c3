// The outputs of a study run, written the same way whatever the engine:
//   DIR/dataset.csv          patient-level rows (Ark person keys, never identifiers). It stays in
//                            the Ark's workspace: it is not an output that leaves.
//   DIR/measures/NAME.csv    measure,interval_start,interval_end,ratio,numerator,denominator,<groups>
//                            with disclosure control applied (DiscloseMeasureCell).
//   DIR/manifest.json        what ran, on what, with which result sizes and timings.
// The directory is built under a temporary name and published atomically (PublishDir); an earlier
// run's directory at DIR (one with a manifest.json) is replaced, anything else is refused.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "ark/status.h"
#include "study/engine.h"

namespace ark::study {

// The disclosure step for one measure cell, in one place so that the governance engine can take
// it over: OpenSAFELY rules (src/disclosure/opensafely.h) — counts <= 7 redacted, then rounded to
// the nearest 5; the ratio from the rounded counts, redacted if either count is.
struct PublishedCell {
  std::string ratio, numerator, denominator;
};
Result<PublishedCell> DiscloseMeasureCell(int64_t numerator, int64_t denominator);

// The text of DIR/measures/NAME.csv for measure `m` of `def`.
Result<std::string> MeasureCsv(const Definition& def, size_t m, const MeasureCells& cells);
// The text of DIR/dataset.csv.
std::string DatasetCsv(const Definition& def, const EngineResult& r);

// Writes DIR (see above). `manifest` gets the common fields added (population, opt-out
// exclusions rounded, definition hash, outputs). `dataset` false: no dataset.csv (the population
// is still the number of rows).
Status WriteOutputs(const Definition& def, const EngineResult& r, const std::string& out_dir, nlohmann::ordered_json manifest,
                    bool dataset = true);

}  // namespace ark::study
