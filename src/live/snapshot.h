// The live snapshot, ARK/live/snapshot: the ingestor's state as of one position in the store's
// WAL (where live records are logged), so that a restart replays only the records written after it (restart time independent of
// history). Written by `ark serve` every IngestOptions::snapshot_records records or
// snapshot_interval_s seconds and at a clean stop, atomically (temporary file, fsync, rename;
// mode 0600).
//
// File: "ARKLSNP1" | u32 format version | u64 body size | u64 XXH3-64 of the body | body.
// Body (store/coding.h varints and strings): last_seq, applied, log file name, replay offset,
// next person key, the person-key map (count, then per 64-hex-digit pseudonym 32 raw bytes + u32
// key; then count and text + varint key of any other pseudonyms), the retransmit window (count,
// u64 each, oldest first), the NHS pseudonyms not yet confirmed in the catalog, the recent alerts
// (JSON, oldest first) and the LiveState (LiveState::Encode).
//
// Thread-safe (stateless functions).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ark/status.h"
#include "live/key_table.h"
#include "live/pseudo.h"
#include "live/state.h"

namespace ark::live {

// 2: the person-key map as one dense run of 36-byte entries. Version 1 files are still read.
constexpr uint32_t kSnapshotFormatVersion = 2;

// Where replay resumes and what the store already holds.
struct SnapshotPosition {
  uint64_t last_seq = 0;  // the state covers every record with seq <= last_seq
  uint64_t applied = 0;   // records with seq <= applied were in the timeline store
  // Replay starts at byte `replay_offset` of `log_file` and continues with every later file.
  // "store:<N>" names the store's WAL file N (in <store> or <store>/appended); any other name is a
  // file of the live log of earlier releases (ARK/live/log), whose records with seq <= last_seq
  // are already in the state and are read only to bring the store up to date (those after
  // `applied`). Snapshots written now have applied == last_seq.
  std::string log_file;
  uint64_t replay_offset = 0;
};

// A consistent cut of the ingestor's state at one log position: what a snapshot holds. The
// committer fills one in a few milliseconds (the key table and the window are flat arrays,
// copied with memcpy; containers keep their capacity from one cut to the next) and a helper
// thread encodes and writes it while the committer goes on acknowledging.
struct SnapshotCut {
  SnapshotPosition pos;
  PersonKey next_key = 0;
  KeyTable keys;
  std::vector<uint64_t> window;  // the retransmit window, oldest first
  std::vector<std::pair<std::string, PersonKey>> catalog_backlog;
  std::vector<std::string> alerts;  // oldest first
};

// A decoded snapshot: the cut and the live state's bytes (LiveState::Decode).
struct LiveSnapshot : SnapshotCut {
  std::string state;
};

// The whole file (header included).
std::string EncodeSnapshot(const SnapshotCut& cut, const LiveState& state);
// Errors: Corruption naming `path` and what is wrong (magic, version, size, checksum, part).
Result<LiveSnapshot> DecodeSnapshot(std::string_view file, const std::string& path);
// Reads and decodes the snapshot at `path`. NotFound when there is none.
Result<LiveSnapshot> ReadSnapshot(const std::string& path);
// Writes `bytes` (EncodeSnapshot) to `path` atomically with mode 0600.
Status WriteSnapshot(const std::string& path, std::string_view bytes);

}  // namespace ark::live
