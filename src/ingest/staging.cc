#include "ingest/staging.h"

#include <xxhash.h>

#include <cstring>

#include "core/fs.h"

namespace ark {
namespace {

constexpr char kMagic[8] = {'A', 'R', 'K', 'S', 'T', 'G', '1', '\0'};

class Writer {
 public:
  template <typename T>
  void Put(T v) { buf_.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void Str(const std::string& s) { Put<uint32_t>(static_cast<uint32_t>(s.size())); buf_.append(s); }
  void Strs(const std::vector<std::string>& v) { Put<uint64_t>(v.size()); for (auto& s : v) Str(s); }
  template <typename T>
  void Vec(const std::vector<T>& v) {
    Put<uint64_t>(v.size());
    buf_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  std::string& buf() { return buf_; }

 private:
  std::string buf_;
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
      std::memcpy(v->data(), d_.data() + pos_, n * sizeof(T));
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
  Writer w;
  w.buf().append(kMagic, 8);
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
  const StagedEvents& e = b.events;
  w.Vec(e.record);
  w.Vec(e.time);
  w.Vec(e.end);
  w.Vec(e.code);
  w.Vec(e.unit);
  w.Vec(e.encounter);
  w.Vec(e.value);
  w.Put<uint64_t>(XXH3_64bits(w.buf().data(), w.buf().size()));
  ARK_ASSIGN_OR_RETURN(AppendFile f, AppendFile::Open(path, true));
  ARK_RETURN_IF_ERROR(f.Append(w.buf()));
  ARK_RETURN_IF_ERROR(f.Sync());
  return f.Close();
}

Result<StagedBatch> ReadStagedBatch(const std::string& path, bool with_events) {
  ARK_ASSIGN_OR_RETURN(MappedFile m, MappedFile::Open(path));
  std::string_view d = m.view();
  if (d.size() < 16 || std::memcmp(d.data(), kMagic, 8) != 0) return Status::Corruption(path + ": not a staged batch");
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
  if (!ok) return Status::Corruption(path + ": truncated staged batch");
  return b;
}

}  // namespace ark
