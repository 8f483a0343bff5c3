#include "store/version_builder.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/fs.h"

namespace ark::store {

Result<std::unique_ptr<VersionBuilder>> VersionBuilder::Create(const std::string& store_dir, const WriterOptions& opts) {
  if (opts.block_events == 0 || opts.segment_events == 0) {
    return Status::InvalidArgument("block_events and segment_events must be positive");
  }
  std::unique_ptr<VersionBuilder> b(new VersionBuilder());
  b->store_dir_ = store_dir;
  b->opts_ = opts;
  ARK_ASSIGN_OR_RETURN(uint64_t current, ReadCurrent(store_dir));
  const StoreListing listing = ListStore(store_dir);
  b->number_ = std::max(current, listing.versions.empty() ? 0 : listing.versions.back()) + 1;
  b->tmp_dir_ = store_dir + "/" + VersionDirName(b->number_) + ".tmp";
  ARK_RETURN_IF_ERROR(RemoveAll(b->tmp_dir_));
  ARK_RETURN_IF_ERROR(MakeDirs(b->tmp_dir_));
  b->block_ = std::make_unique<BlockBuilder>(opts.zstd_level);
  return b;
}

VersionBuilder::~VersionBuilder() {
  if (!published_ && !tmp_dir_.empty()) (void)RemoveAll(tmp_dir_);
}

Status VersionBuilder::AddPerson(const Person& p, std::span<const Event> events) {
  if (p.key != next_person_) return Status::Internal("VersionBuilder: persons out of order");
  if (StartsNewBlock(opts_, block_->num_persons(), block_->num_events(), events.size())) {
    ARK_RETURN_IF_ERROR(FlushBlock());
  }
  block_->Add(p, events);
  for (const Event& e : events) {
    if (e.source >= segment_sources_.size()) segment_sources_.resize(e.source + 1, 0);
    ++segment_sources_[e.source];
  }
  ++next_person_;
  num_events_ += events.size();
  return Status::OK();
}

Status VersionBuilder::FlushBlock() {
  if (block_->num_persons() == 0) return Status::OK();
  BlockInfo info;
  ARK_RETURN_IF_ERROR(block_->Finish(&block_buf_, &info));
  return WriteBlock(block_buf_, info);
}

Status VersionBuilder::WriteBlock(std::string_view block, const BlockInfo& info) {
  if (!segment_) {
    const std::string name = SegmentFileName(number_, segments_.size());
    ARK_ASSIGN_OR_RETURN(segment_, SegmentWriter::Create(tmp_dir_ + "/" + name, name));
  }
  ARK_RETURN_IF_ERROR(segment_->AddBlock(block, info));
  if (segment_->num_events() >= opts_.segment_events) return FinishSegment();
  return Status::OK();
}

Status VersionBuilder::AddBlock(std::string_view block, const BlockInfo& info, std::span<const uint64_t> events_by_source) {
  if (block_->num_persons() != 0) return Status::FailedPrecondition("AddBlock while persons added one by one wait in an unfinished block");
  if (info.first_person != next_person_) return Status::Internal("VersionBuilder: block out of order");
  if (events_by_source.size() > segment_sources_.size()) segment_sources_.resize(events_by_source.size(), 0);
  for (size_t s = 0; s < events_by_source.size(); ++s) segment_sources_[s] += events_by_source[s];
  next_person_ += info.num_persons;
  num_events_ += info.num_events;
  return WriteBlock(block, info);
}

Status VersionBuilder::FinishSegment() {
  if (!segment_) return Status::OK();
  ARK_ASSIGN_OR_RETURN(SegmentInfo info, segment_->Finish());
  info.events_by_source = std::move(segment_sources_);
  segment_sources_.clear();
  segments_.push_back(std::move(info));
  segment_.reset();
  return Status::OK();
}

Status VersionBuilder::LinkSegment(const std::string& src_dir, const SegmentInfo& info) {
  if (info.first_person != next_person_) return Status::Internal("VersionBuilder: linked segment out of order");
  ARK_RETURN_IF_ERROR(FlushBlock());
  ARK_RETURN_IF_ERROR(FinishSegment());
  const std::string src = src_dir + "/" + info.file;
  const std::string dst = tmp_dir_ + "/" + info.file;
  if (::link(src.c_str(), dst.c_str()) != 0) {
    std::error_code ec;
    std::filesystem::copy_file(src, dst, std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) return Status::IOError("copy " + src + ": " + ec.message());
    ARK_RETURN_IF_ERROR(FsyncPath(dst));
  }
  segments_.push_back(info);
  next_person_ += info.num_persons;
  num_events_ += info.num_events;
  return Status::OK();
}

Result<uint64_t> VersionBuilder::Publish(const Dictionaries& dicts, uint64_t wal_through) {
  ARK_RETURN_IF_ERROR(FlushBlock());
  ARK_RETURN_IF_ERROR(FinishSegment());
  Manifest m;
  m.version = number_;
  m.wal_through = wal_through;
  m.num_persons = next_person_;
  m.num_events = num_events_;
  m.dicts = dicts;
  m.segments = segments_;
  ARK_RETURN_IF_ERROR(WriteFileAtomic(tmp_dir_ + "/MANIFEST", EncodeManifest(m)));
  const std::string final_dir = store_dir_ + "/" + VersionDirName(number_);
  ARK_RETURN_IF_ERROR(PublishDir(tmp_dir_, final_dir));
  published_ = true;
  ARK_RETURN_IF_ERROR(WriteCurrent(store_dir_, number_));
  return number_;
}

namespace {

// Moves a folded WAL file into <store>/appended (rename: atomic; both directories synced).
Status ArchiveWal(const std::string& store_dir, uint64_t w) {
  const std::string dir = AppendedDir(store_dir);
  ARK_RETURN_IF_ERROR(MakeDirs(dir));
  const std::string from = store_dir + "/" + WalFileName(w), to = dir + "/" + WalFileName(w);
  if (::rename(from.c_str(), to.c_str()) != 0) {
    if (errno == ENOENT) return Status::OK();  // archived meanwhile
    return Status::IOError("rename " + from + " to " + to + ": " + std::strerror(errno));
  }
  ARK_RETURN_IF_ERROR(FsyncPath(dir));
  return FsyncPath(store_dir);
}

}  // namespace

Status RemoveTemporaries(const std::string& store_dir) {
  for (const std::string& t : ListStore(store_dir).temporaries) ARK_RETURN_IF_ERROR(RemoveAll(store_dir + "/" + t));
  return Status::OK();
}

Status RemoveObsolete(const std::string& store_dir, uint64_t keep, uint64_t wal_through) {
  const StoreListing listing = ListStore(store_dir);
  for (const std::string& t : listing.temporaries) ARK_RETURN_IF_ERROR(RemoveAll(store_dir + "/" + t));
  for (uint64_t v : listing.versions) {
    if (v != keep) ARK_RETURN_IF_ERROR(RemoveAll(store_dir + "/" + VersionDirName(v)));
  }
  for (uint64_t w : listing.wals) {
    if (w <= wal_through) ARK_RETURN_IF_ERROR(ArchiveWal(store_dir, w));
  }
  return Status::OK();
}

}  // namespace ark::store
