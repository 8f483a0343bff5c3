#include "live/ingestor.h"

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "live/risk.h"
#include "live/snapshot.h"
#include "store/store.h"
#include "store/wal.h"

namespace ark::live {
namespace {

constexpr uint8_t kLogRecordJson = 16;  // payload: PseudoRecord JSON (logs of earlier releases)
constexpr uint8_t kLogApplied = 17;  // payload: decimal seq; records up to it are in the store
constexpr uint8_t kLogRecord = 18;   // payload: EncodePseudo (binary)
constexpr const char* kSource = kLiveSource;

std::string Vocabulary(const std::string& s) {
  if (s == "LN" || s == "LOINC" || s == "http://loinc.org") return "LOINC";
  if (s == "SCT" || s == "SNOMED" || s == "SNOMEDCT" || s == "http://snomed.info/sct")
    return "SNOMED";
  if (s.empty()) return "LOCAL";
  std::string v;
  for (char c : s) v.push_back(c == '/' ? '_' : c);
  return v;
}

bool SaneTime(Seconds t) {
  return t != kNoTime && t > -2208988800LL && t < 7258118400LL;
}  // 1900..2200

uint64_t DedupHash(const PseudoRecord& r) {
  std::string k = r.sender;
  k.push_back('\x1f');
  k += r.control_id;
  return XXH3_64bits(k.data(), k.size());
}

std::string Raw(const std::string& hex) {
  Digest d;
  if (!FromHex(hex, &d)) return {};
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

// The catalog's person keys (the batch side), read on a helper thread at start.
struct CatalogKeys {
  Status status;
  std::vector<std::pair<std::array<char, KeyTable::kRawBytes>, PersonKey>> raw;
  std::vector<std::pair<std::string, PersonKey>> text;  // pseudonyms that are not 32 bytes
  PersonKey next = 0;
  double ms = 0;
};

CatalogKeys ReadCatalogKeys(const std::string& ark) {
  const int64_t t0 = NowMicros();
  CatalogKeys out;
  out.status = [&]() -> Status {
    ARK_ASSIGN_OR_RETURN(auto cat, Catalog::Open(ark));
    ARK_ASSIGN_OR_RETURN(auto st, cat->Prepare("SELECT pseudonym, person FROM person_keys"));
    for (;;) {
      ARK_ASSIGN_OR_RETURN(bool row, st->Step());
      if (!row) break;
      const std::string b = st->Blob(0);
      const auto v = static_cast<PersonKey>(st->Int(1));
      if (b.size() == KeyTable::kRawBytes) {
        out.raw.emplace_back();
        std::memcpy(out.raw.back().first.data(), b.data(), b.size());
        out.raw.back().second = v;
      } else {
        out.text.emplace_back(ToHex(reinterpret_cast<const uint8_t*>(b.data()), b.size()), v);
      }
    }
    ARK_ASSIGN_OR_RETURN(out.next, cat->NextPerson());
    return Status::OK();
  }();
  out.ms = (NowMicros() - t0) / 1e3;
  return out;
}

// A snapshot position in the store's WAL is named "store:<WAL file number>"; any other name is a
// file of the legacy live log.
constexpr std::string_view kStorePrefix = "store:";

std::string StorePositionName(uint64_t file) { return std::string(kStorePrefix) + std::to_string(file); }

bool ParseStorePosition(const std::string& name, uint64_t* file) {
  if (name.compare(0, kStorePrefix.size(), kStorePrefix) != 0) return false;
  const char* b = name.data() + kStorePrefix.size();
  const char* e = name.data() + name.size();
  const auto [ptr, ec] = std::from_chars(b, e, *file);
  return ec == std::errc() && ptr == e && b != e;
}

}  // namespace

std::vector<AppendEvent> StoreEvents(const PseudoRecord& r) {
  std::vector<AppendEvent> out;
  if (r.person == kNoPerson || r.kind == LiveRecord::Kind::kMerge) return out;
  const Seconds fallback = r.event_time != kNoTime     ? r.event_time
                           : r.message_time != kNoTime ? r.message_time
                                                       : r.received_us / 1000000;
  if (r.kind == LiveRecord::Kind::kResult) {
    for (const PseudoObs& o : r.observations) {
      if (o.code.empty()) continue;
      AppendEvent e;
      e.person = r.person;
      e.time = SaneTime(o.time) ? o.time : fallback;
      e.code = Vocabulary(o.system) + "/" + o.code;
      e.value = o.value;
      e.unit = o.unit;
      e.source = kSource;
      if (SaneTime(e.time)) out.push_back(std::move(e));
    }
    return out;
  }
  AppendEvent e;
  e.person = r.person;
  std::string type = r.message_type;
  std::replace(type.begin(), type.end(), '^', '_');
  e.code = "HL7/" + (type.empty() ? std::string(KindName(r.kind)) : type);
  e.source = kSource;
  if (r.kind == LiveRecord::Kind::kAdmit && SaneTime(r.admit_time))
    e.time = r.admit_time;
  else if (r.kind == LiveRecord::Kind::kDischarge && SaneTime(r.discharge_time))
    e.time = r.discharge_time;
  else
    e.time = fallback;
  if (SaneTime(e.time)) out.push_back(std::move(e));
  return out;
}

Result<std::unique_ptr<Ingestor>> Ingestor::Open(IngestOptions opts, Metrics* metrics) {
  std::unique_ptr<Ingestor> in(new Ingestor());
  in->opts_ = std::move(opts);
  in->metrics_ = metrics;
  in->state_ = std::make_unique<LiveState>(in->opts_.rules);
  in->seen_ = RetransmitWindow(in->opts_.dedup_window);
  const std::string& ark = in->opts_.ark_dir;
  in->log_dir_ = ark + "/live/log";  // the legacy live log, read only
  ARK_RETURN_IF_ERROR(MakeDirs(ark + "/live"));
  const int64_t t0 = NowMicros();
  {
    auto lock = store::FileLock::TryLock(ark + "/live/LOCK");
    if (!lock.ok()) {
      return Status::FailedPrecondition(ark + ": another `ark serve` is running on this Ark (" +
                                        lock.status().message() + ")");
    }
    in->lock_ = std::move(*lock);
  }
  // Three reads at once: the catalog's person keys (the batch side) and the timeline store's open
  // on helper threads, the live snapshot here. The catalog's keys then go under the snapshot's
  // (a pseudonym the live side re-keyed, by an A40 merge, keeps its live key) and the log tail is
  // replayed on top of both, as if they had been loaded one after the other.
  CatalogKeys cat;
  std::jthread cat_thread([&] { cat = ReadCatalogKeys(ark); });
  Result<std::unique_ptr<Store>> store = std::unique_ptr<Store>();
  double store_ms = 0;
  std::jthread store_thread([&] {
    const int64_t s0 = NowMicros();
    store = Store::Open(ark + "/store");
    store_ms = (NowMicros() - s0) / 1e3;
  });
  ARK_ASSIGN_OR_RETURN(const std::vector<std::string> files, in->LegacyLogFiles());
  size_t first_file = 0;
  uint64_t offset = 0, marker = 0;
  WalPosition from;
  const int64_t t1 = NowMicros();
  in->LoadSnapshot(files, &first_file, &offset, &marker, &from);
  const int64_t t2 = NowMicros();
  cat_thread.join();
  ARK_RETURN_IF_ERROR(cat.status);
  for (const auto& [raw, v] : cat.raw) in->keys_.SetRaw(raw.data(), v, /*overwrite=*/false);
  for (const auto& [text, v] : cat.text) in->keys_.SetIfAbsent(text, v);
  in->next_key_ = std::max(in->next_key_, cat.next);
  store_thread.join();
  ARK_RETURN_IF_ERROR(store.status());
  in->store_ = std::move(*store);
  const int64_t t3 = NowMicros();
  ARK_RETURN_IF_ERROR(in->Replay(files, first_file, offset, marker, from));
  const int64_t t4 = NowMicros();
  // Take the store's writer LOCK and open its WAL file now, so that `ark append`/`ark compact`
  // are refused from the start and every later write lands after everything replayed.
  ARK_RETURN_IF_ERROR(in->store_->PrepareAppend().WithContext(ark + "/store"));
  in->log_pos_ = in->store_->wal_end();
  const int64_t t5 = NowMicros();
  std::fprintf(stderr,
               "ark serve: open %.0f ms: catalog keys %.0f ms, store %.0f ms (%llu delta events) "
               "(both on helper threads while the snapshot loads), live state %.0f ms (snapshot "
               "%.0f ms for %llu records, waiting for the helpers and merging %zu catalog keys "
               "%.0f ms, %s), store lock %.0f ms\n",
               (t5 - t0) / 1e3, cat.ms, store_ms,
               static_cast<unsigned long long>(in->store_->Stats().delta_events),
               (t4 - t1) / 1e3, (t2 - t1) / 1e3, static_cast<unsigned long long>(in->restored_),
               cat.raw.size() + cat.text.size(), (t3 - t2) / 1e3, in->replay_report_.c_str(),
               (t5 - t4) / 1e3);
  in->HandOverKeys();
  in->committer_ = std::thread([p = in.get()] { p->CommitLoop(); });
  in->snap_thread_ = std::thread([p = in.get()] { p->SnapshotLoop(); });
  in->started_ = true;
  in->store_thread_ = std::thread([p = in.get()] { p->StoreLoop(); });
  return in;
}

Ingestor::~Ingestor() {
  {
    std::lock_guard<std::mutex> l(queue_mu_);
    stop_ = true;
  }
  queue_cv_.notify_all();
  if (committer_.joinable()) committer_.join();
  {
    std::lock_guard<std::mutex> l(store_mu_);
    store_stop_ = true;
  }
  store_cv_.notify_all();
  if (store_thread_.joinable()) store_thread_.join();
  {
    std::lock_guard<std::mutex> l(snap_mu_);
    snap_stop_ = true;
  }
  snap_cv_.notify_all();
  if (snap_thread_.joinable()) snap_thread_.join();
  // A clean stop: a final snapshot, so that the next start replays nothing.
  if (store_ && log_error_.ok() && started_) MaybeSnapshot(/*final=*/true);
}

void Ingestor::MaybeSnapshot(bool final) {
  if (opts_.snapshot_records == 0) return;
  if (!final) {
    const bool due = since_snapshot_ >= opts_.snapshot_records ||
                     (since_snapshot_ > 0 && opts_.snapshot_interval_s > 0 &&
                      std::chrono::steady_clock::now() - last_snapshot_ >=
                          std::chrono::seconds(opts_.snapshot_interval_s));
    if (!due) return;
    std::lock_guard<std::mutex> l(snap_mu_);
    if (snap_busy_) return;  // the previous one is still being written: try after the next group
  }
  // ACKs wait only for the cut (copies), not for encoding, checksumming and writing.
  const int64_t t0 = NowMicros();
  TakeCut();
  metrics_->snapshot_stall.Observe((NowMicros() - t0) / 1e6);
  since_snapshot_ = 0;
  last_snapshot_ = std::chrono::steady_clock::now();
  if (final) {
    WriteCut();
    return;
  }
  {
    std::lock_guard<std::mutex> l(snap_mu_);
    snap_busy_ = true;
  }
  snap_cv_.notify_one();
}

void Ingestor::TakeCut() {
  SnapshotCut& c = cut_;
  c.pos.last_seq = last_seq_.load();
  c.pos.applied = c.pos.last_seq;  // acknowledged = in the store
  c.pos.log_file = StorePositionName(log_pos_.file);
  c.pos.replay_offset = log_pos_.offset;
  c.next_key = next_key_;
  c.keys = keys_;  // one memcpy of the slots (the cut keeps its capacity between snapshots)
  c.window.clear();
  seen_.AppendOrder(&c.window);
  c.catalog_backlog.clear();
  {
    std::lock_guard<std::mutex> l(store_mu_);
    for (size_t i = 0; i < pending_nhs_keys_.size() && c.catalog_backlog.size() < 100000; ++i)
      c.catalog_backlog.emplace_back(pending_nhs_keys_[i], pending_nhs_values_[i]);
  }
  for (size_t i = 0; i < new_nhs_keys_.size() && c.catalog_backlog.size() < 100000; ++i)
    c.catalog_backlog.emplace_back(new_nhs_keys_[i], new_nhs_values_[i]);
  {
    std::lock_guard<std::mutex> l(sub_mu_);
    c.alerts.assign(recent_.begin(), recent_.end());
  }
  // Only this thread changes state_; copy-assignment reuses the previous cut's nodes.
  if (!cut_state_)
    cut_state_ = std::make_unique<LiveState>(*state_);
  else
    *cut_state_ = *state_;
}

void Ingestor::WriteCut() {
  const int64_t t0 = NowMicros();
  const std::string bytes = EncodeSnapshot(cut_, *cut_state_);
  metrics_->snapshot_encode.Observe((NowMicros() - t0) / 1e6);
  metrics_->snapshot_bytes = bytes.size();
  Status s = WriteSnapshot(snapshot_path(), bytes);
  if (!s.ok()) {
    std::fprintf(stderr, "ark serve: live snapshot not written: %s\n", s.ToString().c_str());
    return;
  }
  snapshots_++;
  metrics_->snapshots++;
}

void Ingestor::SnapshotLoop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> l(snap_mu_);
      snap_cv_.wait(l, [&] { return snap_stop_ || snap_busy_; });
      if (!snap_busy_) return;  // stopping with nothing to write
    }
    WriteCut();
    std::lock_guard<std::mutex> l(snap_mu_);
    snap_busy_ = false;
  }
}

PersonKey Ingestor::Resolve(const std::string& nhs, const std::string& mrn, bool create) {
  PersonKey k = kNoPerson;
  if (!nhs.empty()) k = keys_.Find(nhs);
  if (k == kNoPerson && !mrn.empty()) k = keys_.Find(mrn);
  if (k == kNoPerson && create && (!nhs.empty() || !mrn.empty())) {
    k = next_key_++;
    if (!nhs.empty()) {
      new_nhs_keys_.push_back(nhs);
      new_nhs_values_.push_back(k);
    }
  }
  if (k != kNoPerson && create) {
    if (!nhs.empty()) keys_.Set(nhs, k);
    if (!mrn.empty()) keys_.Set(mrn, k);
  }
  return k;
}

Status Ingestor::ReadLegacyLog(const std::vector<std::string>& files, size_t first_file,
                               uint64_t offset,
                               const std::function<Status(uint8_t, std::string_view)>& fn) {
  for (size_t i = first_file; i < files.size(); ++i) {
    const std::string path = log_dir_ + "/" + files[i];
    auto res = store::ReadWal(path, fn, i == first_file ? offset : 0);
    if (!res.ok()) return res.status().WithContext(path);
    if (res->corrupt) return Status::Corruption(path + ": " + res->problem);
  }
  return Status::OK();
}

Status Ingestor::ReadAllRecords(const std::function<Status(PseudoRecord)>& fn) {
  ARK_ASSIGN_OR_RETURN(const std::vector<std::string> files, LegacyLogFiles());
  ARK_RETURN_IF_ERROR(ReadLegacyLog(files, 0, 0, [&](uint8_t type, std::string_view payload) -> Status {
    if (type != kLogRecord && type != kLogRecordJson) return Status::OK();
    ARK_ASSIGN_OR_RETURN(PseudoRecord r, type == kLogRecord ? DecodePseudo(payload) : PseudoFromJson(payload));
    return fn(std::move(r));
  }));
  const std::string dir = opts_.ark_dir + "/store";
  return Store::ReadNotes(dir, WalPosition{}, [&](std::string_view note, WalPosition) -> Status {
    auto r = DecodePseudo(note);
    if (!r.ok()) return r.status().WithContext(dir + ": live record");
    return fn(std::move(*r));
  });
}

void Ingestor::LoadSnapshot(const std::vector<std::string>& files, size_t* first_file,
                            uint64_t* offset, uint64_t* marker, WalPosition* from) {
  const std::string path = snapshot_path();
  (void)RemoveAll(path + ".tmp");  // a snapshot interrupted before its rename
  auto snap = ReadSnapshot(path);
  if (!snap.ok()) {
    if (snap.status().code() != StatusCode::kNotFound) {
      std::fprintf(stderr, "ark serve: warning: live snapshot not used, replaying the whole log: %s\n",
                   snap.status().ToString().c_str());
    }
    return;
  }
  auto warn = [&](const std::string& why) {
    std::fprintf(stderr, "ark serve: warning: live snapshot not used, replaying the whole log: %s: %s\n",
                 path.c_str(), why.c_str());
  };
  uint64_t wal = 0;
  const bool in_store = ParseStorePosition(snap->pos.log_file, &wal);
  size_t index = files.size();
  if (in_store) {
    if (!Store::PositionReadable(opts_.ark_dir + "/store", WalPosition{wal, snap->pos.replay_offset}))
      return warn("its position " + std::to_string(snap->pos.replay_offset) + " in WAL file " + std::to_string(wal) +
                  " is past the end of that file");
  } else {
    const auto it = std::find(files.begin(), files.end(), snap->pos.log_file);
    if (it == files.end()) return warn("its live-log file " + snap->pos.log_file + " is missing");
    const uint64_t size = DiskUsage(log_dir_ + "/" + *it);
    if (snap->pos.replay_offset > size)
      return warn("its offset " + std::to_string(snap->pos.replay_offset) + " is past the end of " +
                  *it + " (" + std::to_string(size) + " bytes)");
    index = static_cast<size_t>(it - files.begin());
  }
  LiveState state(opts_.rules);
  if (Status s = state.Decode(snap->state); !s.ok()) return warn(s.message());
  *state_ = std::move(state);
  keys_ = std::move(snap->keys);  // called first: the catalog's keys go under these afterwards
  next_key_ = std::max(next_key_, snap->next_key);
  seen_.reserve(std::min<size_t>(snap->window.size(), opts_.dedup_window) + 1024);
  for (uint64_t h : snap->window) seen_.Remember(h);
  for (auto& [k, v] : snap->catalog_backlog) {
    new_nhs_keys_.push_back(std::move(k));
    new_nhs_values_.push_back(v);
  }
  recent_.assign(snap->alerts.begin(), snap->alerts.end());
  last_seq_ = snap->pos.last_seq;
  restored_ = snap->pos.last_seq;
  *marker = snap->pos.applied;
  *first_file = index;
  if (in_store) {
    *from = WalPosition{wal, snap->pos.replay_offset};
  } else {
    *offset = snap->pos.replay_offset;
  }
}

Result<std::vector<std::string>> Ingestor::LegacyLogFiles() const {
  std::vector<std::string> files;
  if (!PathExists(log_dir_)) return files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(log_dir_, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 4 && name.substr(name.size() - 4) == ".wal") files.push_back(name);
  }
  if (ec) return Status::IOError("live log: " + log_dir_ + ": " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

void Ingestor::ReplayOne(const PseudoRecord& r) {
  last_seq_ = std::max<uint64_t>(last_seq_, r.seq);
  seen_.Remember(DedupHash(r));
  if (r.person != kNoPerson) {
    // One hash lookup per pseudonym (the key map is most of a replay's time).
    for (const std::string* s :
         {&r.nhs_pseudonym, &r.mrn_pseudonym, &r.merged_nhs_pseudonym, &r.merged_mrn_pseudonym}) {
      if (s->empty()) continue;
      const bool fresh = keys_.Set(*s, r.person);
      if (fresh && s == &r.nhs_pseudonym && new_nhs_keys_.size() < 100000) {
        new_nhs_keys_.push_back(r.nhs_pseudonym);  // re-offered to the catalog (INSERT OR IGNORE)
        new_nhs_values_.push_back(r.person);
      }
    }
    next_key_ = std::max<PersonKey>(next_key_, r.person + 1);
  }
  state_->Apply(r);
}

Status Ingestor::Replay(const std::vector<std::string>& files, size_t first_file, uint64_t offset,
                        uint64_t marker, WalPosition from) {
  const int64_t t1 = NowMicros();
  const uint64_t covered = last_seq_.load();  // records the snapshot's state already holds
  // 1. The legacy live log, streaming in log order from the snapshot's position: rebuild keys,
  // retransmit window and indicators (alerts are not emitted); keep only the records after the
  // latest "applied" marker, for the store.
  std::deque<PseudoRecord> tail;
  ARK_RETURN_IF_ERROR(ReadLegacyLog(files, first_file, offset,
                                    [&](uint8_t type, std::string_view payload) -> Status {
    if (type == kLogApplied) {
      uint64_t m = 0;
      const char* end = payload.data() + payload.size();
      const auto [ptr, ec] = std::from_chars(payload.data(), end, m);
      if (ec != std::errc() || ptr != end) {
        return Status::Corruption("live log: 'applied' marker '" + std::string(payload) +
                                  "' is not a record number");
      }
      marker = std::max<uint64_t>(marker, m);
      while (!tail.empty() && tail.front().seq <= marker) tail.pop_front();
      return Status::OK();
    }
    if (type != kLogRecord && type != kLogRecordJson) return Status::OK();
    ARK_ASSIGN_OR_RETURN(PseudoRecord r,
                         type == kLogRecord ? DecodePseudo(payload) : PseudoFromJson(payload));
    ++replayed_;
    if (r.seq > covered) ReplayOne(r);
    if (opts_.use_store && r.seq > marker) tail.push_back(std::move(r));
    return Status::OK();
  }));
  const int64_t t2 = NowMicros();
  size_t recovered = 0;
  const uint64_t threshold = std::max(marker, store_->max_tag());
  while (!tail.empty() && tail.front().seq <= threshold) tail.pop_front();
  recovered = tail.size();
  if (!tail.empty())
    ARK_RETURN_IF_ERROR(Recover(std::vector<PseudoRecord>(tail.begin(), tail.end()), threshold));
  const int64_t t3 = NowMicros();
  // 2. The store's notes: each record is there with its events, nothing to recover.
  const uint64_t legacy = replayed_;
  const std::string dir = opts_.ark_dir + "/store";
  ARK_RETURN_IF_ERROR(Store::ReadNotes(dir, from, [&](std::string_view note, WalPosition) -> Status {
    auto r = DecodePseudo(note);
    if (!r.ok()) return r.status().WithContext(dir + ": live record");
    ++replayed_;
    if (r->seq > covered) ReplayOne(*r);
    return Status::OK();
  }));
  const int64_t t4 = NowMicros();
  char report[240];
  std::snprintf(report, sizeof report,
                "legacy live log %.0f ms for %llu records, its store recovery %.0f ms for %zu records, "
                "store WAL %.0f ms for %llu records",
                (t2 - t1) / 1e3, static_cast<unsigned long long>(legacy), (t3 - t2) / 1e3, recovered,
                (t4 - t3) / 1e3, static_cast<unsigned long long>(replayed_ - legacy));
  replay_report_ = report;
  since_snapshot_ = last_seq_.load() - restored_;
  last_snapshot_ = std::chrono::steady_clock::now();
  return Status::OK();
}

Status Ingestor::AppendTagged(const std::vector<PseudoRecord>& recs, uint64_t after,
                              size_t* events) {
  // One WAL record per Append (<= 65,536 events) keeps the tag exact across a crash.
  constexpr size_t kChunk = 65536;
  std::vector<AppendEvent> chunk;
  uint64_t tag = 0;
  for (const PseudoRecord& r : recs) {
    if (r.seq <= after) continue;
    std::vector<AppendEvent> ev = StoreEvents(r);
    if (!chunk.empty() && chunk.size() + ev.size() > kChunk) {
      ARK_RETURN_IF_ERROR(store_->Append(chunk, tag));
      *events += chunk.size();
      chunk.clear();
    }
    for (AppendEvent& e : ev) chunk.push_back(std::move(e));
    if (!ev.empty()) tag = r.seq;
  }
  if (!chunk.empty()) {
    ARK_RETURN_IF_ERROR(store_->Append(chunk, tag));
    *events += chunk.size();
  }
  return Status::OK();
}

// The records after `threshold` (the store's tag, or the last "applied" marker) never reached the
// store, or did so in an append whose tag the crash tore off with it: append their events now.
Status Ingestor::Recover(const std::vector<PseudoRecord>& tail, uint64_t threshold) {
  size_t events = 0;
  ARK_RETURN_IF_ERROR(AppendTagged(tail, threshold, &events));
  if (events > 0) {
    std::fprintf(stderr,
                 "ark serve: recovery: %zu live events of %zu records after store position %llu "
                 "re-appended\n",
                 events, tail.size(), static_cast<unsigned long long>(threshold));
  }
  return Status::OK();
}

void Ingestor::Submit(const LiveRecord& rec, int64_t received_us, Done done) {
  Item it;
  it.rec = Pseudonymise(rec, opts_.key);
  it.rec.received_us = received_us;
  it.done = std::move(done);
  {
    std::lock_guard<std::mutex> l(queue_mu_);
    queue_.push_back(std::move(it));
  }
  queue_cv_.notify_one();
}

void Ingestor::SubmitError(std::string code, Status error, Done done) {
  Item it;
  it.is_error = true;
  it.code = std::move(code);
  it.error = std::move(error);
  it.done = std::move(done);
  {
    std::lock_guard<std::mutex> l(queue_mu_);
    queue_.push_back(std::move(it));
  }
  queue_cv_.notify_one();
}

Status Ingestor::WriteRecords(std::vector<Item>& batch, const std::vector<size_t>& fresh,
                              std::vector<size_t>* refused) {
  // One AppendNoted (one WAL record, one fdatasync) per chunk of at most 65,536 events and about
  // 16 MiB of records; a group is one chunk unless it is very large.
  constexpr size_t kMaxEvents = 65536, kMaxNoteBytes = 16u << 20;
  std::vector<std::string> notes;
  std::vector<size_t> owners;  // the batch index of each note
  std::vector<AppendEvent> events;
  size_t note_bytes = 0;
  auto written = [&](const WalPosition& end, size_t n_events) {
    log_pos_ = end;
    metrics_->store_events += n_events;
    appended_events_ += n_events;
  };
  auto flush = [&]() -> Status {
    if (notes.empty()) return Status::OK();
    WalPosition end;
    Status s = store_->AppendNoted(events, notes, &end);
    if (s.code() == StatusCode::kInvalidArgument && !events.empty()) {
      // Refused events (the per-event checks make this unexpected: more than 65,535 sources):
      // log the records without them.
      metrics_->store_errors++;
      std::fprintf(stderr, "ark serve: %zu events not added to the timeline store: %s\n", events.size(),
                   s.ToString().c_str());
      events.clear();
      s = store_->AppendNoted(events, notes, &end);
    }
    if (s.code() == StatusCode::kInvalidArgument) {
      // A record too large for one WAL record: write them one by one and refuse (AE) only those
      // that do not fit, so that one huge message cannot stop the others being acknowledged.
      for (size_t k = 0; k < notes.size(); ++k) {
        Status one = store_->AppendNoted({}, std::span<const std::string>(&notes[k], 1), &end);
        if (one.code() == StatusCode::kInvalidArgument) {
          refused->push_back(owners[k]);
          continue;
        }
        ARK_RETURN_IF_ERROR(one);
        written(end, 0);
      }
      s = Status::OK();
    } else {
      ARK_RETURN_IF_ERROR(s);
      written(end, events.size());
    }
    metrics_->log_bytes += note_bytes;
    notes.clear();
    owners.clear();
    events.clear();
    note_bytes = 0;
    return Status::OK();
  };
  for (size_t i : fresh) {
    const PseudoRecord& r = batch[i].rec;
    std::vector<AppendEvent> ev;
    if (opts_.use_store) ev = StoreEvents(r);
    if (!notes.empty() && (events.size() + ev.size() > kMaxEvents || note_bytes > kMaxNoteBytes))
      ARK_RETURN_IF_ERROR(flush());
    notes.emplace_back();
    EncodePseudo(r, &notes.back());
    owners.push_back(i);
    note_bytes += notes.back().size();
    for (AppendEvent& e : ev) {
      if (Store::CheckEvent(e).ok() && events.size() < kMaxEvents)
        events.push_back(std::move(e));
      else
        metrics_->store_errors++;  // logged and acknowledged, not in the timeline
    }
  }
  return flush();
}

void Ingestor::CommitLoop() {
  std::vector<Item> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> l(queue_mu_);
      queue_cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty() && stop_) return;
      batch.swap(queue_);
    }
    std::vector<Outcome> outcomes(batch.size());
    std::vector<size_t> fresh;
    std::vector<uint64_t> hashes;
    for (size_t i = 0; i < batch.size(); ++i) {
      Item& it = batch[i];
      Outcome& o = outcomes[i];
      if (it.is_error) {
        o.code = it.code;
        o.error = it.error;
        continue;
      }
      PseudoRecord& r = it.rec;
      if (r.observations.size() > 65536) {  // their events would not fit one WAL record
        o.code = "AE";
        o.error = Status::InvalidArgument("more than 65,536 observations in one message (" +
                                          std::to_string(r.observations.size()) + ")");
        continue;
      }
      const uint64_t h = DedupHash(r);
      if (!r.control_id.empty() && seen_.count(h)) {
        o.code = "AA";
        o.duplicate = true;
        continue;
      }
      if (!r.control_id.empty()) {
        seen_.Remember(h);
        hashes.push_back(h);
      }
      r.seq = ++last_seq_;
      if (r.kind == LiveRecord::Kind::kMerge) {
        r.person = Resolve(r.nhs_pseudonym, r.mrn_pseudonym, true);
        r.merged_person = Resolve(r.merged_nhs_pseudonym, r.merged_mrn_pseudonym, false);
        if (r.person != kNoPerson) {
          if (!r.merged_nhs_pseudonym.empty()) keys_.Set(r.merged_nhs_pseudonym, r.person);
          if (!r.merged_mrn_pseudonym.empty()) keys_.Set(r.merged_mrn_pseudonym, r.person);
        }
      } else {
        r.person = Resolve(r.nhs_pseudonym, r.mrn_pseudonym, true);
      }
      o.code = "AA";
      o.person = r.person;
      o.seq = r.seq;
      fresh.push_back(i);
    }
    if (!fresh.empty()) {
      const int64_t t0 = NowMicros();
      std::vector<size_t> refused;
      Status s = log_error_.ok() ? WriteRecords(batch, fresh, &refused) : log_error_;
      metrics_->commit_latency.Observe((NowMicros() - t0) / 1e6);
      if (!s.ok()) {
        log_error_ = s;  // sticky: nothing is acknowledged from now on
        std::fprintf(stderr, "ark serve: records not stored, nothing is acknowledged from now on: %s\n",
                     s.ToString().c_str());
        for (size_t i : fresh) {
          outcomes[i] = Outcome{"AE", Status::IOError("not stored: " + s.message())};
        }
        for (uint64_t h : hashes) seen_.Forget(h);
        fresh.clear();
      } else {
        for (size_t i : refused) {
          outcomes[i] = Outcome{"AE", Status::InvalidArgument("message too large to log (over 64 MiB as a record)")};
          if (!batch[i].rec.control_id.empty()) seen_.Forget(DedupHash(batch[i].rec));
        }
        if (!refused.empty()) {
          std::sort(refused.begin(), refused.end());
          std::erase_if(fresh, [&](size_t i) { return std::binary_search(refused.begin(), refused.end(), i); });
        }
        since_snapshot_ += fresh.size();
        metrics_->groups++;
        metrics_->group_records += fresh.size();
      }
    }
    // Indicators and alerts, for durable records only.
    // They are durable already: a failure here (never expected) is logged, not fatal.
    std::vector<Alert> alerts;
    try {
      std::lock_guard<std::mutex> l(state_mu_);
      for (size_t i : fresh) {
        for (Alert& a : state_->Apply(batch[i].rec)) alerts.push_back(std::move(a));
        if (risk_)
          for (Alert& a : risk_->Apply(batch[i].rec)) alerts.push_back(std::move(a));
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ark serve: indicators not updated for a batch: %s\n", e.what());
    }
    if (!alerts.empty()) try {
      std::lock_guard<std::mutex> l(sub_mu_);
      for (Alert& a : alerts) {
        a.emitted_us = NowMicros();
        metrics_->alerts++;
        metrics_->action_receipt.Observe((a.emitted_us - a.received_us) / 1e6);
        if (a.event_time != kNoTime)
          metrics_->action_event.Observe(a.emitted_us / 1e6 - static_cast<double>(a.event_time));
        const std::string j = AlertJson(a);
        recent_.push_back(j);
        if (recent_.size() > 1000) recent_.pop_front();
        for (auto& [id, fn] : subs_) fn(a, j);
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ark serve: alerts not delivered for a batch: %s\n", e.what());
    }
    // Acknowledge.
    const int64_t now = NowMicros();
    for (size_t i = 0; i < batch.size(); ++i) {
      const Outcome& o = outcomes[i];
      if (o.duplicate)
        metrics_->duplicates++;
      else if (o.code == "AA") {
        metrics_->accepted++;
        metrics_->CountType(batch[i].rec.message_type);
      } else if (o.code == "AR")
        metrics_->rejected++;
      else
        metrics_->errors++;
      if (!batch[i].is_error && batch[i].rec.received_us)
        metrics_->ack_latency.Observe((now - batch[i].rec.received_us) / 1e6);
      if (batch[i].done) batch[i].done(o);
    }
    // New persons' keys to the store thread, for the catalog.
    if (!fresh.empty()) {
      {
        std::lock_guard<std::mutex> l(store_mu_);
        HandOverKeys();
        store_wake_ = true;
      }
      store_cv_.notify_one();
    }
    batch.clear();
    if (log_error_.ok()) MaybeSnapshot(/*final=*/false);
  }
}

void Ingestor::HandOverKeys() {
  pending_nhs_keys_.insert(pending_nhs_keys_.end(), new_nhs_keys_.begin(), new_nhs_keys_.end());
  pending_nhs_values_.insert(pending_nhs_values_.end(), new_nhs_values_.begin(),
                             new_nhs_values_.end());
  new_nhs_keys_.clear();
  new_nhs_values_.clear();
  pending_next_ = std::max(pending_next_, next_key_);
}

void Ingestor::StoreLoop() {
  // The first check comes at once: a server restarted more often than the interval (kill -9
  // trials) would otherwise never compact, and the store's WAL delta — replayed at every start —
  // would grow with history.
  auto last_compact =
      std::chrono::steady_clock::now() - std::chrono::seconds(opts_.compact_interval_s + 1);
  std::unique_ptr<Catalog> cat;
  PersonKey catalog_next = 0;
  uint64_t compacted_at = 0;  // appended_events_ at the last compaction check
  bool stopping = false;
  for (;;) {
    std::vector<std::string> nhs;
    std::vector<PersonKey> vals;
    PersonKey next = 0;
    {
      std::unique_lock<std::mutex> l(store_mu_);
      store_cv_.wait_for(l, std::chrono::seconds(1), [&] { return store_stop_ || store_wake_; });
      stopping = store_stop_;
      store_wake_ = false;
      nhs = pending_nhs_keys_;  // dropped from pending once the catalog has them (snapshots
      vals = pending_nhs_values_;  // carry pending ones across a crash)
      next = pending_next_;
    }
    if (!nhs.empty() || next > catalog_next) {
      catalog_next = next;
      if (!cat) {
        auto c = Catalog::Open(opts_.ark_dir);
        if (c.ok()) cat = std::move(*c);
      }
      if (cat && cat->Begin().ok()) {
        auto ins =
            cat->Prepare("INSERT OR IGNORE INTO person_keys(pseudonym, person) VALUES (?, ?)");
        bool ok = ins.ok();
        for (size_t i = 0; ok && i < nhs.size(); ++i) {
          const std::string raw = Raw(nhs[i]);
          if (raw.empty()) continue;
          (*ins)
              ->BindBlob(1, raw.data(), static_cast<int>(raw.size()))
              .Bind(2, static_cast<int64_t>(vals[i]));
          ok = (*ins)->Run().ok();
        }
        if (ok) ok = cat->RaiseNextPerson(next).ok();
        if (ok) ok = cat->Commit().ok();
        if (ok) {
          std::lock_guard<std::mutex> l(store_mu_);
          const size_t n = std::min(nhs.size(), pending_nhs_keys_.size());
          pending_nhs_keys_.erase(pending_nhs_keys_.begin(), pending_nhs_keys_.begin() + n);
          pending_nhs_values_.erase(pending_nhs_values_.begin(), pending_nhs_values_.begin() + n);
        } else {
          cat->Rollback();
        }
      }
    }
    if (stopping) return;  // the catalog has the keys; compaction can wait for the next run
    const uint64_t appended = appended_events_.load();
    const bool period = std::chrono::steady_clock::now() - last_compact > std::chrono::seconds(opts_.compact_interval_s);
    const bool large = opts_.compact_max_events > 0 && appended - compacted_at >= opts_.compact_max_events;
    if (opts_.compact_interval_s > 0 && (period || large)) {
      last_compact = std::chrono::steady_clock::now();
      compacted_at = appended;
      if (large || store_->Stats().delta_events >= opts_.compact_min_events) {
        Status s = store_->Compact();
        if (s.ok())
          metrics_->compactions++;
        else {
          metrics_->store_errors++;
          std::fprintf(stderr, "ark serve: compaction failed: %s\n", s.ToString().c_str());
          std::lock_guard<std::mutex> l(store_mu_);
          if (store_error_.ok()) store_error_ = s;
        }
      }
    }
  }
}

Status Ingestor::FlushStore() {
  std::lock_guard<std::mutex> l(store_mu_);
  return store_error_;
}

std::string Ingestor::IndicatorsJson() const {
  std::lock_guard<std::mutex> l(state_mu_);
  std::string j = state_->IndicatorsJson();
  if (risk_ && !j.empty() && j.back() == '}') {
    j.pop_back();
    j += ",\"risk\":" + risk_->Json() + "}";
  }
  return j;
}

Status Ingestor::SetRisk(std::unique_ptr<LiveRisk> risk) {
  // Every record acknowledged before this start, from the start of the live log: no record is
  // being written yet (the contract), so the log holds exactly the records up to last_seq_.
  const int64_t t0 = NowMicros();
  const uint64_t upto = last_seq_.load();
  uint64_t read = 0;
  std::vector<Alert> replayed_alerts;
  ARK_RETURN_IF_ERROR(ReadAllRecords([&](PseudoRecord r) -> Status {
    if (r.seq > upto) return Status::OK();
    ++read;
    std::vector<Alert> a = risk->Replay(r);
    // Alerts raised after the snapshot's cut are not in its recent list: put them back (once).
    if (r.seq > restored_) replayed_alerts.insert(replayed_alerts.end(), a.begin(), a.end());
    return Status::OK();
  }));
  {
    std::lock_guard<std::mutex> l(sub_mu_);
    for (const Alert& a : replayed_alerts) {
      recent_.push_back(AlertJson(a));
      if (recent_.size() > 1000) recent_.pop_front();
    }
  }
  std::fprintf(stderr, "ark serve: live risk: %llu live-log records replayed (%.0f ms)\n",
               static_cast<unsigned long long>(read), (NowMicros() - t0) / 1e3);
  std::lock_guard<std::mutex> l(state_mu_);
  risk_ = std::move(risk);
  return Status::OK();
}

uint64_t Ingestor::Subscribe(AlertFn fn) {
  std::lock_guard<std::mutex> l(sub_mu_);
  subs_[next_sub_] = std::move(fn);
  return next_sub_++;
}

void Ingestor::Unsubscribe(uint64_t id) {
  std::lock_guard<std::mutex> l(sub_mu_);
  subs_.erase(id);
}

std::vector<std::string> Ingestor::RecentAlerts() const {
  std::lock_guard<std::mutex> l(sub_mu_);
  return {recent_.begin(), recent_.end()};
}

}  // namespace ark::live
