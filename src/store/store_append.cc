// Store's write path: Append with group commit, and Compact.
//
// Group commit (as in LevelDB's DBImpl::Write): each appender frames its records, queues itself
// and waits. The appender at the head of the queue becomes the leader: it takes every queued
// append (up to kMaxGroupBytes), writes them with one write and one fdatasync, applies them to the
// delta, then wakes the members of its group (done) and the next head (to lead the next group).
#include <algorithm>
#include <unordered_set>

#include "store/file_lock.h"
#include "store/manifest.h"
#include "store/store.h"
#include "store/store_state.h"
#include "store/version_builder.h"
#include "store/wal.h"

namespace ark {
namespace {

constexpr size_t kMaxGroupBytes = 8u << 20;
constexpr size_t kEventsPerRecord = 65536;

// Folds `folded` (events of the delta, WAL order) into `base` as a new version in `dir`.
Result<uint64_t> BuildCompacted(const std::string& dir, const store::Version& base, std::vector<Event> folded,
                                const Dictionaries& dicts, uint64_t wal_through, const WriterOptions& opts) {
  std::stable_sort(folded.begin(), folded.end(), [](const Event& a, const Event& b) {
    return a.person != b.person ? a.person < b.person : a.time < b.time;
  });
  ARK_ASSIGN_OR_RETURN(auto builder, store::VersionBuilder::Create(dir, opts));
  size_t next = 0;  // first folded event not yet written
  auto delta_of = [&](PersonKey key) {
    const size_t start = next;
    while (next < folded.size() && folded[next].person == key) ++next;
    return std::span<const Event>(folded.data() + start, next - start);
  };
  std::vector<Event> events, merged;
  std::vector<Person> persons;
  for (const auto& seg : base.segments()) {
    const uint64_t end = uint64_t{seg->info().first_person} + seg->info().num_persons;
    if (next == folded.size() || folded[next].person >= end) {
      ARK_RETURN_IF_ERROR(builder->LinkSegment(base.dir(), seg->info()));
      continue;
    }
    for (size_t i = 0; i < seg->blocks().size(); ++i) {
      ARK_RETURN_IF_ERROR(seg->VerifyBlock(i));
      ARK_ASSIGN_OR_RETURN(store::BlockView b, seg->Block(i));
      ARK_RETURN_IF_ERROR(b.DecodeEvents(&events));
      ARK_RETURN_IF_ERROR(b.DecodePersons(&persons));
      for (uint32_t j = 0; j < b.num_persons(); ++j) {
        std::span<const Event> mine(events.data() + b.PersonStart(j), b.PersonStart(j + 1) - b.PersonStart(j));
        std::span<const Event> added = delta_of(persons[j].key);
        if (!added.empty()) {
          merged.clear();
          std::merge(mine.begin(), mine.end(), added.begin(), added.end(), std::back_inserter(merged),
                     [](const Event& x, const Event& y) { return x.time < y.time; });
          mine = merged;
        }
        ARK_RETURN_IF_ERROR(builder->AddPerson(persons[j], mine));
      }
    }
  }
  const uint64_t persons_total =
      std::max<uint64_t>(base.num_persons(), folded.empty() ? 0 : uint64_t{folded.back().person} + 1);
  for (uint64_t key = base.num_persons(); key < persons_total; ++key) {
    Person p;
    p.key = static_cast<PersonKey>(key);
    ARK_RETURN_IF_ERROR(builder->AddPerson(p, delta_of(p.key)));
  }
  return builder->Publish(dicts, wal_through);
}

}  // namespace

struct Store::PendingAppend {
  std::string records;
  std::span<const AppendEvent> events;
  uint64_t tag = 0;
  Status status;
  WalPosition end;  // of the group that wrote it
  bool done = false;
  std::condition_variable cv;
};

Status Store::CheckEvents(std::span<const AppendEvent> events) const {
  std::shared_lock l(mu_);
  const auto d = state_->interner->Snapshot();
  std::unordered_set<std::string_view> new_sources;
  for (const AppendEvent& e : events) {
    ARK_RETURN_IF_ERROR(store::CheckAppendEvent(e));
    // Source ids are 16 bits: refuse (before anything is written) a batch that would overflow.
    if (d->sources.size() > 0xff00 && !e.source.empty() &&
        std::find(d->sources.begin(), d->sources.end(), e.source) == d->sources.end()) {
      new_sources.insert(e.source);
      if (d->sources.size() + new_sources.size() > 0x10000) return Status::InvalidArgument("more than 65535 sources");
    }
  }
  return Status::OK();
}

Status Store::CheckEvent(const AppendEvent& e) { return store::CheckAppendEvent(e); }

Status Store::Append(std::span<const AppendEvent> events, uint64_t tag) {
  if (events.empty()) return Status::OK();
  ARK_RETURN_IF_ERROR(CheckEvents(events));
  ARK_RETURN_IF_ERROR(EnsureWritable());
  PendingAppend w;
  w.events = events;
  w.tag = tag;
  if (tag != 0) {
    const size_t records = (events.size() + kEventsPerRecord - 1) / kEventsPerRecord;
    store::AppendWalRecord(&w.records, store::kWalTag, store::EncodeWalTag(tag, static_cast<uint32_t>(records)));
  }
  std::string payload;
  for (size_t i = 0; i < events.size(); i += kEventsPerRecord) {
    payload.clear();
    store::EncodeAppendBatch(events.subspan(i, std::min(kEventsPerRecord, events.size() - i)), &payload);
    if (payload.size() > store::kWalMaxRecord) return Status::InvalidArgument("append batch too large");
    store::AppendWalRecord(&w.records, store::kWalAppend, payload);
  }
  return Commit(&w);
}

Status Store::AppendNoted(std::span<const AppendEvent> events, std::span<const std::string> notes,
                          WalPosition* end) {
  if (events.empty() && notes.empty()) return Status::OK();
  if (events.size() > kEventsPerRecord) return Status::InvalidArgument("noted append: more than 65536 events");
  ARK_RETURN_IF_ERROR(CheckEvents(events));
  ARK_RETURN_IF_ERROR(EnsureWritable());
  PendingAppend w;
  w.events = events;
  std::string payload;
  store::EncodeNotedAppend(notes, events, &payload);
  if (payload.size() > store::kWalMaxRecord) return Status::InvalidArgument("noted append too large");
  store::AppendWalRecord(&w.records, store::kWalNotedAppend, payload);
  ARK_RETURN_IF_ERROR(Commit(&w));
  if (end) *end = w.end;
  return Status::OK();
}

Status Store::Commit(PendingAppend* wp) {
  PendingAppend& w = *wp;
  std::unique_lock<std::mutex> ql(queue_mu_);
  queue_.push_back(&w);
  while (!w.done && queue_.front() != &w) w.cv.wait(ql);
  if (w.done) return w.status;
  std::vector<PendingAppend*> group;
  size_t bytes = 0;
  for (PendingAppend* p : queue_) {
    if (!group.empty() && bytes + p->records.size() > kMaxGroupBytes) break;
    group.push_back(p);
    bytes += p->records.size();
  }
  ql.unlock();
  Status s = WriteGroup(group);
  ql.lock();
  for (PendingAppend* p : group) {
    queue_.pop_front();
    p->status = s;
    p->done = true;
    if (p != &w) p->cv.notify_one();
  }
  if (!queue_.empty()) queue_.front()->cv.notify_one();
  return s;
}

WalPosition Store::wal_end() const {
  std::lock_guard<std::mutex> wl(wal_mu_);
  return wal_ ? WalPosition{wal_number_, wal_->size()} : WalPosition{};
}

Status Store::WriteGroup(const std::vector<PendingAppend*>& group) {
  std::lock_guard<std::mutex> wl(wal_mu_);
  if (!wal_error_.ok()) return wal_error_;
  if (!wal_) return Status::FailedPrecondition("store is not open for appends");
  Status s;
  if (group.size() == 1) {
    s = wal_->WriteAndSync(group[0]->records);
  } else {
    std::string buf;
    for (const PendingAppend* p : group) buf += p->records;
    s = wal_->WriteAndSync(buf);
  }
  if (!s.ok()) {
    wal_error_ = s.WithContext("WAL write failed; the store refuses further appends until reopened");
    return s;
  }
  for (PendingAppend* p : group) p->end = WalPosition{wal_number_, wal_->size()};
  std::unique_lock l(mu_);
  for (const PendingAppend* p : group) {
    for (const AppendEvent& a : p->events) {
      auto e = state_->interner->Intern(a);
      if (!e.ok()) return e.status();  // prevented by Append's checks
      state_->delta.Add(*e);
    }
    state_->max_tag = std::max(state_->max_tag, p->tag);
  }
  return Status::OK();
}

Status Store::Compact() {
  std::lock_guard<std::mutex> c(compact_mu_);
  ARK_RETURN_IF_ERROR(EnsureWritable());
  // We hold the LOCK and no compaction of ours is running: any temporary is a dead writer's.
  ARK_RETURN_IF_ERROR(store::RemoveTemporaries(dir_));
  std::vector<Event> folded;
  std::shared_ptr<const store::Version> base;
  std::shared_ptr<const Dictionaries> dicts;
  uint64_t through;
  {
    // Rotate the WAL while no group is in flight: every event in WAL files <= `through` is in
    // the delta's first `folded.size()` events, and later appends go to the new file.
    std::lock_guard<std::mutex> wl(wal_mu_);
    if (!wal_error_.ok()) return wal_error_;
    {
      std::shared_lock l(mu_);
      if (state_->delta.events.empty()) return Status::OK();
    }
    ARK_ASSIGN_OR_RETURN(auto next, store::WalWriter::Create(dir_ + "/" + store::WalFileName(wal_number_ + 1)));
    {
      // The tag lives in the WAL files this compaction retires: carry it into the new one first.
      std::shared_lock l(mu_);
      if (state_->max_tag != 0) {
        std::string rec;
        store::AppendWalRecord(&rec, store::kWalTag, store::EncodeWalTag(state_->max_tag, 0));
        ARK_RETURN_IF_ERROR(next->WriteAndSync(rec));
      }
    }
    through = wal_number_;
    wal_ = std::move(next);
    ++wal_number_;
    std::shared_lock l(mu_);
    folded = state_->delta.events;
    base = state_->version;
    dicts = state_->interner->Snapshot();
  }
  const size_t n_folded = folded.size();
  ARK_ASSIGN_OR_RETURN(uint64_t number, BuildCompacted(dir_, *base, std::move(folded), *dicts, through, opts_.writer));
  ARK_ASSIGN_OR_RETURN(auto version, store::Version::Open(dir_, number));
  {
    std::unique_lock l(mu_);
    state_->version = std::move(version);
    state_->delta.DropFront(n_folded);
  }
  return store::RemoveObsolete(dir_, number, through);
}

}  // namespace ark
