// Synthetic city region with ground truth: the engine behind `ark synth`.
//
// GenerateRegion simulates `people` persons over a window of `years` ending 2025-12-31 and
// writes each custodian's extract (GP, acute trust, community services, social care, death
// registrations) plus truth files and, last of all, manifest.json. The output is a pure
// function of (people, years, seed, profile): byte-identical for any thread count. The layouts, rates
// and codes are specified in docs/synthetic-region.md.
//
// Example:
//   SynthOptions o;
//   o.people = 2000;
//   o.out_dir = "/tmp/region";
//   ARK_ASSIGN_OR_RETURN(SynthSummary s, GenerateRegion(o));
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ark/status.h"

namespace ark::synth {

struct SynthOptions {
  // Distinct people ever in the region during the window, including those born in it.
  // Default: 10000. Range 1 .. 20,000,000.
  uint64_t people = 10000;
  // Length of the observation window in whole calendar years, ending 2025-12-31.
  // Default: 10. Range 1 .. 50.
  int years = 10;
  // Seed of every random stream. Default: 1.
  uint64_t seed = 1;
  // Region profile (profile.h): age structure and deprivation. "default" writes the region as
  // before profiles existed; `people` is not changed by it (the command line takes the
  // profile's size when --people is not given).
  std::string profile = "default";
  // Output directory; created if missing. It must be missing or empty unless `force`.
  std::string out_dir;
  // Write into a non-empty out_dir: a previous region's custodian folders, truth/ and
  // manifest.json there are removed first; other files are left alone.
  bool force = false;
  // Worker threads for simulation and formatting. Default: 2. Does not change the output.
  int threads = 2;
  // Optional progress messages ("people 200000/1000000", "writing gp/events.csv ..."); called
  // from the calling thread only.
  std::function<void(const std::string&)> progress;
};

struct SynthFile {
  std::string path;   // relative to out_dir, e.g. "gp/events.csv"
  uint64_t rows = 0;  // data rows
};

struct SynthSummary {
  std::vector<SynthFile> files;
  uint64_t bytes = 0;        // total size of the files written
  uint64_t event_rows = 0;   // rows of the custodians' event files (not identity, not truth)
  double seconds = 0;        // wall time
};

// Checks ranges and that out_dir is given. Errors: InvalidArgument.
Status ValidateOptions(const SynthOptions& options);

// Generates and writes the region. Errors: InvalidArgument for bad options, FailedPrecondition
// when out_dir exists and is not empty (without `force`) or is not a directory, IOError when the
// directory or a file cannot be written (a failed run leaves no manifest.json behind).
Result<SynthSummary> GenerateRegion(const SynthOptions& options);

}  // namespace ark::synth
