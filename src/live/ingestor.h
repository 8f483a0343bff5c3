// The live ingest pipeline behind `ark serve`, without the network: pseudonymise → deduplicate by
// sender + MSH-10 → assign person keys → one durable write → acknowledge → indicators and alerts,
// with background compaction of the timeline store.
//
// Durability: the timeline store's write-ahead log is the one durable log. Each group of records
// is written with Store::AppendNoted: the records themselves (pseudonymised, EncodePseudo) as the
// WAL record's notes and their events (StoreEvents) in the same WAL record, with one fdatasync
// (the store's group commit). A record is acknowledged ("AA") only after that returns, so an
// acknowledged record and its events are both in the store or, before the ACK, neither. Events
// the store would refuse (time out of range) are left out and counted; the record is still logged
// and acknowledged. Alerts are emitted only for durable records, once: Open loads the live
// snapshot (ARK/live/snapshot, snapshot.h: person keys, retransmit window, indicators, recent
// alerts as of a WAL position) and replays only the notes after that position (Store::ReadNotes,
// which looks in <store> and <store>/appended, where compaction moves WAL files), with alerts
// suppressed, so a restart emits no duplicates and its time does not grow with history. Without
// a usable snapshot (none, or corrupt: a warning) every note is replayed. The committer takes a
// snapshot every `snapshot_records` records or `snapshot_interval_s` seconds and at a clean stop:
// it copies a consistent cut (the flat key table and window with memcpy, the live state by
// copy-assignment: milliseconds of ACK delay) and the snapshot thread encodes, writes and fsyncs
// it while acknowledgements go on. Open reads the catalog's person keys and opens the store on
// helper threads while it loads the snapshot.
//
// Arks served by earlier releases have a second log, ARK/live/log/*.wal (records first, events
// re-appended to the store later, reconciled by tags and "applied" markers). Open still reads it
// (first, then the store's notes) and re-appends to the store the events of its records that the
// store lacks; nothing is written there any more.
//
// Idempotency: a message whose sending facility + MSH-10 was accepted before (within the last
// `dedup_window` messages, also across restarts) is acknowledged AA again and not applied twice.
//
// Person keys: seeded from the catalog (person_keys, next_person); a new NHS-number pseudonym gets
// the next key and is added to the catalog (so batch linkage and live data share keys); MRN-only
// persons get keys recorded in the log only. A40 points the merged-away identifiers at the
// surviving person's key and moves its live state.
//
// Thread safety: Submit*, IndicatorsJson, Subscribe, Unsubscribe may be called from any thread.
// Done callbacks and alert subscribers run on the committer thread and must not block.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ark/status.h"
#include "live/key_table.h"
#include "live/metrics.h"
#include "live/pseudo.h"
#include "live/rules.h"
#include "live/snapshot.h"
#include "live/state.h"
#include "live/window_set.h"
#include "privacy/key.h"
#include "store/file_lock.h"
#include "store/options.h"

namespace ark {
class Store;
}  // namespace ark

namespace ark::live {

class LiveRisk;  // risk.h

struct IngestOptions {
  std::string ark_dir;
  ProgrammeKey key;
  RuleSet rules;
  size_t dedup_window = 1u << 20;  // retransmits recognised within the last N messages
  // Append the records' events to the timeline store (false: the records alone are logged, in
  // the store's WAL, with no events; benchmarks).
  bool use_store = true;
  int compact_interval_s = 60;     // background compaction period (0 = never)
  uint64_t compact_min_events = 50000;
  // ... and, between periods, as soon as this many events were appended since the last one, so
  // that the WAL delta a restart replays stays bounded however fast messages come (0 = no limit).
  uint64_t compact_max_events = 500000;
  uint64_t snapshot_records = 25000;   // a live snapshot after this many records (0 = never) ...
  int snapshot_interval_s = 60;        // ... or after this many seconds with new records
};

struct Outcome {
  std::string code;  // "AA", "AE", "AR"
  Status error;      // for AE/AR
  bool duplicate = false;
  PersonKey person = kNoPerson;
  uint64_t seq = 0;
};

class Ingestor {
 public:
  using Done = std::function<void(const Outcome&)>;
  using AlertFn = std::function<void(const Alert&, const std::string& json)>;

  // Errors: FailedPrecondition when another process (or Ingestor) serves this Ark (ARK/live/LOCK);
  // NotFound without a catalog; Corruption for a live log record that fails its checks in the
  // middle of a file.
  static Result<std::unique_ptr<Ingestor>> Open(IngestOptions opts, Metrics* metrics);
  ~Ingestor();  // drains the queue, stops the threads

  // Pseudonymises `rec` in the caller's thread and queues it; `done` runs once it is durable
  // (AA), a duplicate (AA), or could not be stored (AE).
  void Submit(const LiveRecord& rec, int64_t received_us, Done done);
  // Queues an error outcome (AE/AR) behind the caller's earlier submissions, keeping ACK order.
  void SubmitError(std::string code, Status error, Done done);

  // Indicators; with live risk, its figures under "risk" (LiveRisk::Json).
  std::string IndicatorsJson() const;
  // Live risk (risk.h): first every record of the live log (all files, acknowledged before this
  // start) is replayed into it (LiveRisk::Replay: no alerts), then every record made durable
  // from now on updates it and the alerts of its "risk" rules go out with the others. The
  // baseline must not read the live feed (BuildLiveRisk), or those events would count twice.
  // Call before records arrive. Errors: the live log's (IOError, Corruption naming the file).
  Status SetRisk(std::unique_ptr<LiveRisk> risk);
  uint64_t Subscribe(AlertFn fn);
  void Unsubscribe(uint64_t id);
  std::vector<std::string> RecentAlerts() const;  // up to the last 1000, oldest first
  uint64_t records() const { return last_seq_.load(); }
  uint64_t replayed() const { return replayed_; }     // logged records read at Open
  uint64_t restored() const { return restored_; }     // records covered by the snapshot loaded
  uint64_t snapshots() const { return snapshots_.load(); }  // snapshots written by this run
  std::string snapshot_path() const { return opts_.ark_dir + "/live/snapshot"; }
  // Every acknowledged record is in the store when it is acknowledged: returns the first error
  // of the background work (catalog keys, compaction), if any (tests, shutdown).
  Status FlushStore();
  // Where the records are logged (the store's directory).
  std::string log_dir() const { return opts_.ark_dir + "/store"; }

 private:
  struct Item {
    bool is_error = false;
    std::string code;
    Status error;
    PseudoRecord rec;
    Done done;
  };
  Ingestor() = default;
  Result<std::vector<std::string>> LegacyLogFiles() const;  // ARK/live/log file names, in order
  // Replays the legacy live log from (first_file, offset) (records after the snapshot's last_seq
  // go into the state; those after `marker` and the store's tag are re-appended to the store),
  // then the store's notes from `from` (into the state).
  Status Replay(const std::vector<std::string>& files, size_t first_file, uint64_t offset,
                uint64_t marker, WalPosition from);
  void ReplayOne(const PseudoRecord& r);  // a logged record after the snapshot, into the state
  // Loads the snapshot if usable; sets where replay starts: in the legacy log (file index,
  // offset; index files.size() = none of it) and in the store (*from). Never fails: an unusable
  // snapshot is reported on stderr and leaves the state as it was.
  void LoadSnapshot(const std::vector<std::string>& files, size_t* first_file, uint64_t* offset,
                    uint64_t* marker, WalPosition* from);
  Status ReadLegacyLog(const std::vector<std::string>& files, size_t first_file, uint64_t offset,
                       const std::function<Status(uint8_t, std::string_view)>& fn);
  // Calls fn for every logged record: the legacy log's, then the store's notes.
  Status ReadAllRecords(const std::function<Status(PseudoRecord)>& fn);
  // Appends the events of `recs` (seq order) with seq > `after`, in tagged chunks.
  Status AppendTagged(const std::vector<PseudoRecord>& recs, uint64_t after, size_t* events);
  Status Recover(const std::vector<PseudoRecord>& tail, uint64_t threshold);
  // Writes the fresh records of a batch (notes and events) durably. A record too large for a WAL
  // record is not written: its batch index goes to *refused. An error: nothing more is written.
  Status WriteRecords(std::vector<Item>& batch, const std::vector<size_t>& fresh,
                      std::vector<size_t>* refused);
  void MaybeSnapshot(bool final);  // committer thread (or the destructor once it stopped)
  void TakeCut();                  // fills cut_ / cut_state_ (committer thread; snap_busy_ false)
  void SnapshotLoop();
  void WriteCut();  // encodes cut_, writes it, counts; a failure is logged
  PersonKey Resolve(const std::string& nhs, const std::string& mrn, bool create);
  void CommitLoop();
  void StoreLoop();     // catalog keys and compaction
  void HandOverKeys();  // committer → store thread; REQUIRES store_mu_ held (or no threads yet)

  IngestOptions opts_;
  Metrics* metrics_ = nullptr;
  std::string log_dir_;
  store::FileLock lock_;  // ARK/live/LOCK: one listener per Ark
  std::unique_ptr<Store> store_;
  Status log_error_;  // sticky: a failed write; nothing is acknowledged after it
  WalPosition log_pos_;  // the end of the last write (committer thread)

  // Committer-thread state.
  KeyTable keys_;
  PersonKey next_key_ = 0;
  RetransmitWindow seen_;
  std::vector<std::string> new_nhs_keys_;  // pseudonyms (hex) with fresh keys, for the catalog
  std::vector<PersonKey> new_nhs_values_;
  std::atomic<uint64_t> last_seq_{0};
  uint64_t replayed_ = 0;
  uint64_t restored_ = 0;
  std::string replay_report_;  // where Open's replay time went (stderr)
  uint64_t since_snapshot_ = 0;
  bool started_ = false;  // Open completed (the threads run)
  std::chrono::steady_clock::time_point last_snapshot_;

  // Snapshot thread: encodes and writes the cut the committer took. cut_ and cut_state_ belong to
  // the committer while snap_busy_ is false, to the snapshot thread while it is true.
  std::mutex snap_mu_;
  std::condition_variable snap_cv_;
  SnapshotCut cut_;
  std::unique_ptr<LiveState> cut_state_;
  bool snap_busy_ = false, snap_stop_ = false;
  std::atomic<uint64_t> snapshots_{0};
  std::thread snap_thread_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::vector<Item> queue_;
  bool stop_ = false;
  std::thread committer_;

  mutable std::mutex state_mu_;
  std::unique_ptr<LiveState> state_;
  std::unique_ptr<LiveRisk> risk_;  // under state_mu_
  mutable std::mutex sub_mu_;
  std::map<uint64_t, AlertFn> subs_;
  uint64_t next_sub_ = 1;
  std::deque<std::string> recent_;

  // Store thread.
  std::mutex store_mu_;
  std::condition_variable store_cv_;
  std::vector<std::string> pending_nhs_keys_;  // handed over from new_nhs_* for the catalog
  std::vector<PersonKey> pending_nhs_values_;
  PersonKey pending_next_ = 0;
  bool store_wake_ = false;
  std::atomic<uint64_t> appended_events_{0};  // events appended by this run (compaction trigger)
  bool store_stop_ = false;
  Status store_error_;
  std::thread store_thread_;
};

// The source (feed) of the events the live pipeline appends to the timeline store.
inline constexpr const char* kLiveSource = "live";

// The timeline-store events of one record (source "live"): ADT events as "HL7/ADT_A01" etc.,
// results as "<vocabulary>/<code>" (LN → LOINC, SCT → SNOMED) with value and unit.
std::vector<AppendEvent> StoreEvents(const PseudoRecord& r);

}  // namespace ark::live
