// Public value types of the timeline store: dictionaries, options, append records and stats.
// See store.h for the Store itself and timeline_writer.h for building a version.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/event.h"

namespace ark {

// The string dictionaries that events and persons refer to by id. For every list the index is
// the id and id 0 is "" (none). Codes look like "SNOMED/22298006".
struct Dictionaries {
  std::vector<std::string> codes{""};
  std::vector<std::string> units{""};
  std::vector<std::string> areas{""};
  std::vector<std::string> practices{""};
  std::vector<std::string> sources{""};
};

struct WriterOptions {
  // Target events per block (the unit of skipping, decoding and parallel work). A block holds
  // whole persons, so one person with more events gets a block of its own. Default: 32768.
  uint32_t block_events = 32768;
  // Target events per segment file (the unit that compaction rewrites). Default: 4M.
  uint64_t segment_events = uint64_t{1} << 22;
  // zstd level of the cold columns (values, units, end times, encounters, sources, time of day)
  // and of the person attributes. Default: 3.
  int zstd_level = 3;
};

struct StoreOptions {
  // Options used when Compact() writes a new version.
  WriterOptions writer;
  // Ignore a WAL record that fails its checksum in the middle of a WAL file (data after it is
  // then lost) instead of failing Open with Corruption. A torn tail is always ignored.
  // Default: false.
  bool skip_corrupt_wal = false;
};

// One event to append: Event with its strings not yet interned. `code` must be non-empty.
struct AppendEvent {
  PersonKey person = 0;
  Seconds time = 0;
  Seconds end = kNoTime;
  std::string code;
  double value = kNoValue;
  std::string unit;    // "" = none
  std::string source;  // "" = none
  uint32_t encounter = kNoEncounter;
};

// A place in the store's write-ahead log: WAL file number and byte offset in it (the end of a
// record). File numbers only grow, and a file keeps its number when compaction moves it to
// <store>/appended, so a position stays meaningful for the life of the store. {0, 0}: before
// everything.
struct WalPosition {
  uint64_t file = 0;
  uint64_t offset = 0;
};

struct StoreStats {
  uint64_t persons = 0;
  uint64_t events = 0;        // version + live delta
  uint64_t delta_events = 0;  // in the live delta (WAL) only
  uint64_t bytes_on_disk = 0; // files of the current version + WAL files
  uint64_t wal_bytes = 0;
  uint64_t version = 0;       // 0 = no version published yet
  uint64_t segments = 0;
  uint64_t blocks = 0;
  std::map<std::string, uint64_t> events_by_source;  // "" for events without a source
};

}  // namespace ark
