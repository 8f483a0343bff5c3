// The live snapshot, ARK/live/snapshot: the ingestor's state as of one position in the live log,
// so that a restart replays only the log records written after it (restart time independent of
// history). Written by `ark serve` every IngestOptions::snapshot_records records or
// snapshot_interval_s seconds and at a clean stop, atomically (temporary file, fsync, rename;
// mode 0600).
//
// File: "ARKLSNP1" | u32 format version | u64 body size | u64 XXH3-64 of the body | body.
// Body (store/coding.h varints and strings): last_seq, applied, log file name, replay offset,
// next person key, the person-key map (64-hex-digit pseudonyms as 32 raw bytes), the retransmit
// window oldest first, the NHS pseudonyms not yet confirmed in the catalog, the recent alerts
// (JSON, oldest first) and the LiveState (LiveState::Encode).
//
// Thread-safe (stateless functions).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ark/status.h"
#include "live/pseudo.h"
#include "live/state.h"

namespace ark::live {

constexpr uint32_t kSnapshotFormatVersion = 1;

// Where replay resumes and what the store already holds.
struct SnapshotPosition {
  uint64_t last_seq = 0;  // the state covers every record with seq <= last_seq
  uint64_t applied = 0;   // records with seq <= applied were in the timeline store
  // Replay starts in live-log file `log_file` (a name in ARK/live/log) at byte `replay_offset`
  // and continues with every later file. Records there with seq <= last_seq are already in the
  // state and are read only to bring the store up to date (they are the ones after `applied`).
  std::string log_file;
  uint64_t replay_offset = 0;
};

// What EncodeSnapshot reads (the ingestor's own containers, not copies).
struct SnapshotSource {
  SnapshotPosition pos;
  PersonKey next_key = 0;
  const std::unordered_map<std::string, PersonKey>* keys = nullptr;
  const std::deque<uint64_t>* window = nullptr;
  const std::vector<std::pair<std::string, PersonKey>>* catalog_backlog = nullptr;
  const std::deque<std::string>* alerts = nullptr;
  const LiveState* state = nullptr;
};

struct LiveSnapshot {
  SnapshotPosition pos;
  PersonKey next_key = 0;
  std::vector<std::pair<std::string, PersonKey>> keys;
  std::vector<uint64_t> window;  // oldest first
  std::vector<std::pair<std::string, PersonKey>> catalog_backlog;
  std::vector<std::string> alerts;  // oldest first
  std::string state;                // LiveState::Encode bytes
};

// The whole file (header included).
std::string EncodeSnapshot(const SnapshotSource& s);
// Errors: Corruption naming `path` and what is wrong (magic, version, size, checksum, part).
Result<LiveSnapshot> DecodeSnapshot(std::string_view file, const std::string& path);
// Reads and decodes the snapshot at `path`. NotFound when there is none.
Result<LiveSnapshot> ReadSnapshot(const std::string& path);
// Writes `bytes` (EncodeSnapshot) to `path` atomically with mode 0600.
Status WriteSnapshot(const std::string& path, std::string_view bytes);

}  // namespace ark::live
