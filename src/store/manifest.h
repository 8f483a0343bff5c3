// The files of a store directory and the manifest of a version (docs/store-format.md):
//
//   <ark>/store/CURRENT               "v-000007\n": the published version (replaced atomically)
//   <ark>/store/LOCK                  flock()ed by the one process that appends/compacts/builds
//   <ark>/store/v-000007/MANIFEST     dictionaries, segment list, counts, WAL watermark
//   <ark>/store/v-000007/seg-*.ark    segment files (immutable; may be hard links into older ones)
//   <ark>/store/wal-000009.log        write-ahead log files numbered above the watermark
//   <ark>/store/appended/wal-*.log    WAL files already folded into a version, kept: every
//                                     acknowledged append, the source `ark build` re-reads
//
// Functions here are stateless and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ark/status.h"
#include "store/options.h"
#include "store/segment.h"

namespace ark::store {

constexpr uint64_t kManifestMagic = 0x31304e414d4b5241ull;  // "ARKMAN01"
constexpr uint32_t kManifestFormatVersion = 1;

struct Manifest {
  uint64_t version = 0;      // this version's number (its directory is v-<version>)
  uint64_t wal_through = 0;  // every WAL file numbered <= this is folded into the version
  uint64_t num_persons = 0;
  uint64_t num_events = 0;
  Dictionaries dicts;
  std::vector<SegmentInfo> segments;       // in person order, contiguous from key 0
  std::vector<uint64_t> events_by_source;  // index = source id; the sum over segments (not stored)
};

std::string EncodeManifest(const Manifest& m);
// `path` is only used in error messages.
Result<Manifest> DecodeManifest(std::string_view data, const std::string& path);

std::string VersionDirName(uint64_t version);               // "v-000007"
std::string WalFileName(uint64_t number);                   // "wal-000009.log"
std::string SegmentFileName(uint64_t version, uint64_t i);  // "seg-000007-00012.ark"

// What a store directory holds (missing directory = empty listing).
struct StoreListing {
  std::vector<uint64_t> versions;        // published version directories, ascending
  std::vector<std::string> temporaries;  // leftovers of interrupted builds (*.tmp)
  std::vector<uint64_t> wals;            // WAL file numbers, ascending
};
StoreListing ListStore(const std::string& store_dir);

// <store>/appended: WAL files folded into a version and kept as the record of acknowledged appends.
std::string AppendedDir(const std::string& store_dir);
// Their numbers, ascending (missing directory = none).
std::vector<uint64_t> ListAppended(const std::string& store_dir);

// The version CURRENT names, or 0 when there is no CURRENT file (an empty store).
Result<uint64_t> ReadCurrent(const std::string& store_dir);
// Atomically replaces CURRENT (write temporary, fsync, rename, fsync directory).
Status WriteCurrent(const std::string& store_dir, uint64_t version);

}  // namespace ark::store
