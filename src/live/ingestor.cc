#include "live/ingestor.h"

#include <xxhash.h>

#include <algorithm>
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
#include "store/store.h"
#include "store/wal.h"

namespace ark::live {
namespace {

constexpr uint8_t kLogRecord = 16;   // payload: PseudoRecord JSON
constexpr uint8_t kLogApplied = 17;  // payload: decimal seq; records up to it are in the store
constexpr const char* kSource = "live";

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

uint64_t ValueBits(double v) {
  if (std::isnan(v)) return 0x7ff8000000000000ULL;  // every NaN is "no value"
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

std::string Raw(const std::string& hex) {
  Digest d;
  if (!FromHex(hex, &d)) return {};
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
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
  const std::string& ark = in->opts_.ark_dir;
  in->log_dir_ = ark + "/live/log";
  ARK_RETURN_IF_ERROR(MakeDirs(in->log_dir_));
  {
    auto lock = store::FileLock::TryLock(ark + "/live/LOCK");
    if (!lock.ok()) {
      return Status::FailedPrecondition(ark + ": another `ark serve` is running on this Ark (" +
                                        lock.status().message() + ")");
    }
    in->lock_ = std::move(*lock);
  }
  // Person keys of the batch side.
  {
    ARK_ASSIGN_OR_RETURN(auto cat, Catalog::Open(ark));
    ARK_ASSIGN_OR_RETURN(auto st, cat->Prepare("SELECT pseudonym, person FROM person_keys"));
    for (;;) {
      ARK_ASSIGN_OR_RETURN(bool row, st->Step());
      if (!row) break;
      const std::string b = st->Blob(0);
      in->keys_[ToHex(reinterpret_cast<const uint8_t*>(b.data()), b.size())] =
          static_cast<PersonKey>(st->Int(1));
    }
    ARK_ASSIGN_OR_RETURN(auto next, cat->GetMeta("next_person"));
    if (next) in->next_key_ = static_cast<PersonKey>(std::stoul(*next));
  }
  if (in->opts_.use_store) {
    ARK_ASSIGN_OR_RETURN(in->store_, Store::Open(ark + "/store"));
  }
  ARK_RETURN_IF_ERROR(in->Replay());
  if (in->store_ && in->store_->Stats().delta_events == 0) {
    // Take the store's writer LOCK now (Compact of an empty delta does only that), so that
    // `ark append`/`ark compact` are refused from the start rather than at our first append.
    ARK_RETURN_IF_ERROR(in->store_->Compact().WithContext(ark + "/store"));
  }
  in->HandOverKeys();
  in->committer_ = std::thread([p = in.get()] { p->CommitLoop(); });
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
  // A clean stop: log that the store holds everything, so the next start need not check.
  const uint64_t applied = applied_seq_.load();
  if (log_ && log_error_.ok() && applied > marker_logged_) {
    std::string buf;
    store::AppendWalRecord(&buf, static_cast<store::WalRecordType>(kLogApplied),
                           std::to_string(applied));
    (void)log_->WriteAndSync(buf);
  }
}

void Ingestor::Remember(uint64_t h) {
  if (!seen_.insert(h).second) return;
  seen_order_.push_back(h);
  while (seen_order_.size() > opts_.dedup_window) {
    seen_.erase(seen_order_.front());
    seen_order_.pop_front();
  }
}

PersonKey Ingestor::Resolve(const std::string& nhs, const std::string& mrn, bool create) {
  PersonKey k = kNoPerson;
  if (!nhs.empty()) {
    if (auto it = keys_.find(nhs); it != keys_.end()) k = it->second;
  }
  if (k == kNoPerson && !mrn.empty()) {
    if (auto it = keys_.find(mrn); it != keys_.end()) k = it->second;
  }
  if (k == kNoPerson && create && (!nhs.empty() || !mrn.empty())) {
    k = next_key_++;
    if (!nhs.empty()) {
      new_nhs_keys_.push_back(nhs);
      new_nhs_values_.push_back(k);
    }
  }
  if (k != kNoPerson && create) {
    if (!nhs.empty()) keys_[nhs] = k;
    if (!mrn.empty()) keys_[mrn] = k;
  }
  return k;
}

Status Ingestor::ReadLog(const std::vector<std::string>& files,
                         const std::function<Status(uint8_t, std::string_view)>& fn) {
  for (const std::string& f : files) {
    const std::string path = log_dir_ + "/" + f;
    auto res = store::ReadWal(path, fn);
    if (!res.ok()) return res.status().WithContext(path);
    if (res->corrupt) return Status::Corruption(path + ": " + res->problem);
  }
  return Status::OK();
}

Status Ingestor::Replay() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(log_dir_, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 4 && name.substr(name.size() - 4) == ".wal") files.push_back(name);
  }
  if (ec) return Status::IOError("live log: " + log_dir_ + ": " + ec.message());
  std::sort(files.begin(), files.end());
  // Pass 1, streaming in log order: rebuild keys, retransmit window and indicators (alerts are
  // not emitted); keep only the records after the latest "applied" marker.
  uint64_t marker = 0;
  std::deque<PseudoRecord> tail;
  ARK_RETURN_IF_ERROR(ReadLog(files, [&](uint8_t type, std::string_view payload) -> Status {
    if (type == kLogApplied) {
      marker = std::max<uint64_t>(marker, std::stoull(std::string(payload)));
      while (!tail.empty() && tail.front().seq <= marker) tail.pop_front();
      return Status::OK();
    }
    if (type != kLogRecord) return Status::OK();
    ARK_ASSIGN_OR_RETURN(PseudoRecord r, PseudoFromJson(payload));
    last_seq_ = std::max<uint64_t>(last_seq_, r.seq);
    Remember(DedupHash(r));
    if (!r.nhs_pseudonym.empty() && r.person != kNoPerson && !keys_.count(r.nhs_pseudonym) &&
        new_nhs_keys_.size() < 100000) {
      new_nhs_keys_.push_back(r.nhs_pseudonym);  // re-offered to the catalog (INSERT OR IGNORE)
      new_nhs_values_.push_back(r.person);
    }
    for (const std::string* s :
         {&r.nhs_pseudonym, &r.mrn_pseudonym, &r.merged_nhs_pseudonym, &r.merged_mrn_pseudonym}) {
      if (!s->empty() && r.person != kNoPerson) keys_[*s] = r.person;
    }
    if (r.person != kNoPerson) next_key_ = std::max<PersonKey>(next_key_, r.person + 1);
    state_->Apply(r);
    ++replayed_;
    if (store_ && r.seq > marker) tail.push_back(std::move(r));
    return Status::OK();
  }));
  marker_logged_ = marker;
  applied_seq_ = marker;
  if (store_) {
    if (!tail.empty())
      ARK_RETURN_IF_ERROR(
          Recover(std::vector<PseudoRecord>(tail.begin(), tail.end()), marker, files));
    applied_seq_ = last_seq_.load();
  }
  // A new log file for this run.
  char name[32];
  std::snprintf(name, sizeof name, "%08zu.wal", files.size() + 1);
  std::string path = log_dir_ + "/" + name;
  for (size_t n = files.size() + 1; PathExists(path); ++n) {
    std::snprintf(name, sizeof name, "%08zu.wal", n);
    path = log_dir_ + "/" + name;
  }
  ARK_ASSIGN_OR_RETURN(log_, store::WalWriter::Create(path));
  return Status::OK();
}

// Records after the last marker may or may not have reached the store. For every event they
// produce, expected = occurrences of the same (person, time, code, value) among all logged
// records (pass 2 counts the ones up to the marker); present = the store's live events; the
// difference is appended.
Status Ingestor::Recover(const std::vector<PseudoRecord>& uncertain, uint64_t marker,
                         const std::vector<std::string>& files) {
  using Key = std::tuple<PersonKey, Seconds, std::string, uint64_t>;
  auto key_of = [](const AppendEvent& e) {
    return Key{e.person, e.time, e.code, ValueBits(e.value)};
  };
  std::map<Key, int64_t> want;
  std::map<Key, AppendEvent> proto;
  std::set<PersonKey> persons;
  for (const PseudoRecord& r : uncertain) {
    for (AppendEvent& e : StoreEvents(r)) {
      const Key k = key_of(e);
      ++want[k];
      persons.insert(e.person);
      proto.emplace(k, std::move(e));
    }
  }
  if (want.empty()) return Status::OK();
  ARK_RETURN_IF_ERROR(ReadLog(files, [&](uint8_t type, std::string_view payload) -> Status {
    if (type != kLogRecord) return Status::OK();
    ARK_ASSIGN_OR_RETURN(PseudoRecord r, PseudoFromJson(payload));
    if (r.seq > marker || !persons.count(r.person)) return Status::OK();
    for (const AppendEvent& e : StoreEvents(r)) {
      if (auto it = want.find(key_of(e)); it != want.end()) ++it->second;
    }
    return Status::OK();
  }));
  // Present: the store's live events of these persons.
  auto dicts = store_->dicts();
  uint16_t live_source = 0;
  for (size_t i = 0; i < dicts->sources.size(); ++i) {
    if (dicts->sources[i] == kSource) live_source = static_cast<uint16_t>(i);
  }
  if (live_source != 0) {
    ARK_RETURN_IF_ERROR(store_->ForEachPersonInRange(
        *persons.begin(), *persons.rbegin() + 1,
        [&](const Person& p, std::span<const Event> events) -> Status {
          if (!persons.count(p.key)) return Status::OK();
          auto d = store_->dicts();
          for (const Event& e : events) {
            if (e.source != live_source) continue;
            const Key k{p.key, e.time, e.code < d->codes.size() ? d->codes[e.code] : "",
                        ValueBits(e.value)};
            if (auto it = want.find(k); it != want.end()) --it->second;
          }
          return Status::OK();
        }));
  }
  std::vector<AppendEvent> missing;
  for (const auto& [k, n] : want) {
    for (int64_t i = 0; i < n; ++i) missing.push_back(proto[k]);
  }
  if (!missing.empty()) {
    std::fprintf(stderr,
                 "ark serve: recovery: %zu live events of %zu records after the last store marker "
                 "re-appended\n",
                 missing.size(), uncertain.size());
    ARK_RETURN_IF_ERROR(store_->Append(missing));
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

void Ingestor::CommitLoop() {
  std::vector<Item> batch;
  std::string buf;
  for (;;) {
    {
      std::unique_lock<std::mutex> l(queue_mu_);
      queue_cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty() && stop_) return;
      batch.swap(queue_);
    }
    buf.clear();
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
      const uint64_t h = DedupHash(r);
      if (!r.control_id.empty() && seen_.count(h)) {
        o.code = "AA";
        o.duplicate = true;
        continue;
      }
      if (!r.control_id.empty()) {
        Remember(h);
        hashes.push_back(h);
      }
      r.seq = ++last_seq_;
      if (r.kind == LiveRecord::Kind::kMerge) {
        r.person = Resolve(r.nhs_pseudonym, r.mrn_pseudonym, true);
        r.merged_person = Resolve(r.merged_nhs_pseudonym, r.merged_mrn_pseudonym, false);
        if (r.person != kNoPerson) {
          if (!r.merged_nhs_pseudonym.empty()) keys_[r.merged_nhs_pseudonym] = r.person;
          if (!r.merged_mrn_pseudonym.empty()) keys_[r.merged_mrn_pseudonym] = r.person;
        }
      } else {
        r.person = Resolve(r.nhs_pseudonym, r.mrn_pseudonym, true);
      }
      o.code = "AA";
      o.person = r.person;
      o.seq = r.seq;
      store::AppendWalRecord(&buf, static_cast<store::WalRecordType>(kLogRecord), ToJson(r));
      fresh.push_back(i);
    }
    const uint64_t applied = applied_seq_.load();
    if (!buf.empty() && applied > marker_logged_) {
      store::AppendWalRecord(&buf, static_cast<store::WalRecordType>(kLogApplied),
                             std::to_string(applied));
    }
    if (!buf.empty()) {
      const int64_t t0 = NowMicros();
      Status s = log_error_.ok() ? log_->WriteAndSync(buf) : log_error_;
      metrics_->commit_latency.Observe((NowMicros() - t0) / 1e6);
      if (!s.ok()) {
        log_error_ = s;  // sticky: nothing is acknowledged from now on
        for (size_t i : fresh) {
          outcomes[i] = Outcome{"AE", Status::IOError("not stored: " + s.message())};
        }
        for (uint64_t h : hashes) seen_.erase(h);
        fresh.clear();
      } else {
        if (applied > marker_logged_) marker_logged_ = applied;
        metrics_->groups++;
        metrics_->group_records += fresh.size();
        metrics_->log_bytes += buf.size();
      }
    }
    // Indicators and alerts, for durable records only.
    // They are durable already: a failure here (never expected) is logged, not fatal.
    std::vector<Alert> alerts;
    try {
      std::lock_guard<std::mutex> l(state_mu_);
      for (size_t i : fresh) {
        for (Alert& a : state_->Apply(batch[i].rec)) alerts.push_back(std::move(a));
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
    // Hand the durable records to the store thread.
    if (!fresh.empty() && store_) {
      {
        std::lock_guard<std::mutex> l(store_mu_);
        for (size_t i : fresh) store_queue_.push_back(std::move(batch[i].rec));
        store_enqueued_ = last_seq_.load();
        HandOverKeys();
      }
      store_cv_.notify_one();
    }
    batch.clear();
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
  auto last_compact = std::chrono::steady_clock::now();
  std::unique_ptr<Catalog> cat;
  PersonKey catalog_next = 0;
  for (;;) {
    std::vector<PseudoRecord> recs;
    std::vector<std::string> nhs;
    std::vector<PersonKey> vals;
    PersonKey next = 0;
    uint64_t upto = 0;
    {
      std::unique_lock<std::mutex> l(store_mu_);
      store_cv_.wait_for(l, std::chrono::seconds(1),
                         [&] { return store_stop_ || !store_queue_.empty(); });
      if (store_queue_.empty() && store_stop_) return;
      if (!store_stop_ && !store_queue_.empty() && store_queue_.size() < 4096) {
        // Gather for a moment: fewer store fsyncs competing with the live log's (the store is
        // not on the acknowledgement path).
        l.unlock();
        std::this_thread::sleep_for(std::chrono::milliseconds(opts_.store_gather_ms));
        l.lock();
      }
      recs.swap(store_queue_);
      upto = store_enqueued_;
      nhs.swap(pending_nhs_keys_);
      vals.swap(pending_nhs_values_);
      next = pending_next_;
    }
    if (!recs.empty() && store_) {
      std::vector<AppendEvent> events;
      for (const PseudoRecord& r : recs) {
        for (AppendEvent& e : StoreEvents(r)) events.push_back(std::move(e));
      }
      Status s = events.empty() ? Status::OK() : store_->Append(events);
      if (s.ok()) {
        metrics_->store_events += events.size();
        applied_seq_ = upto;
      } else {
        metrics_->store_errors++;
        std::lock_guard<std::mutex> l(store_mu_);
        if (store_error_.ok()) {
          store_error_ = s;
          std::fprintf(
              stderr,
              "ark serve: store append failed (recovered from the live log at restart): %s\n",
              s.ToString().c_str());
        }
      }
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
        auto cur = cat->GetMeta("next_person");
        if (ok && cur.ok()) {
          const uint64_t have = *cur ? std::stoull(**cur) : 0;
          if (next > have) ok = cat->SetMeta("next_person", std::to_string(next)).ok();
        }
        if (ok)
          (void)cat->Commit();
        else
          cat->Rollback();
      }
    }
    if (store_ && opts_.compact_interval_s > 0 &&
        std::chrono::steady_clock::now() - last_compact >
            std::chrono::seconds(opts_.compact_interval_s)) {
      last_compact = std::chrono::steady_clock::now();
      if (store_->Stats().delta_events >= opts_.compact_min_events) {
        Status s = store_->Compact();
        if (s.ok())
          metrics_->compactions++;
        else {
          metrics_->store_errors++;
          std::fprintf(stderr, "ark serve: compaction failed: %s\n", s.ToString().c_str());
        }
      }
    }
  }
}

Status Ingestor::FlushStore() {
  const uint64_t target = last_seq_.load();
  for (int i = 0; i < 3000; ++i) {
    if (applied_seq_.load() >= target) return Status::OK();
    {
      std::lock_guard<std::mutex> l(store_mu_);
      if (!store_error_.ok()) return store_error_;
    }
    if (!store_) return Status::OK();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return Status::Internal("store did not catch up");
}

std::string Ingestor::IndicatorsJson() const {
  std::lock_guard<std::mutex> l(state_mu_);
  return state_->IndicatorsJson();
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
