#include "ingest/staging.h"

#include <xxhash.h>

#include <cstring>

#include "core/fs.h"

namespace ark {
namespace {

// Version 1: no encodings. Version 2 (the linkage issue) appends the records' PPRL encodings
// (encoding version string, then one fixed-size blob per record) before the checksum.
constexpr char kMagic[8] = {'A', 'R', 'K', 'S', 'T', 'G', '2', '\0'};
constexpr char kMagicV1[8] = {'A', 'R', 'K', 'S', 'T', 'G', '1', '\0'};

// Writes straight to the file (buffered) while hashing; large arrays are not copied twice.
class Writer {
 public:
  explicit Writer(AppendFile* f) : f_(f), h_(XXH3_createState()) { XXH3_64bits_reset(h_); }
  ~Writer() { XXH3_freeState(h_); }
  Writer(const Writer&) = delete;
  void Raw(const void* p, size_t n) {
    if (!s_.ok() || n == 0) return;
    XXH3_64bits_update(h_, p, n);
    s_ = f_->Append(std::string_view(static_cast<const char*>(p), n));
  }
  template <typename T>
  void Put(T v) { Raw(&v, sizeof v); }
  void Str(const std::string& s) { Put<uint32_t>(static_cast<uint32_t>(s.size())); Raw(s.data(), s.size()); }
  void Strs(const std::vector<std::string>& v) { Put<uint64_t>(v.size()); for (auto& s : v) Str(s); }
  template <typename T>
  void Vec(const std::vector<T>& v) {
    Put<uint64_t>(v.size());
    Raw(v.data(), v.size() * sizeof(T));
  }
  // One column gathered from the parts.
  template <typename T>
  void Column(const StagedBatch& b, std::vector<T> StagedEvents::*col) {
    uint64_t n = (b.events.*col).size();
    for (auto& p : b.parts) n += (p.*col).size();
    Put<uint64_t>(n);
    Raw((b.events.*col).data(), (b.events.*col).size() * sizeof(T));
    for (auto& p : b.parts) Raw((p.*col).data(), (p.*col).size() * sizeof(T));
  }
  Status Finish() {
    uint64_t sum = XXH3_64bits_digest(h_);
    if (s_.ok()) s_ = f_->Append(std::string_view(reinterpret_cast<const char*>(&sum), 8));
    return s_;
  }

 private:
  AppendFile* f_;
  XXH3_state_t* h_;
  Status s_;
};

class Reader {
 public:
  Reader(std::string_view d, std::string path) : d_(d), path_(std::move(path)) {}
  template <typename T>
  bool Get(T* v) {
    if (pos_ + sizeof(T) > d_.size()) return Fail();
    std::memcpy(v, d_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool Str(std::string* s) {
    uint32_t n;
    if (!Get(&n) || pos_ + n > d_.size()) return Fail();
    s->assign(d_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool Strs(std::vector<std::string>* v) {
    uint64_t n;
    if (!Get(&n) || n > d_.size()) return Fail();
    v->resize(n);
    for (auto& s : *v) if (!Str(&s)) return false;
    return true;
  }
  template <typename T>
  bool Vec(std::vector<T>* v, bool keep = true) {
    uint64_t n;
    if (!Get(&n) || n > d_.size() / sizeof(T) + 1 || pos_ + n * sizeof(T) > d_.size()) return Fail();
    if (keep) {
      v->resize(n);
      if (n) std::memcpy(v->data(), d_.data() + pos_, n * sizeof(T));
    }
    pos_ += n * sizeof(T);
    return true;
  }
  bool failed() const { return failed_; }

 private:
  bool Fail() { failed_ = true; return false; }
  std::string_view d_;
  std::string path_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace

Status WriteStagedBatch(const StagedBatch& b, const std::string& path) {
  ARK_ASSIGN_OR_RETURN(AppendFile f, AppendFile::Open(path, true));
  Writer w(&f);
  w.Raw(kMagic, 8);
  w.Str(b.feed);
  w.Str(b.key_fingerprint);
  w.Vec(b.records);
  w.Strs(b.areas);
  w.Strs(b.practices);
  w.Strs(b.codes);
  w.Strs(b.units);
  w.Strs(b.encounters);
  w.Vec(b.optouts);
  w.Str(b.optout_kind);
  w.Column(b, &StagedEvents::record);
  w.Column(b, &StagedEvents::time);
  w.Column(b, &StagedEvents::end);
  w.Column(b, &StagedEvents::code);
  w.Column(b, &StagedEvents::unit);
  w.Column(b, &StagedEvents::encounter);
  w.Column(b, &StagedEvents::value);
  w.Str(b.encoding_version);
  w.Vec(b.encodings);
  ARK_RETURN_IF_ERROR(w.Finish());
  ARK_RETURN_IF_ERROR(f.Sync());
  return f.Close();
}

Result<StagedBatch> ReadStagedBatch(const std::string& path, bool with_events) {
  ARK_ASSIGN_OR_RETURN(MappedFile m, MappedFile::Open(path));
  std::string_view d = m.view();
  if (d.size() < 16 || (std::memcmp(d.data(), kMagic, 8) != 0 && std::memcmp(d.data(), kMagicV1, 8) != 0)) {
    return Status::Corruption(path + ": not a staged batch");
  }
  const bool v2 = std::memcmp(d.data(), kMagic, 8) == 0;
  uint64_t sum;
  std::memcpy(&sum, d.data() + d.size() - 8, 8);
  if (XXH3_64bits(d.data(), d.size() - 8) != sum) return Status::Corruption(path + ": checksum mismatch");
  Reader r(d.substr(8, d.size() - 16), path);
  StagedBatch b;
  StagedEvents& e = b.events;
  bool ok = r.Str(&b.feed) && r.Str(&b.key_fingerprint) && r.Vec(&b.records) && r.Strs(&b.areas) &&
            r.Strs(&b.practices) && r.Strs(&b.codes) && r.Strs(&b.units) && r.Strs(&b.encounters) &&
            r.Vec(&b.optouts) && r.Str(&b.optout_kind) && r.Vec(&e.record, with_events) &&
            r.Vec(&e.time, with_events) && r.Vec(&e.end, with_events) && r.Vec(&e.code, with_events) &&
            r.Vec(&e.unit, with_events) && r.Vec(&e.encounter, with_events) && r.Vec(&e.value, with_events);
  if (ok && v2) ok = r.Str(&b.encoding_version) && r.Vec(&b.encodings);
  if (ok && !b.encodings.empty() &&
      (b.records.empty() || b.encodings.size() % b.records.size() != 0)) {
    return Status::Corruption(path + ": encodings do not match the records");
  }
  if (!ok) return Status::Corruption(path + ": truncated staged batch");
  return b;
}

}  // namespace ark
