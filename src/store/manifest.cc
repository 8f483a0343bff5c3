#include "store/manifest.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "core/fs.h"
#include "store/coding.h"
#include "store/crc32c.h"

namespace ark::store {
namespace {

void PutList(std::string* out, const std::vector<std::string>& list) {
  PutVarint(out, list.size());
  for (const std::string& s : list) PutString(out, s);
}

bool GetList(ByteReader* r, std::vector<std::string>* list) {
  const uint64_t n = r->Varint();
  if (n > r->remaining()) return false;
  list->clear();
  list->reserve(n);
  for (uint64_t i = 0; i < n && r->ok(); ++i) list->emplace_back(r->String());
  return r->ok() && !list->empty() && (*list)[0].empty();
}

// Parses "<prefix><digits><suffix>"; returns false on anything else.
bool ParseNumbered(const std::string& name, const std::string& prefix, const std::string& suffix, uint64_t* n) {
  if (name.size() <= prefix.size() + suffix.size() || name.compare(0, prefix.size(), prefix) != 0 ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return false;
  }
  uint64_t v = 0;
  for (size_t i = prefix.size(); i < name.size() - suffix.size(); ++i) {
    if (name[i] < '0' || name[i] > '9' || v > UINT64_MAX / 10 - 10) return false;
    v = v * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  *n = v;
  return true;
}

}  // namespace

std::string EncodeManifest(const Manifest& m) {
  std::string body;
  PutVarint(&body, m.version);
  PutVarint(&body, m.wal_through);
  PutVarint(&body, m.num_persons);
  PutVarint(&body, m.num_events);
  PutList(&body, m.dicts.codes);
  PutList(&body, m.dicts.units);
  PutList(&body, m.dicts.areas);
  PutList(&body, m.dicts.practices);
  PutList(&body, m.dicts.sources);
  PutVarint(&body, m.segments.size());
  for (const SegmentInfo& s : m.segments) {
    PutString(&body, s.file);
    PutVarint(&body, s.first_person);
    PutVarint(&body, s.num_persons);
    PutVarint(&body, s.num_events);
    PutVarint(&body, s.num_blocks);
    PutVarint(&body, s.file_size);
    PutU32(&body, s.footer_crc);
    PutVarint(&body, s.events_by_source.size());
    for (uint64_t c : s.events_by_source) PutVarint(&body, c);
  }

  std::string z;
  (void)ZstdCompress(body, 3, &z);  // cannot fail for in-memory input
  std::string out;
  PutU64(&out, kManifestMagic);
  PutU32(&out, kManifestFormatVersion);
  PutU32(&out, static_cast<uint32_t>(body.size()));
  out += z;
  PutU32(&out, MaskCrc(Crc32c(out)));
  return out;
}

Result<Manifest> DecodeManifest(std::string_view data, const std::string& path) {
  auto bad = [&](const std::string& what) { return Status::Corruption(path + ": " + what); };
  if (data.size() < 20 || LoadU64(data.data()) != kManifestMagic) return bad("not a manifest");
  const uint32_t crc = LoadU32(data.data() + data.size() - 4);
  if (MaskCrc(Crc32c(data.data(), data.size() - 4)) != crc) return bad("checksum mismatch");
  if (LoadU32(data.data() + 8) != kManifestFormatVersion) return bad("unsupported manifest format version");
  const uint32_t raw_size = LoadU32(data.data() + 12);
  std::string body;
  Status s = ZstdDecompress(data.substr(16, data.size() - 20), raw_size, &body);
  if (!s.ok()) return s.WithContext(path);
  ByteReader r(body);
  Manifest m;
  m.version = r.Varint();
  m.wal_through = r.Varint();
  m.num_persons = r.Varint();
  m.num_events = r.Varint();
  if (!GetList(&r, &m.dicts.codes) || !GetList(&r, &m.dicts.units) || !GetList(&r, &m.dicts.areas) ||
      !GetList(&r, &m.dicts.practices) || !GetList(&r, &m.dicts.sources)) {
    return bad("malformed dictionaries");
  }
  const uint64_t ns = r.Varint();
  if (ns > r.remaining()) return bad("malformed segment list");
  uint64_t persons = 0, events = 0;
  for (uint64_t i = 0; i < ns && r.ok(); ++i) {
    SegmentInfo si;
    si.file = std::string(r.String());
    si.first_person = static_cast<uint32_t>(r.Varint());
    si.num_persons = static_cast<uint32_t>(r.Varint());
    si.num_events = r.Varint();
    si.num_blocks = static_cast<uint32_t>(r.Varint());
    si.file_size = r.Varint();
    si.footer_crc = r.U32();
    const uint64_t nsrc = r.Varint();
    if (nsrc > r.remaining()) return bad("malformed source counts");
    si.events_by_source.resize(nsrc);
    for (uint64_t& c : si.events_by_source) c = r.Varint();
    if (m.events_by_source.size() < nsrc) m.events_by_source.resize(nsrc, 0);
    for (uint64_t k = 0; k < nsrc; ++k) m.events_by_source[k] += si.events_by_source[k];
    if (si.first_person != persons || si.file.find('/') != std::string::npos) return bad("segment list not contiguous");
    persons += si.num_persons;
    events += si.num_events;
    m.segments.push_back(std::move(si));
  }
  if (!r.ok() || r.remaining() != 0) return bad("malformed body");
  if (persons != m.num_persons || events != m.num_events) return bad("segment counts do not add up");
  return m;
}

std::string VersionDirName(uint64_t version) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "v-%06llu", static_cast<unsigned long long>(version));
  return buf;
}

std::string WalFileName(uint64_t number) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "wal-%06llu.log", static_cast<unsigned long long>(number));
  return buf;
}

std::string SegmentFileName(uint64_t version, uint64_t i) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "seg-%06llu-%05llu.ark", static_cast<unsigned long long>(version),
                static_cast<unsigned long long>(i));
  return buf;
}

StoreListing ListStore(const std::string& store_dir) {
  StoreListing l;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(store_dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    uint64_t n;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0) {
      l.temporaries.push_back(name);
    } else if (ParseNumbered(name, "v-", "", &n)) {
      l.versions.push_back(n);
    } else if (ParseNumbered(name, "wal-", ".log", &n)) {
      l.wals.push_back(n);
    }
  }
  std::sort(l.versions.begin(), l.versions.end());
  std::sort(l.wals.begin(), l.wals.end());
  return l;
}

std::string AppendedDir(const std::string& store_dir) { return store_dir + "/appended"; }

std::vector<uint64_t> ListAppended(const std::string& store_dir) {
  std::vector<uint64_t> out;
  std::error_code ec;
  const std::string dir = AppendedDir(store_dir);
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    uint64_t n;
    if (ParseNumbered(it->path().filename().string(), "wal-", ".log", &n)) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<uint64_t> ReadCurrent(const std::string& store_dir) {
  const std::string path = store_dir + "/CURRENT";
  auto text = ReadFile(path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return uint64_t{0};
    return text.status();
  }
  uint64_t v;
  std::string name = *text;
  if (name.empty() || name.back() != '\n' || !ParseNumbered(name.substr(0, name.size() - 1), "v-", "", &v) || v == 0) {
    return Status::Corruption(path + ": malformed (expected 'v-NNNNNN')");
  }
  return v;
}

Status WriteCurrent(const std::string& store_dir, uint64_t version) {
  return WriteFileAtomic(store_dir + "/CURRENT", VersionDirName(version) + "\n");
}

}  // namespace ark::store
