#include "store/timeline_writer.h"

#include <algorithm>
#include <map>

#include "core/fs.h"
#include "store/block_format.h"
#include "store/manifest.h"
#include "store/store_state.h"
#include "store/version_builder.h"
#include "store/wal.h"

namespace ark {

using store::VersionBuilder;

namespace {

// AddPerson's checks (`expect_key` < 0: any key); widens *ids to what p and its events use.
Status CheckPerson(const Person& p, int64_t expect_key, std::span<const Event> events, UsedIds* ids) {
  const std::string who = "person " + std::to_string(p.key);
  if (expect_key >= 0 && p.key != expect_key) {
    return Status::InvalidArgument(who + ": expected person key " + std::to_string(expect_key) +
                                   " (keys must be dense from 0 and increasing)");
  }
  if (p.key == UINT32_MAX) return Status::InvalidArgument(who + ": key out of range");
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    if (e.person != p.key) {
      return Status::InvalidArgument(who + ": event " + std::to_string(i) + " belongs to person " + std::to_string(e.person));
    }
    if (i > 0 && e.time < events[i - 1].time) {
      return Status::InvalidArgument(who + ": events not in time order at event " + std::to_string(i));
    }
    Status s = store::CheckEventTimes(e);
    if (!s.ok()) return s.WithContext(who);
    ids->code = std::max<uint64_t>(ids->code, e.code);
    ids->unit = std::max<uint64_t>(ids->unit, e.unit);
    ids->source = std::max<uint64_t>(ids->source, e.source);
  }
  ids->area = std::max<uint64_t>(ids->area, p.lsoa);
  ids->practice = std::max<uint64_t>(ids->practice, p.practice);
  return Status::OK();
}

}  // namespace

void UsedIds::Merge(const UsedIds& o) {
  code = std::max(code, o.code);
  unit = std::max(unit, o.unit);
  source = std::max(source, o.source);
  area = std::max(area, o.area);
  practice = std::max(practice, o.practice);
}

TimelineWriter::BlockEncoder::BlockEncoder(const WriterOptions& opts)
    : block_(std::make_unique<store::BlockBuilder>(opts.zstd_level)) {}
TimelineWriter::BlockEncoder::~BlockEncoder() = default;
size_t TimelineWriter::BlockEncoder::num_persons() const { return block_->num_persons(); }
size_t TimelineWriter::BlockEncoder::num_events() const { return block_->num_events(); }

Status TimelineWriter::BlockEncoder::Add(const Person& p, std::span<const Event> events) {
  ARK_RETURN_IF_ERROR(CheckPerson(p, next_key_, events, &pending_.ids));
  for (const Event& e : events) {
    if (e.source >= pending_.events_by_source.size()) pending_.events_by_source.resize(e.source + 1, 0);
    ++pending_.events_by_source[e.source];
  }
  block_->Add(p, events);
  next_key_ = int64_t{p.key} + 1;
  return Status::OK();
}

Status TimelineWriter::BlockEncoder::Finish(EncodedBlock* out) {
  if (block_->num_persons() == 0) return Status::Internal("BlockEncoder: empty block");
  ARK_RETURN_IF_ERROR(block_->Finish(&pending_.bytes, &pending_.info));
  std::swap(*out, pending_);
  pending_.events_by_source.clear();
  pending_.ids = UsedIds();
  next_key_ = -1;
  return Status::OK();
}

bool TimelineWriter::StartsNewBlock(const WriterOptions& opts, size_t pending_persons, size_t pending_events, size_t events) {
  return store::StartsNewBlock(opts, pending_persons, pending_events, events);
}

Status TimelineWriter::AddBlock(const EncodedBlock& b) {
  if (finished_) return Status::FailedPrecondition("TimelineWriter: already finished");
  if (b.info.first_person != builder_->next_person()) {
    return Status::InvalidArgument("block of person " + std::to_string(b.info.first_person) + ": expected person key " +
                                   std::to_string(builder_->next_person()));
  }
  ARK_RETURN_IF_ERROR(builder_->AddBlock(b.bytes, b.info, b.events_by_source));
  used_.Merge(b.ids);
  return Status::OK();
}

Result<std::unique_ptr<TimelineWriter>> TimelineWriter::Create(const std::string& store_dir, WriterOptions opts) {
  std::unique_ptr<TimelineWriter> w(new TimelineWriter());
  w->store_dir_ = store_dir;
  w->opts_ = opts;
  ARK_RETURN_IF_ERROR(MakeDirs(store_dir));
  ARK_ASSIGN_OR_RETURN(w->lock_, store::FileLock::TryLock(store_dir + "/LOCK"));
  ARK_ASSIGN_OR_RETURN(uint64_t current, store::ReadCurrent(store_dir));
  if (current != 0) {
    const std::string path = store_dir + "/" + store::VersionDirName(current) + "/MANIFEST";
    ARK_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
    ARK_ASSIGN_OR_RETURN(store::Manifest m, store::DecodeManifest(data, path));
    w->wal_through_ = m.wal_through;
  }
  ARK_RETURN_IF_ERROR(store::RemoveObsolete(store_dir, current, w->wal_through_));
  ARK_ASSIGN_OR_RETURN(w->builder_, VersionBuilder::Create(store_dir, opts));
  return w;
}

TimelineWriter::~TimelineWriter() = default;

uint64_t TimelineWriter::num_persons() const { return builder_ ? builder_->next_person() : 0; }
uint64_t TimelineWriter::num_events() const { return builder_ ? builder_->num_events() : 0; }

Status TimelineWriter::AddPerson(const Person& p, std::span<const Event> events) {
  if (finished_) return Status::FailedPrecondition("TimelineWriter: already finished");
  ARK_RETURN_IF_ERROR(CheckPerson(p, builder_->next_person(), events, &used_));
  return builder_->AddPerson(p, events);
}

Status TimelineWriter::TakeAppended(const std::function<Status(const AppendEvent&)>& fn) {
  if (finished_) return Status::FailedPrecondition("TimelineWriter: already finished");
  // Folded files in appended/, the others in the store directory; a number is in one place (a
  // file is moved by rename), and if a crash left it in both, they are the same file.
  std::map<uint64_t, std::string> files;
  for (uint64_t w : store::ListAppended(store_dir_)) files[w] = store::AppendedDir(store_dir_) + "/" + store::WalFileName(w);
  for (uint64_t w : store::ListStore(store_dir_).wals) files.try_emplace(w, store_dir_ + "/" + store::WalFileName(w));
  std::vector<AppendEvent> batch;
  uint64_t through = wal_through_;
  for (const auto& [w, path] : files) {
    store::WalTagReader tags;
    auto res = store::ReadWal(path, [&](uint8_t type, std::string_view payload) -> Status {
      if (type == store::kWalTag) return tags.OnTag(payload);
      if (type == store::kWalAppend) tags.OnAppend();
      ARK_RETURN_IF_ERROR(store::DecodeWalEvents(type, payload, &batch));
      for (const AppendEvent& a : batch) {
        ARK_RETURN_IF_ERROR(store::CheckAppendEvent(a));
        ARK_RETURN_IF_ERROR(fn(a));
      }
      return Status::OK();
    });
    max_tag_ = std::max(max_tag_, tags.max);
    if (!res.ok()) return res.status().WithContext(path);
    if (res->corrupt) {
      return Status::Corruption(path + ": " + res->problem +
                                " (acknowledged appends after it would be lost: nothing was built)");
    }
    through = std::max(through, w);
  }
  wal_through_ = through;
  return Status::OK();
}

Status TimelineWriter::Finish(const Dictionaries& d) {
  if (finished_ || !builder_) return Status::FailedPrecondition("TimelineWriter: already finished");
  auto check = [](const char* what, uint64_t max_id, const std::vector<std::string>& list) -> Status {
    if (list.empty() || !list[0].empty()) return Status::InvalidArgument(std::string(what) + " dictionary: id 0 must be \"\"");
    if (max_id >= list.size()) {
      return Status::InvalidArgument(std::string(what) + " id " + std::to_string(max_id) + " is not in the dictionary (" +
                                     std::to_string(list.size()) + " entries)");
    }
    return Status::OK();
  };
  ARK_RETURN_IF_ERROR(check("code", used_.code, d.codes));
  ARK_RETURN_IF_ERROR(check("unit", used_.unit, d.units));
  ARK_RETURN_IF_ERROR(check("source", used_.source, d.sources));
  ARK_RETURN_IF_ERROR(check("area", used_.area, d.areas));
  ARK_RETURN_IF_ERROR(check("practice", used_.practice, d.practices));
  finished_ = true;
  if (max_tag_ != 0) {
    // Written before publishing: the version covers WAL files <= wal_through_, so this file is
    // read as live WAL by every later open (a crash before Publish leaves a harmless extra tag).
    ARK_ASSIGN_OR_RETURN(auto wal, store::WalWriter::Create(store_dir_ + "/" + store::WalFileName(wal_through_ + 1)));
    std::string rec;
    store::AppendWalRecord(&rec, store::kWalTag, store::EncodeWalTag(max_tag_, 0));
    ARK_RETURN_IF_ERROR(wal->WriteAndSync(rec));
  }
  ARK_ASSIGN_OR_RETURN(uint64_t number, builder_->Publish(d, wal_through_));
  return store::RemoveObsolete(store_dir_, number, wal_through_);
}

}  // namespace ark
