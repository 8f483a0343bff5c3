#include "live/snapshot.h"

#include <xxhash.h>

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

int Nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case too: those keys are kept as text, so that they come back unchanged
}

// 64 lowercase hex digits -> 32 bytes; false for anything else. (A snapshot encodes ~2 keys per
// person on the committer thread: this is its hot loop.)
bool LowerHex64(const std::string& s, char* raw) {
  if (s.size() != 64) return false;
  for (size_t i = 0; i < 32; ++i) {
    const int hi = Nibble(s[2 * i]), lo = Nibble(s[2 * i + 1]);
    if ((hi | lo) < 0) return false;
    raw[i] = static_cast<char>(hi << 4 | lo);
  }
  return true;
}

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
  char raw[32];
  if (LowerHex64(k, raw)) {
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

}  // namespace

std::string EncodeSnapshot(const SnapshotSource& s) {
  std::string body;
  body.reserve(64 + s.keys->size() * 40 + s.window->size() * 9);
  PutVarint(&body, s.pos.last_seq);
  PutVarint(&body, s.pos.applied);
  PutString(&body, s.pos.log_file);
  PutVarint(&body, s.pos.replay_offset);
  PutVarint(&body, s.next_key);
  PutVarint(&body, s.keys->size());
  for (const auto& [k, v] : *s.keys) PutKey(&body, k, v);
  PutVarint(&body, s.window->size());
  for (uint64_t h : *s.window) PutU64(&body, h);
  PutVarint(&body, s.catalog_backlog->size());
  for (const auto& [k, v] : *s.catalog_backlog) PutKey(&body, k, v);
  PutVarint(&body, s.alerts->size());
  for (const std::string& a : *s.alerts) PutString(&body, a);
  std::string state;
  s.state->Encode(&state);
  PutString(&body, state);

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
  if (store::LoadU32(file.data() + 8) != kSnapshotFormatVersion)
    return bad("unsupported snapshot format version " +
               std::to_string(store::LoadU32(file.data() + 8)));
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
  uint64_t n = 0;
  if (!Count(r, &n)) return bad("bad person-key count");
  s.keys.resize(n);
  for (auto& kv : s.keys) {
    if (!GetKey(r, &kv)) return bad("bad person-key entry");
  }
  if (!Count(r, &n) || n * 8 > r.remaining()) return bad("bad retransmit window");
  s.window.resize(n);
  for (uint64_t& h : s.window) h = r.U64();
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
