// Internal to Store: the readable state (version + live delta + interned dictionaries), and
// loading it from disk (current version + replay of the WAL files above its watermark).
// Not thread-safe: Store guards a StoreState with its mutex.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ark/status.h"
#include "core/event.h"
#include "store/options.h"
#include "store/version.h"

namespace ark::store {

// Interns the strings of appended events into a copy-on-write Dictionaries: a snapshot handed
// out stays unchanged; ids are never reassigned.
class Interner {
 public:
  explicit Interner(const Dictionaries& base) : dicts_(std::make_shared<Dictionaries>(base)) {}
  // Converts `a` to an Event, adding unknown strings to the dictionaries.
  Result<Event> Intern(const AppendEvent& a);
  std::shared_ptr<const Dictionaries> Snapshot() const { return dicts_; }

 private:
  Dictionaries& Mutable();
  std::shared_ptr<Dictionaries> dicts_;
  bool indexed_ = false;
  std::unordered_map<std::string, uint32_t> codes_, units_, sources_;
};

// Events appended since the version's WAL watermark, in WAL order.
struct Delta {
  std::vector<Event> events;
  std::vector<uint64_t> events_by_source;
  uint64_t persons_floor = 0;  // largest appended key + 1

  void Add(const Event& e);
  // Forgets the first n events (folded into a version by compaction).
  void DropFront(size_t n);
};

struct StoreState {
  std::shared_ptr<const Version> version;
  Delta delta;
  std::unique_ptr<Interner> interner;
  // WAL files replayed at load: (number, file size), to detect a store changed by another process,
  // and those of them that held no events (removable once the LOCK is held).
  std::vector<std::pair<uint64_t, uint64_t>> replayed;
  std::vector<uint64_t> empty_wals;
  uint64_t max_tag = 0;  // the largest Append tag whose events are all in the WAL files read

  uint64_t num_persons() const { return std::max<uint64_t>(version->num_persons(), delta.persons_floor); }
};

// Validates an event to append (InvalidArgument naming the problem).
Status CheckAppendEvent(const AppendEvent& e);

// Loads the store in `dir`: CURRENT's version plus the WAL files above its watermark. Retries
// when another process publishes a version meanwhile.
Result<std::unique_ptr<StoreState>> LoadState(const std::string& dir, const StoreOptions& opts);

}  // namespace ark::store
