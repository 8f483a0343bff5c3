#include "store/segment.h"

#include "store/crc32c.h"

namespace ark::store {
namespace {

void PutBlockEntry(std::string* out, const BlockEntry& b) {
  PutU64(out, b.offset);
  PutU32(out, b.size);
  PutU32(out, b.crc);
  PutU32(out, b.first_person);
  PutU32(out, b.num_persons);
  PutU32(out, b.num_events);
  PutU32(out, static_cast<uint32_t>(b.min_day));
  PutU32(out, static_cast<uint32_t>(b.max_day));
  PutU32(out, 0);
}

}  // namespace

Result<std::unique_ptr<SegmentWriter>> SegmentWriter::Create(const std::string& path, const std::string& name) {
  std::unique_ptr<SegmentWriter> w(new SegmentWriter());
  ARK_ASSIGN_OR_RETURN(w->file_, AppendFile::Open(path, /*truncate=*/true));
  w->name_ = name;
  std::string header;
  PutU64(&header, kSegmentMagic);
  PutU32(&header, kSegmentFormatVersion);
  PutU32(&header, 0);
  ARK_RETURN_IF_ERROR(w->file_.Append(header));
  w->offset_ = header.size();
  return w;
}

Status SegmentWriter::AddBlock(std::string_view block, const BlockInfo& info) {
  if (block.size() > UINT32_MAX) return Status::InvalidArgument("block larger than 4 GiB");
  if (blocks_.empty()) {
    first_person_ = info.first_person;
  } else if (info.first_person != first_person_ + num_persons_) {
    return Status::Internal("segment blocks are not consecutive");
  }
  static const char kZeros[8] = {};
  const size_t pad = (8 - offset_ % 8) % 8;
  ARK_RETURN_IF_ERROR(file_.Append(std::string_view(kZeros, pad)));
  offset_ += pad;
  BlockEntry e;
  static_cast<BlockInfo&>(e) = info;
  e.offset = offset_;
  e.size = static_cast<uint32_t>(block.size());
  e.crc = MaskCrc(Crc32c(block));
  ARK_RETURN_IF_ERROR(file_.Append(block));
  offset_ += block.size();
  blocks_.push_back(e);
  num_events_ += info.num_events;
  num_persons_ += info.num_persons;
  return Status::OK();
}

Result<SegmentInfo> SegmentWriter::Finish() {
  std::string footer;
  PutU32(&footer, static_cast<uint32_t>(blocks_.size()));
  PutU32(&footer, first_person_);
  PutU32(&footer, num_persons_);
  PutU32(&footer, 0);
  PutU64(&footer, num_events_);
  for (const BlockEntry& b : blocks_) PutBlockEntry(&footer, b);
  const uint32_t crc = MaskCrc(Crc32c(footer));
  std::string trailer;
  PutU64(&trailer, offset_);
  PutU32(&trailer, static_cast<uint32_t>(footer.size()));
  PutU32(&trailer, crc);
  PutU64(&trailer, kSegmentMagic);
  ARK_RETURN_IF_ERROR(file_.Append(footer));
  ARK_RETURN_IF_ERROR(file_.Append(trailer));
  ARK_RETURN_IF_ERROR(file_.Sync());
  ARK_RETURN_IF_ERROR(file_.Close());
  SegmentInfo info;
  info.file = name_;
  info.first_person = first_person_;
  info.num_persons = num_persons_;
  info.num_events = num_events_;
  info.num_blocks = static_cast<uint32_t>(blocks_.size());
  info.file_size = offset_ + footer.size() + trailer.size();
  info.footer_crc = crc;
  return info;
}

Result<std::unique_ptr<Segment>> Segment::Open(const std::string& path, const SegmentInfo& expect) {
  std::unique_ptr<Segment> s(new Segment());
  s->path_ = path;
  s->info_ = expect;
  ARK_ASSIGN_OR_RETURN(s->map_, MappedFile::Open(path));
  auto bad = [&](const std::string& what) { return Status::Corruption(path + ": " + what); };
  const char* d = s->map_.data();
  const size_t size = s->map_.size();
  if (size != expect.file_size) {
    return bad("size " + std::to_string(size) + ", manifest says " + std::to_string(expect.file_size));
  }
  if (size < kSegmentHeaderSize + kSegmentTrailerSize || LoadU64(d) != kSegmentMagic) return bad("not a segment file");
  if (LoadU32(d + 8) != kSegmentFormatVersion) return bad("unsupported segment format version");
  const char* t = d + size - kSegmentTrailerSize;
  const uint64_t footer_off = LoadU64(t);
  const uint32_t footer_size = LoadU32(t + 8);
  const uint32_t footer_crc = LoadU32(t + 12);
  if (LoadU64(t + 16) != kSegmentMagic) return bad("bad trailer magic");
  if (footer_off < kSegmentHeaderSize || footer_off + footer_size != size - kSegmentTrailerSize ||
      footer_size < kFooterHeaderSize) {
    return bad("footer out of bounds");
  }
  const char* f = d + footer_off;
  if (MaskCrc(Crc32c(f, footer_size)) != footer_crc) return bad("footer checksum mismatch");
  if (footer_crc != expect.footer_crc) return bad("footer does not match the manifest");
  ByteReader r(f, footer_size);
  const uint32_t nb = r.U32();
  const uint32_t first = r.U32();
  const uint32_t np = r.U32();
  r.U32();
  const uint64_t ne = r.U64();
  if (nb != expect.num_blocks || first != expect.first_person || np != expect.num_persons ||
      ne != expect.num_events || footer_size != kFooterHeaderSize + uint64_t{nb} * kBlockIndexEntrySize) {
    return bad("footer does not match the manifest");
  }
  uint32_t next_person = first;
  uint64_t events = 0;
  s->blocks_.resize(nb);
  for (uint32_t i = 0; i < nb; ++i) {
    BlockEntry& b = s->blocks_[i];
    b.offset = r.U64();
    b.size = r.U32();
    b.crc = r.U32();
    b.first_person = r.U32();
    b.num_persons = r.U32();
    b.num_events = r.U32();
    b.min_day = r.I32();
    b.max_day = r.I32();
    r.U32();
    if (b.offset < kSegmentHeaderSize || b.offset + b.size > footer_off) return bad("block " + std::to_string(i) + " out of bounds");
    if (b.first_person != next_person || b.num_persons == 0) return bad("block " + std::to_string(i) + " person range");
    next_person += b.num_persons;
    events += b.num_events;
  }
  if (next_person != first + np || events != ne) return bad("blocks do not add up to the footer");
  return s;
}

Result<BlockView> Segment::Block(size_t i) const {
  const BlockEntry& b = blocks_[i];
  auto v = BlockView::Parse(map_.data() + b.offset, b.size);
  if (!v.ok()) return v.status().WithContext(path_ + ": block " + std::to_string(i));
  if (v->num_events() != b.num_events || v->num_persons() != b.num_persons || v->first_person() != b.first_person) {
    return Status::Corruption(path_ + ": block " + std::to_string(i) + ": header does not match the footer");
  }
  return v;
}

Status Segment::VerifyBlock(size_t i) const {
  const BlockEntry& b = blocks_[i];
  if (MaskCrc(Crc32c(map_.data() + b.offset, b.size)) != b.crc) {
    return Status::Corruption(path_ + ": block " + std::to_string(i) + ": checksum mismatch");
  }
  return Status::OK();
}

}  // namespace ark::store
