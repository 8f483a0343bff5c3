// VersionBuilder: writes a new version into <store>/v-<N>.tmp — segments encoded from persons and
// their events, or hard links to segments of an older version that did not change — and
// publishes it: MANIFEST written and synced, directory renamed to v-<N> (fsync), then CURRENT
// replaced atomically. A crash at any point before CURRENT is replaced leaves the previous
// version current; leftovers are removed by the next writer (RemoveObsolete).
//
// REQUIRES: the caller holds the store's LOCK for the builder's whole life. Not thread-safe.
// Destroying an unpublished builder removes its temporary directory.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ark/status.h"
#include "store/block_format.h"
#include "store/manifest.h"
#include "store/options.h"
#include "store/segment.h"

namespace ark::store {

// Whether AddPerson starts a new block before a person with `events` events, when the block being
// filled holds `pending_persons` persons and `pending_events` events (the one rule, shared with
// builders that cut blocks themselves, TimelineWriter::BlockEncoder).
inline bool StartsNewBlock(const WriterOptions& opts, size_t pending_persons, size_t pending_events, size_t events) {
  return (pending_events > 0 && pending_events + events > opts.block_events) || pending_persons >= opts.block_events;
}

class VersionBuilder {
 public:
  static Result<std::unique_ptr<VersionBuilder>> Create(const std::string& store_dir, const WriterOptions& opts);
  ~VersionBuilder();

  uint64_t number() const { return number_; }
  PersonKey next_person() const { return next_person_; }
  uint64_t num_events() const { return num_events_; }

  // REQUIRES: p.key == next_person(); events belong to p, are in time order and passed
  // CheckEventTimes.
  Status AddPerson(const Person& p, std::span<const Event> events);
  // Adds a block encoded elsewhere (BlockBuilder::Finish) holding persons next_person() onwards;
  // events_by_source counts its events by source id. REQUIRES: no person added with AddPerson
  // is waiting in an unfinished block; info.first_person == next_person().
  Status AddBlock(std::string_view block, const BlockInfo& info, std::span<const uint64_t> events_by_source);
  // Adds segment `info` of the version in `src_dir` unchanged (hard link; copy if linking fails).
  // REQUIRES: info.first_person == next_person().
  Status LinkSegment(const std::string& src_dir, const SegmentInfo& info);
  // Finishes, writes the manifest and makes this version current. Returns its number.
  Result<uint64_t> Publish(const Dictionaries& dicts, uint64_t wal_through);

 private:
  VersionBuilder() = default;
  Status FlushBlock();
  Status WriteBlock(std::string_view block, const BlockInfo& info);
  Status FinishSegment();

  std::string store_dir_;
  std::string tmp_dir_;
  WriterOptions opts_;
  uint64_t number_ = 0;
  bool published_ = false;
  PersonKey next_person_ = 0;
  uint64_t num_events_ = 0;
  std::unique_ptr<BlockBuilder> block_;
  std::unique_ptr<SegmentWriter> segment_;
  std::vector<uint64_t> segment_sources_;
  std::string block_buf_;
  std::vector<SegmentInfo> segments_;
};

// From a store whose LOCK the caller holds: removes every version directory but `keep` and every
// temporary left by an interrupted build, and moves every WAL file numbered <= wal_through (folded
// into `keep`) to <store>/appended/, where it stays as the record of those acknowledged appends.
Status RemoveObsolete(const std::string& store_dir, uint64_t keep, uint64_t wal_through);

// Removes the temporaries (*.tmp) an interrupted build, compaction or atomic write left in the
// store directory. REQUIRES: the caller holds the LOCK (only a LOCK holder writes them).
Status RemoveTemporaries(const std::string& store_dir);

}  // namespace ark::store
