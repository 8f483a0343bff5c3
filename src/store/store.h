// Store: the timeline store of one Ark (<ark>/store): the current immutable version (memory-mapped
// segments) plus a live in-memory delta of appended events that every read merges.
//
// Durability: Append writes the events to the write-ahead log and returns OK only after an
// fdatasync covering them; concurrent appenders share one fdatasync (group commit). An
// acknowledged event survives kill -9 and power loss; Open replays the WAL and ignores a torn
// tail. Compact folds the delta into a new version and retires the WAL files it covers; it is
// crash-safe at every point (no event lost or duplicated). Format: docs/store-format.md.
//
// Processes: any number of processes may open a store and read. The first Append or Compact takes
// the store's LOCK (flock) for the Store's lifetime; a second writing process gets
// FailedPrecondition. A reader sees the WAL as it was when it opened, plus its own appends.
//
// Thread safety: all methods may be called concurrently (readers, appenders, one compaction at a
// time). Reads see a consistent snapshot taken when they start.
//
// Example:
//   ARK_ASSIGN_OR_RETURN(auto store, Store::Open(ark_dir + "/store"));
//   ARK_ASSIGN_OR_RETURN(uint64_t n, store->CountPersonsWithAnyCode(codes, from, to, 2));
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "ark/status.h"
#include "core/event.h"
#include "store/options.h"

namespace ark {

namespace store {
struct StoreState;
class FileLock;
class WalWriter;
}  // namespace store

class Store {
 public:
  using PersonFn = std::function<Status(const Person&, std::span<const Event>)>;

  // Opens the store in `store_dir` (<ark>/store). A missing directory or one with no published
  // version opens as an empty store. Errors: Corruption (manifest, segment footer or WAL record in
  // the middle of a WAL file fails its checks), IOError.
  static Result<std::unique_ptr<Store>> Open(const std::string& store_dir, StoreOptions opts = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Persons: max(persons of the version, largest appended key + 1). Events: version + delta.
  uint64_t num_persons() const;
  uint64_t num_events() const;
  // The dictionaries, including strings interned by appends (a snapshot; ids never change).
  std::shared_ptr<const Dictionaries> dicts() const;
  // The attributes of person `key` (O(one block) to decode: use ForEachPerson for many persons).
  // Persons known only from appends, or unreadable because of corruption, have unknown attributes.
  Person person(PersonKey key) const;

  // Calls fn for every person with key in [begin, end) ∩ [0, num_persons()), with its events
  // (version merged with the delta, in time order; equal times keep insertion order). The span is
  // valid only during the call. threads <= 1: one thread, in key order. threads > 1: blocks of
  // persons are visited on several threads at once (fn must be thread-safe; keys ascend within a
  // block, not globally). A non-OK status from fn stops the scan and is returned.
  // `columns` kCore leaves each event's unit, source and encounter 0 (cheaper to decode: study
  // definitions read only code, time, end and value).
  enum class Columns { kAll, kCore };
  Status ForEachPerson(const PersonFn& fn, int threads = 1, Columns columns = Columns::kAll) const {
    return ForEachPersonInRange(0, UINT32_MAX, fn, threads, columns);
  }
  Status ForEachPersonInRange(PersonKey begin, PersonKey end, const PersonFn& fn, int threads = 1,
                              Columns columns = Columns::kAll) const;

  // The fast path: the number of persons with at least one event whose code is in `codes` and
  // whose time is in [from, to). Unknown code ids are ignored. Work is split by block across
  // `threads` threads.
  Result<uint64_t> CountPersonsWithAnyCode(const std::vector<CodeId>& codes, Seconds from, Seconds to, int threads = 1) const;

  // Appends events durably (see above); codes, units and sources are interned. Person keys may be
  // >= num_persons() (new persons with unknown attributes; keys should stay dense). Errors:
  // InvalidArgument (empty code, time out of range) with nothing written; FailedPrecondition when
  // another process holds the LOCK; IOError (the store then refuses further appends). An Append
  // that did not return OK may still be partly or wholly present after a crash.
  //
  // `tag` (0 = none): a caller's high-water mark (`ark serve` passes the live-log sequence number
  // of the last record whose events are in `events`), written in the same WAL write as the events
  // and just before them, so that after a crash max_tag() counts it only if all of `events` are
  // in the store. Exact when `events` fit in one WAL record (<= 65,536 events); a larger tagged
  // append torn by a crash may leave a prefix of its events without the tag. Tags survive
  // compaction (carried into the new WAL file); `ark build`, which rewrites the store, drops them.
  Status Append(std::span<const AppendEvent> events, uint64_t tag = 0);
  // The largest tag passed to a successful Append (or found at Open), 0 if none.
  uint64_t max_tag() const;

  // Appends `events` together with `notes`, opaque records of the caller (`ark serve` writes its
  // pseudonymised messages), in ONE WAL record written and synced by the group commit: after a
  // crash both are there or neither, so the caller needs no log of its own. The events join the
  // delta as with Append; every reader of events skips the notes; only ReadNotes returns them.
  // Notes are kept as long as the WAL files are (compaction moves them to <store>/appended, `ark
  // build` keeps them). REQUIRES: <= 65,536 events and the record <= 64 MiB (InvalidArgument,
  // nothing written). Errors as Append. `end` (optional): the WAL position after the group that
  // wrote it: every note before it is durable.
  Status AppendNoted(std::span<const AppendEvent> events, std::span<const std::string> notes,
                     WalPosition* end = nullptr);
  // Checks events as Append does, without writing (InvalidArgument naming the problem).
  static Status CheckEvent(const AppendEvent& e);
  // Takes the writer LOCK and opens a new WAL file now rather than at the first append (Errors:
  // FailedPrecondition when another process holds the LOCK; IOError).
  Status PrepareAppend() { return EnsureWritable(); }
  // The end of the WAL as written so far ({0, 0} before this Store's first append).
  WalPosition wal_end() const;
  // Calls fn(note, end) for every note AppendNoted wrote after position `from`, in WAL order, from
  // the files in `store_dir` and `store_dir`/appended (a torn tail is ignored); `end` is the
  // position just after the note's record, from which a later read resumes. Errors: Corruption
  // (a damaged record in the middle of a file, naming it), an error from fn.
  // False when WAL file p.file (in `store_dir` or its appended/) is shorter than p.offset, so that
  // ReadNotes from p would fail. An absent file is readable: a WAL file that held only its header
  // is removed, and there was nothing after p in it.
  static bool PositionReadable(const std::string& store_dir, WalPosition p);
  static Status ReadNotes(const std::string& store_dir, WalPosition from,
                          const std::function<Status(std::string_view note, WalPosition end)>& fn);

  // Folds the delta into a new version (rewriting only the segments whose persons got events),
  // publishes it and deletes the WAL files it covers. Appends may continue meanwhile (they go to a
  // new WAL file). No-op when the delta is empty.
  Status Compact();

  // Checks every block checksum and decodes every block of the current version, the manifest and
  // every WAL record. Corruption names the file and the block or WAL offset.
  Status Verify() const;

  StoreStats Stats() const;
  const std::string& dir() const { return dir_; }

 private:
  struct PendingAppend;
  Store() = default;
  Status EnsureWritable();
  Status WriteGroup(const std::vector<PendingAppend*>& group);
  Status Commit(PendingAppend* w);  // group commit of one framed append
  Status CheckEvents(std::span<const AppendEvent> events) const;

  std::string dir_;
  StoreOptions opts_;

  // The readable state: version, delta, interned dictionaries. Readers take mu_ shared.
  mutable std::shared_mutex mu_;
  std::unique_ptr<store::StoreState> state_;

  // Write path. Lock order: compact_mu_ -> writable_mu_ -> wal_mu_ -> queue_mu_ / mu_.
  std::mutex compact_mu_;
  std::mutex writable_mu_;
  std::unique_ptr<store::FileLock> lock_;
  mutable std::mutex wal_mu_;  // held by the group-commit leader while writing, syncing and applying
  std::unique_ptr<store::WalWriter> wal_;
  uint64_t wal_number_ = 0;
  Status wal_error_;  // sticky: set when a WAL write failed
  std::mutex queue_mu_;
  std::deque<PendingAppend*> queue_;
};

}  // namespace ark
