// Writes a generated region (the shards of PersonSim output) as the custodians' CSV extracts
// and the truth files, in the layouts of docs/synthetic-region.md.
//
// Rows of event files are sorted by time (then person and sequence: a total order), identity
// files by their local id, death registrations by date of death. Spell and attendance ids are
// numbered in time order. The shards are consumed (their vectors are emptied).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ark/status.h"
#include "synth/records.h"
#include "synth/world.h"

namespace ark::synth {

struct FileStat {
  std::string custodian;  // "gp", "acute", ..., or "truth"
  std::string file;       // "patients.csv"
  uint64_t rows = 0;      // data rows, header excluded
};

struct WriteResult {
  std::vector<FileStat> files;
  uint64_t bytes = 0;
};

// REQUIRES: dir and its custodian subdirectories exist.
Status WriteRegion(const World& world, std::vector<ShardOutput>* shards, const std::string& dir, int threads,
                   const std::function<void(const std::string&)>& progress, WriteResult* result);

}  // namespace ark::synth
