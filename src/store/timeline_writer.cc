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

Result<std::unique_ptr<TimelineWriter>> TimelineWriter::Create(const std::string& store_dir, WriterOptions opts) {
  std::unique_ptr<TimelineWriter> w(new TimelineWriter());
  w->store_dir_ = store_dir;
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
  const std::string who = "person " + std::to_string(p.key);
  if (p.key != builder_->next_person()) {
    return Status::InvalidArgument(who + ": expected person key " + std::to_string(builder_->next_person()) +
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
    max_code_ = std::max<uint64_t>(max_code_, e.code);
    max_unit_ = std::max<uint64_t>(max_unit_, e.unit);
    max_source_ = std::max<uint64_t>(max_source_, e.source);
  }
  max_area_ = std::max<uint64_t>(max_area_, p.lsoa);
  max_practice_ = std::max<uint64_t>(max_practice_, p.practice);
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
      if (type != store::kWalAppend) return Status::Corruption("unknown WAL record type " + std::to_string(type));
      tags.OnAppend();
      ARK_RETURN_IF_ERROR(store::DecodeAppendBatch(payload, &batch));
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
  ARK_RETURN_IF_ERROR(check("code", max_code_, d.codes));
  ARK_RETURN_IF_ERROR(check("unit", max_unit_, d.units));
  ARK_RETURN_IF_ERROR(check("source", max_source_, d.sources));
  ARK_RETURN_IF_ERROR(check("area", max_area_, d.areas));
  ARK_RETURN_IF_ERROR(check("practice", max_practice_, d.practices));
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
