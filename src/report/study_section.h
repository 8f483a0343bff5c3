// The report section for one study definition run (`ark run` output directory): what was asked,
// the population (rounded), and each measure as a chart over its intervals and a table. Reads
// only the disclosure-controlled outputs (measures/*.csv, manifest.json), never dataset.csv.
#pragma once

#include <string>

#include "ark/status.h"

namespace ark {

// `definition` is the YAML file (for its description); `run_dir` the run's --out directory.
Result<std::string> StudySectionHtml(const std::string& definition, const std::string& run_dir);

}  // namespace ark
