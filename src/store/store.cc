// Store: opening, accessors, stats, verification and taking the write lock. The append path is in
// store_append.cc, the read paths in store_read.cc and scan.cc.
#include "store/store.h"

#include <algorithm>
#include <map>

#include "core/fs.h"
#include "store/file_lock.h"
#include "store/manifest.h"
#include "store/store_state.h"
#include "store/version_builder.h"
#include "store/wal.h"

namespace ark {

using store::StoreState;

Result<std::unique_ptr<Store>> Store::Open(const std::string& store_dir, StoreOptions opts) {
  std::unique_ptr<Store> s(new Store());
  s->dir_ = store_dir;
  s->opts_ = opts;
  ARK_ASSIGN_OR_RETURN(s->state_, store::LoadState(store_dir, opts));
  // Temporaries of a writer that died (a compaction or build killed mid-way) would otherwise stay
  // until the next writer: remove them now if no writer is running (only writers, under the LOCK,
  // create them). Best effort: a read-only store directory is fine.
  if (PathExists(store_dir + "/LOCK") && !store::ListStore(store_dir).temporaries.empty()) {
    auto lock = store::FileLock::TryLock(store_dir + "/LOCK");
    if (lock.ok()) (void)store::RemoveTemporaries(store_dir);
  }
  return s;
}

Store::~Store() = default;

uint64_t Store::num_persons() const {
  std::shared_lock l(mu_);
  return state_->num_persons();
}

uint64_t Store::max_tag() const {
  std::shared_lock l(mu_);
  return state_->max_tag;
}

uint64_t Store::num_events() const {
  std::shared_lock l(mu_);
  return state_->version->num_events() + state_->delta.events.size();
}

std::shared_ptr<const Dictionaries> Store::dicts() const {
  std::shared_lock l(mu_);
  return state_->interner->Snapshot();
}

StoreStats Store::Stats() const {
  std::shared_ptr<const store::Version> v;
  std::shared_ptr<const Dictionaries> d;
  StoreStats st;
  std::vector<uint64_t> by_source;
  {
    std::shared_lock l(mu_);
    v = state_->version;
    d = state_->interner->Snapshot();
    st.persons = state_->num_persons();
    st.delta_events = state_->delta.events.size();
    by_source = state_->delta.events_by_source;
  }
  const auto& vs = v->manifest().events_by_source;
  if (by_source.size() < vs.size()) by_source.resize(vs.size(), 0);
  for (size_t i = 0; i < vs.size(); ++i) by_source[i] += vs[i];
  for (size_t i = 0; i < by_source.size(); ++i) {
    if (by_source[i] == 0) continue;
    st.events_by_source[i < d->sources.size() ? d->sources[i] : "#" + std::to_string(i)] += by_source[i];
  }
  st.events = v->num_events() + st.delta_events;
  st.version = v->number();
  st.segments = v->segments().size();
  st.blocks = v->blocks().size();
  for (uint64_t w : store::ListStore(dir_).wals) {
    if (w > v->manifest().wal_through) st.wal_bytes += DiskUsage(dir_ + "/" + store::WalFileName(w));
  }
  st.bytes_on_disk = (v->number() ? DiskUsage(v->dir()) : 0) + st.wal_bytes;
  return st;
}

Person Store::person(PersonKey key) const {
  std::shared_ptr<const store::Version> v;
  {
    std::shared_lock l(mu_);
    v = state_->version;
  }
  Person p;
  p.key = key;
  const int64_t b = v->FindBlock(key);
  if (b < 0) return p;
  const store::BlockRef& ref = v->blocks()[static_cast<size_t>(b)];
  auto view = v->Block(ref);
  std::vector<Person> persons;
  if (!view.ok() || !view->DecodePersons(&persons).ok() || key - ref.first_person >= persons.size()) return p;
  return persons[key - ref.first_person];
}

Status Store::Verify() const {
  std::shared_ptr<const store::Version> v;
  {
    std::shared_lock l(mu_);
    v = state_->version;
  }
  if (v->number() != 0) {
    const std::string path = v->dir() + "/MANIFEST";
    ARK_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
    ARK_RETURN_IF_ERROR(store::DecodeManifest(data, path).status());
  }
  std::vector<Event> events;
  std::vector<Person> persons;
  for (const auto& seg : v->segments()) {
    for (size_t i = 0; i < seg->blocks().size(); ++i) {
      ARK_RETURN_IF_ERROR(seg->VerifyBlock(i));
      ARK_ASSIGN_OR_RETURN(store::BlockView b, seg->Block(i));
      const std::string where = seg->path() + ": block " + std::to_string(i);
      Status s = b.DecodeEvents(&events);
      if (s.ok()) s = b.DecodePersons(&persons);
      if (!s.ok()) return s.WithContext(where);
      for (const Event& e : events) {
        if (e.code >= v->manifest().dicts.codes.size() || e.unit >= v->manifest().dicts.units.size() ||
            e.source >= v->manifest().dicts.sources.size()) {
          return Status::Corruption(where + ": id beyond the dictionaries");
        }
      }
    }
  }
  std::vector<std::string> wal_paths;
  for (uint64_t w : store::ListAppended(dir_)) wal_paths.push_back(store::AppendedDir(dir_) + "/" + store::WalFileName(w));
  for (uint64_t w : store::ListStore(dir_).wals) {
    if (w > v->manifest().wal_through) wal_paths.push_back(dir_ + "/" + store::WalFileName(w));
  }
  for (const std::string& path : wal_paths) {
    std::vector<AppendEvent> batch;
    auto res = store::ReadWal(path, [&](uint8_t type, std::string_view payload) -> Status {
      if (type == store::kWalTag) {
        return payload.size() == 12 ? Status::OK() : Status::Corruption("bad tag record");
      }
      return store::DecodeWalEvents(type, payload, &batch);
    });
    if (!res.ok()) {
      if (res.status().code() == StatusCode::kNotFound) continue;  // compacted meanwhile
      return res.status().WithContext(path);
    }
    if (res->corrupt) return Status::Corruption(path + ": " + res->problem);
  }
  return Status::OK();
}

Status Store::EnsureWritable() {
  std::lock_guard<std::mutex> g(writable_mu_);
  if (lock_) return Status::OK();
  ARK_RETURN_IF_ERROR(MakeDirs(dir_));
  ARK_ASSIGN_OR_RETURN(store::FileLock lock, store::FileLock::TryLock(dir_ + "/LOCK"));
  // Another process may have appended or published since we loaded: reload if so.
  ARK_ASSIGN_OR_RETURN(uint64_t current, store::ReadCurrent(dir_));
  store::StoreListing listing = store::ListStore(dir_);
  bool stale;
  uint64_t through;
  {
    std::shared_lock l(mu_);
    through = state_->version->manifest().wal_through;
    std::vector<std::pair<uint64_t, uint64_t>> on_disk;
    for (uint64_t w : listing.wals) {
      if (w > through) on_disk.emplace_back(w, DiskUsage(dir_ + "/" + store::WalFileName(w)));
    }
    stale = current != state_->version->number() || on_disk != state_->replayed;
  }
  if (stale) {
    ARK_ASSIGN_OR_RETURN(auto fresh, store::LoadState(dir_, opts_));
    std::unique_lock l(mu_);
    through = fresh->version->manifest().wal_through;
    current = fresh->version->number();
    state_ = std::move(fresh);
  }
  ARK_RETURN_IF_ERROR(store::RemoveObsolete(dir_, current, through));
  {
    std::shared_lock l(mu_);
    for (uint64_t w : state_->empty_wals) ARK_RETURN_IF_ERROR(RemoveAll(dir_ + "/" + store::WalFileName(w)));
  }
  const std::vector<uint64_t> appended = store::ListAppended(dir_);
  const uint64_t number = std::max({listing.wals.empty() ? 0 : listing.wals.back(), through,
                                    appended.empty() ? 0 : appended.back()}) + 1;
  std::lock_guard<std::mutex> wl(wal_mu_);
  ARK_ASSIGN_OR_RETURN(wal_, store::WalWriter::Create(dir_ + "/" + store::WalFileName(number)));
  wal_number_ = number;
  lock_ = std::make_unique<store::FileLock>(std::move(lock));
  return Status::OK();
}

bool Store::PositionReadable(const std::string& store_dir, WalPosition p) {
  for (const std::string& path : {store_dir + "/" + store::WalFileName(p.file),
                                  store::AppendedDir(store_dir) + "/" + store::WalFileName(p.file)}) {
    if (PathExists(path) && DiskUsage(path) < p.offset) return false;
  }
  return true;
}

Status Store::ReadNotes(const std::string& store_dir, WalPosition from,
                        const std::function<Status(std::string_view, WalPosition)>& fn) {
  // A number is in one place (compaction moves a file by rename); if a crash left it in both,
  // they are the same file.
  std::map<uint64_t, std::string> files;
  for (uint64_t w : store::ListAppended(store_dir)) {
    if (w >= from.file) files[w] = store::AppendedDir(store_dir) + "/" + store::WalFileName(w);
  }
  for (uint64_t w : store::ListStore(store_dir).wals) {
    if (w >= from.file) files.try_emplace(w, store_dir + "/" + store::WalFileName(w));
  }
  std::vector<std::string_view> notes;
  std::string_view batch;
  for (const auto& [w, path] : files) {
    auto res = store::ReadWalAt(
        path,
        [&, w = w](uint8_t type, std::string_view payload, uint64_t end) -> Status {
          if (type != store::kWalNotedAppend) return Status::OK();
          ARK_RETURN_IF_ERROR(store::SplitNotedAppend(payload, &notes, &batch));
          for (std::string_view n : notes) ARK_RETURN_IF_ERROR(fn(n, WalPosition{w, end}));
          return Status::OK();
        },
        w == from.file ? from.offset : 0);
    if (!res.ok()) return res.status().WithContext(path);
    if (res->corrupt) return Status::Corruption(path + ": " + res->problem + " (records after it were not read)");
  }
  return Status::OK();
}

}  // namespace ark
