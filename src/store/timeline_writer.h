// TimelineWriter: builds a complete new version of the timeline store from persons and their
// events (what `ark build` does), streaming: memory holds one block, not the data set.
//
// Example:
//   ARK_ASSIGN_OR_RETURN(auto w, TimelineWriter::Create(ark_dir + "/store", WriterOptions{}));
//   for (...) ARK_RETURN_IF_ERROR(w->AddPerson(person, events));   // keys 0, 1, 2, ...
//   ARK_RETURN_IF_ERROR(w->Finish(dicts));
//
// Durability: nothing is visible until Finish publishes the version atomically; a crash (kill -9)
// or an error before that leaves the previous version current and readable. After publishing,
// older versions are deleted (open Stores keep reading theirs through their maps).
// Appended events: every event Store::Append acknowledged is kept in a WAL file — those not yet
// compacted in <store>/, those folded into a version in <store>/appended/ (docs/store-format.md).
// A writer that replaces the store's content from another source (`ark build`) must carry them
// over: TakeAppended hands them all to the caller, who adds them (mapped to current person keys)
// to the persons it writes, and the new version then covers every WAL file read. Without
// TakeAppended the new version inherits the previous version's WAL watermark: events not yet
// compacted stay live on top of it, compacted ones are not in it.
//
// Parallel building: blocks may be encoded on several threads, one BlockEncoder each, and added
// in person order with AddBlock. The version is then byte for byte what AddPerson would write
// when each block holds the persons AddPerson would have put in it: cut blocks with
// StartsNewBlock. AddPerson and AddBlock may be mixed only at block boundaries (AddBlock fails
// while persons added with AddPerson wait in an unfinished block).
//
// Locking: Create takes the store's LOCK and holds it until the writer is destroyed; it fails with
// FailedPrecondition while another writer (an appending Store, a compaction) holds it.
// Not thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>

#include "ark/status.h"
#include "core/event.h"
#include "store/block_format.h"
#include "store/file_lock.h"
#include "store/options.h"

namespace ark {

namespace store {
class VersionBuilder;
}

// Largest dictionary ids a run of events and persons uses (checked against the dictionaries).
struct UsedIds {
  uint64_t code = 0, unit = 0, source = 0, area = 0, practice = 0;
  void Merge(const UsedIds& o);
};

// One block encoded by a TimelineWriter::BlockEncoder, for TimelineWriter::AddBlock.
struct EncodedBlock {
  std::string bytes;
  store::BlockInfo info;
  std::vector<uint64_t> events_by_source;  // index = source id
  UsedIds ids;
};

class TimelineWriter {
 public:
  // Encodes blocks on the caller's thread (one encoder per thread; not thread-safe itself).
  class BlockEncoder {
   public:
    explicit BlockEncoder(const WriterOptions& opts);
    ~BlockEncoder();
    // The same requirements and checks as AddPerson (InvalidArgument), except that keys must be
    // consecutive only within a block: the first person after Finish may have any key.
    Status Add(const Person& p, std::span<const Event> events);
    size_t num_persons() const;
    size_t num_events() const;
    // Encodes the persons added since the last Finish into *out. REQUIRES: num_persons() > 0.
    Status Finish(EncodedBlock* out);

   private:
    std::unique_ptr<store::BlockBuilder> block_;
    EncodedBlock pending_;
    int64_t next_key_ = -1;
  };
  // Whether AddPerson would start a new block before a person with `events` events when the block
  // being filled holds `pending_persons` persons and `pending_events` events.
  static bool StartsNewBlock(const WriterOptions& opts, size_t pending_persons, size_t pending_events, size_t events);

  // `store_dir` is <ark>/store; it is created if missing.
  static Result<std::unique_ptr<TimelineWriter>> Create(const std::string& store_dir, WriterOptions opts = {});
  ~TimelineWriter();

  // Adds the next person. REQUIRES (checked, InvalidArgument): p.key is 0 for the first call and
  // one more than the previous key after that; every event has person == p.key; events are in
  // non-decreasing time order (events with equal times keep their order); times are in range.
  Status AddPerson(const Person& p, std::span<const Event> events);

  // Adds a block from a BlockEncoder. REQUIRES (checked): it starts at the next person key
  // (InvalidArgument); no person added with AddPerson waits in an unfinished block
  // (FailedPrecondition).
  Status AddBlock(const EncodedBlock& b);

  // Calls fn for every event ever appended to the store and acknowledged (all WAL files, folded
  // or not, in number order; a torn tail is ignored), and makes Finish publish the version as
  // covering all of them (watermark = the highest WAL file read). Call before Finish, at most
  // once. Errors: Corruption naming the WAL file and offset (a damaged record in the middle of a
  // file: nothing is published, rather than losing what follows it); an error from fn.
  // Appenders' tags (Store::Append's high-water mark) are kept: Finish writes the largest into a
  // new WAL file after the watermark, so Store::max_tag() is the same after the rebuild.
  Status TakeAppended(const std::function<Status(const AppendEvent&)>& fn);

  // Checks that every code, unit, source, area and practice id used is in `dicts`, writes the
  // version, syncs it and publishes it as current. The writer is finished afterwards.
  Status Finish(const Dictionaries& dicts);

  const WriterOptions& options() const { return opts_; }
  uint64_t num_persons() const;
  uint64_t num_events() const;

 private:
  TimelineWriter() = default;

  std::string store_dir_;
  WriterOptions opts_;
  store::FileLock lock_;
  std::unique_ptr<store::VersionBuilder> builder_;
  uint64_t wal_through_ = 0;
  uint64_t max_tag_ = 0;  // the largest complete tag TakeAppended read
  bool finished_ = false;
  UsedIds used_;  // checked against the dictionaries in Finish
};

}  // namespace ark
