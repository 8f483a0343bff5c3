#include "live/snapshot.h"

#include <xxhash.h>

#include <cstring>

#include "core/fs.h"
#include "store/coding.h"

namespace ark::live {
namespace {

using store::ByteReader;
using store::PutString;
using store::PutU32;
using store::PutU64;
using store::PutU8;
using store::PutVarint;

constexpr char kMagic[] = "ARKLSNP1";
constexpr size_t kHeaderSize = 8 + 4 + 8 + 8;

std::string Hex(std::string_view raw) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(raw.size() * 2, '0');
  for (size_t i = 0; i < raw.size(); ++i) {
    const auto b = static_cast<uint8_t>(raw[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 15];
  }
  return out;
}

// A person-key map entry: 0 + 32 raw bytes for a lowercase 64-hex-digit pseudonym, else 1 + text.
void PutKey(std::string* out, const std::string& k, PersonKey v) {
  char raw[KeyTable::kRawBytes];
  if (KeyTable::ToRaw(k, raw)) {
    PutU8(out, 0);
    out->append(raw, sizeof raw);
  } else {
    PutU8(out, 1);
    PutString(out, k);
  }
  PutVarint(out, v);
}

bool GetKey(ByteReader& r, std::pair<std::string, PersonKey>* kv) {
  const uint8_t form = r.U8();
  if (form == 0) {
    const std::string_view raw = r.Bytes(32);
    if (!r.ok()) return false;
    kv->first = Hex(raw);
  } else if (form == 1) {
    kv->first = std::string(r.String());
  } else {
    return false;
  }
  const uint64_t v = r.Varint();
  kv->second = static_cast<PersonKey>(v);
  return r.ok() && v < kNoPerson;
}

bool Count(ByteReader& r, uint64_t* n) {
  *n = r.Varint();
  return r.ok() && *n <= r.remaining();
}

constexpr size_t kEntryBytes = KeyTable::kRawBytes + 4;

// Version 2's person-key map: the raw entries as one dense run, then the others as text.
void PutKeyTable(std::string* out, const KeyTable& keys) {
  PutVarint(out, keys.raw_size());
  out->reserve(out->size() + keys.raw_size() * kEntryBytes + 16);
  keys.ForEach(
      [&](const char* raw, PersonKey v) {
        out->append(raw, KeyTable::kRawBytes);
        PutU32(out, v);
      },
      [](const std::string&, PersonKey) {});
  PutVarint(out, keys.size() - keys.raw_size());
  keys.ForEach([](const char*, PersonKey) {},
               [&](const std::string& k, PersonKey v) {
                 PutString(out, k);
                 PutVarint(out, v);
               });
}

bool GetKeyTable(ByteReader& r, KeyTable* keys) {
  uint64_t n = r.Varint();
  if (!r.ok() || n > r.remaining() / kEntryBytes) return false;
  keys->reserve(n);
  const std::string_view run = r.Bytes(n * kEntryBytes);
  for (const char* p = run.data(); p < run.data() + run.size(); p += kEntryBytes) {
    const PersonKey v = store::LoadU32(p + KeyTable::kRawBytes);
    if (v == kNoPerson) return false;
    keys->SetRaw(p, v);
  }
  if (!Count(r, &n)) return false;
  for (uint64_t i = 0; i < n; ++i) {
    const std::string_view k = r.String();
    const uint64_t v = r.Varint();
    if (!r.ok() || v >= kNoPerson) return false;
    keys->Set(k, static_cast<PersonKey>(v));
  }
  return r.ok();
}

// Version 1's person-key map: PutKey entries.
bool GetKeyTableV1(ByteReader& r, KeyTable* keys) {
  uint64_t n = 0;
  if (!Count(r, &n)) return false;
  keys->reserve(n);
  std::pair<std::string, PersonKey> kv;
  for (uint64_t i = 0; i < n; ++i) {
    if (!GetKey(r, &kv)) return false;
    keys->Set(kv.first, kv.second);
  }
  return true;
}

}  // namespace

std::string EncodeSnapshot(const SnapshotCut& s, const LiveState& state) {
  std::string body;
  body.reserve(64 + s.keys.raw_size() * kEntryBytes + s.window.size() * 8);
  PutVarint(&body, s.pos.last_seq);
  PutVarint(&body, s.pos.applied);
  PutString(&body, s.pos.log_file);
  PutVarint(&body, s.pos.replay_offset);
  PutVarint(&body, s.next_key);
  PutKeyTable(&body, s.keys);
  PutVarint(&body, s.window.size());
  body.append(reinterpret_cast<const char*>(s.window.data()), s.window.size() * 8);
  PutVarint(&body, s.catalog_backlog.size());
  for (const auto& [k, v] : s.catalog_backlog) PutKey(&body, k, v);
  PutVarint(&body, s.alerts.size());
  for (const std::string& a : s.alerts) PutString(&body, a);
  std::string encoded;
  state.Encode(&encoded);
  PutString(&body, encoded);

  std::string out(kMagic, 8);
  PutU32(&out, kSnapshotFormatVersion);
  PutU64(&out, body.size());
  PutU64(&out, XXH3_64bits(body.data(), body.size()));
  out += body;
  return out;
}

Result<LiveSnapshot> DecodeSnapshot(std::string_view file, const std::string& path) {
  auto bad = [&](const std::string& what) { return Status::Corruption(path + ": " + what); };
  if (file.size() < kHeaderSize || file.substr(0, 8) != std::string_view(kMagic, 8))
    return bad("not a live snapshot (bad magic)");
  const uint32_t version = store::LoadU32(file.data() + 8);
  if (version != kSnapshotFormatVersion && version != 1)
    return bad("unsupported snapshot format version " + std::to_string(version));
  const uint64_t size = store::LoadU64(file.data() + 12);
  if (size != file.size() - kHeaderSize)
    return bad("size mismatch (header says " + std::to_string(size) + " bytes, file has " +
               std::to_string(file.size() - kHeaderSize) + ")");
  const std::string_view body = file.substr(kHeaderSize);
  if (XXH3_64bits(body.data(), body.size()) != store::LoadU64(file.data() + 20))
    return bad("checksum mismatch");

  LiveSnapshot s;
  ByteReader r(body);
  s.pos.last_seq = r.Varint();
  s.pos.applied = r.Varint();
  s.pos.log_file = std::string(r.String());
  s.pos.replay_offset = r.Varint();
  const uint64_t next = r.Varint();
  if (!r.ok() || next > kNoPerson || s.pos.applied > s.pos.last_seq) return bad("bad position");
  s.next_key = static_cast<PersonKey>(next);
  if (!(version == 1 ? GetKeyTableV1(r, &s.keys) : GetKeyTable(r, &s.keys)))
    return bad("bad person-key map");
  uint64_t n = 0;
  if (!Count(r, &n) || n > r.remaining() / 8) return bad("bad retransmit window");
  s.window.resize(n);
  const std::string_view window = r.Bytes(n * 8);
  if (n > 0) std::memcpy(s.window.data(), window.data(), n * 8);
  if (!Count(r, &n)) return bad("bad catalog backlog count");
  s.catalog_backlog.resize(n);
  for (auto& kv : s.catalog_backlog) {
    if (!GetKey(r, &kv)) return bad("bad catalog backlog entry");
  }
  if (!Count(r, &n)) return bad("bad alert count");
  s.alerts.resize(n);
  for (std::string& a : s.alerts) a = std::string(r.String());
  s.state = std::string(r.String());
  if (!r.ok()) return bad("truncated body");
  if (r.remaining() != 0) return bad("trailing bytes after the live state");
  return s;
}

Result<LiveSnapshot> ReadSnapshot(const std::string& path) {
  if (!PathExists(path)) return Status::NotFound(path + ": no live snapshot");
  ARK_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  return DecodeSnapshot(data, path);
}

Status WriteSnapshot(const std::string& path, std::string_view bytes) {
  return WriteFileAtomic(path, bytes);
}

}  // namespace ark::live
