#include "store/wal.h"

#include <filesystem>

#include "store/coding.h"
#include "store/crc32c.h"

namespace ark::store {
namespace {

constexpr char kWalMagic[] = "ARKWAL01";

enum AppendFlags : uint8_t { kHasEnd = 1, kHasValue = 2, kHasUnit = 4, kHasSource = 8, kHasEncounter = 16 };

bool AllZero(const char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

}  // namespace

void AppendWalRecord(std::string* out, WalRecordType type, std::string_view payload) {
  const size_t start = out->size();
  PutU32(out, 0);
  PutU32(out, static_cast<uint32_t>(payload.size()));
  PutU8(out, type);
  out->append(payload);
  const uint32_t crc = MaskCrc(Crc32c(out->data() + start + 4, out->size() - start - 4));
  StoreU32(out->data() + start, crc);
}

Result<std::unique_ptr<WalWriter>> WalWriter::Create(const std::string& path) {
  std::unique_ptr<WalWriter> w(new WalWriter());
  w->path_ = path;
  ARK_ASSIGN_OR_RETURN(w->file_, AppendFile::Open(path, /*truncate=*/true));
  std::string header(kWalMagic, 8);
  PutU32(&header, kWalFormatVersion);
  std::string rec;
  AppendWalRecord(&rec, kWalFileHeader, header);
  ARK_RETURN_IF_ERROR(w->WriteAndSync(rec));
  const std::string dir = std::filesystem::path(path).parent_path().string();
  ARK_RETURN_IF_ERROR(FsyncPath(dir.empty() ? "." : dir));
  return w;
}

Status WalWriter::WriteAndSync(std::string_view records) {
  ARK_RETURN_IF_ERROR(file_.Append(records));
  return file_.Sync();
}

Result<WalReadResult> ReadWal(const std::string& path, const std::function<Status(uint8_t, std::string_view)>& fn,
                              uint64_t from) {
  return ReadWalAt(path, [&](uint8_t type, std::string_view payload, uint64_t) { return fn(type, payload); }, from);
}

Result<WalReadResult> ReadWalAt(const std::string& path,
                                const std::function<Status(uint8_t, std::string_view, uint64_t end)>& fn,
                                uint64_t from) {
  ARK_ASSIGN_OR_RETURN(MappedFile map, MappedFile::Open(path));
  WalReadResult res;
  const char* d = map.data();
  const size_t size = map.size();
  res.file_size = size;
  size_t pos = 0;
  while (pos < size) {
    std::string problem;
    const size_t left = size - pos;
    uint32_t len = 0;
    if (left < kWalRecordHeaderSize) {
      problem = "incomplete record header";
    } else {
      len = LoadU32(d + pos + 4);
      if (len > left - kWalRecordHeaderSize) {
        problem = "record extends past the end of the file";
      } else if (MaskCrc(Crc32c(d + pos + 4, len + 5)) != LoadU32(d + pos)) {
        problem = "record checksum mismatch";
      }
    }
    if (problem.empty()) {
      const uint8_t type = static_cast<uint8_t>(d[pos + 8]);
      std::string_view payload(d + pos + kWalRecordHeaderSize, len);
      if (res.records == 0) {
        if (type != kWalFileHeader || payload.size() != 12 || payload.substr(0, 8) != std::string_view(kWalMagic, 8)) {
          return Status::Corruption(path + ": not a WAL file");
        }
        const uint32_t version = LoadU32(payload.data() + 8);
        if (version < 1 || version > kWalFormatVersion) {
          return Status::Corruption(path + ": unsupported WAL format version");
        }
      } else {
        ARK_RETURN_IF_ERROR(fn(type, payload, pos + kWalRecordHeaderSize + len));
      }
      ++res.records;
      pos += kWalRecordHeaderSize + len;
      if (res.records == 1 && from > pos) {
        if (from > size) return Status::Corruption(path + ": start offset " + std::to_string(from) + " past the end");
        pos = from;
      }
      res.valid_bytes = pos;
      continue;
    }
    // A bad record: the torn tail of a crashed writer, or corruption in the middle.
    const size_t rec_end = left >= kWalRecordHeaderSize && len <= left - kWalRecordHeaderSize
                               ? pos + kWalRecordHeaderSize + len
                               : size;
    res.problem = problem + " at offset " + std::to_string(pos);
    if (rec_end >= size || AllZero(d + pos, size - pos)) {
      res.torn_tail = true;
    } else {
      res.corrupt = true;
    }
    break;
  }
  return res;
}

Status WalTagReader::OnTag(std::string_view payload) {
  if (payload.size() != 12) return Status::Corruption("bad WAL tag record");
  tag_ = LoadU64(payload.data());
  left_ = LoadU32(payload.data() + 8);
  if (left_ == 0) max = std::max(max, tag_);
  return Status::OK();
}

std::string EncodeWalTag(uint64_t tag, uint32_t following) {
  std::string out;
  PutU64(&out, tag);
  PutU32(&out, following);
  return out;
}

void EncodeAppendBatch(std::span<const AppendEvent> events, std::string* out) {
  PutVarint(out, events.size());
  for (const AppendEvent& e : events) {
    uint8_t flags = 0;
    if (e.end != kNoTime) flags |= kHasEnd;
    if (!std::isnan(e.value)) flags |= kHasValue;
    if (!e.unit.empty()) flags |= kHasUnit;
    if (!e.source.empty()) flags |= kHasSource;
    if (e.encounter != kNoEncounter) flags |= kHasEncounter;
    PutU8(out, flags);
    PutVarint(out, e.person);
    PutVarint(out, ZigZag(e.time));
    PutString(out, e.code);
    if (flags & kHasEnd) PutVarint(out, ZigZag(e.end - e.time));
    if (flags & kHasValue) PutDouble(out, e.value);
    if (flags & kHasUnit) PutString(out, e.unit);
    if (flags & kHasSource) PutString(out, e.source);
    if (flags & kHasEncounter) PutVarint(out, e.encounter);
  }
}

Status DecodeAppendBatch(std::string_view payload, std::vector<AppendEvent>* out) {
  ByteReader r(payload);
  const uint64_t n = r.Varint();
  if (n > payload.size()) return Status::Corruption("append batch: bad count");
  out->clear();
  out->reserve(n);
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    AppendEvent e;
    const uint8_t flags = r.U8();
    const uint64_t person = r.Varint();
    if (person > UINT32_MAX) return Status::Corruption("append batch: bad person key");
    e.person = static_cast<PersonKey>(person);
    e.time = r.ZigZagVarint();
    e.code = std::string(r.String());
    if (flags & kHasEnd) e.end = e.time + r.ZigZagVarint();
    if (flags & kHasValue) e.value = r.Double();
    if (flags & kHasUnit) e.unit = std::string(r.String());
    if (flags & kHasSource) e.source = std::string(r.String());
    if (flags & kHasEncounter) e.encounter = static_cast<uint32_t>(r.Varint());
    out->push_back(std::move(e));
  }
  if (!r.ok() || r.remaining() != 0) return Status::Corruption("append batch: malformed");
  return Status::OK();
}

void EncodeNotedAppend(std::span<const std::string> notes, std::span<const AppendEvent> events, std::string* out) {
  PutVarint(out, notes.size());
  for (const std::string& n : notes) PutString(out, n);
  EncodeAppendBatch(events, out);
}

Status SplitNotedAppend(std::string_view payload, std::vector<std::string_view>* notes, std::string_view* batch) {
  ByteReader r(payload);
  const uint64_t n = r.Varint();
  if (n > payload.size()) return Status::Corruption("noted append: bad note count");
  notes->clear();
  for (uint64_t i = 0; i < n && r.ok(); ++i) notes->push_back(r.String());
  if (!r.ok()) return Status::Corruption("noted append: malformed notes");
  *batch = payload.substr(payload.size() - r.remaining());
  return Status::OK();
}

Status DecodeWalEvents(uint8_t type, std::string_view payload, std::vector<AppendEvent>* out) {
  if (type == kWalAppend) return DecodeAppendBatch(payload, out);
  if (type != kWalNotedAppend) return Status::Corruption("unknown WAL record type " + std::to_string(type));
  std::vector<std::string_view> notes;
  std::string_view batch;
  ARK_RETURN_IF_ERROR(SplitNotedAppend(payload, &notes, &batch));
  return DecodeAppendBatch(batch, out);
}

}  // namespace ark::store
