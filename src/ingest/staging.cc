#include "ingest/staging.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "core/event.h"

#include "core/fs.h"

namespace ark {
namespace {

// Version 1: no encodings. Version 2 (the linkage issue) appends the records' PPRL encodings
// (encoding version string, then one fixed-size blob per record) before the checksum. Version 3
// writes each event column in the smallest of a few simple encodings (ColumnEncoding below)
// instead of plain arrays: the same content in about a third of the bytes.
constexpr char kMagic[8] = {'A', 'R', 'K', 'S', 'T', 'G', '3', '\0'};
constexpr char kMagicV2[8] = {'A', 'R', 'K', 'S', 'T', 'G', '2', '\0'};
constexpr char kMagicV1[8] = {'A', 'R', 'K', 'S', 'T', 'G', '1', '\0'};

// How a version-3 event column is stored: u8 encoding, u64 count n, u64 payload bytes, payload.
//   kPlain:  n values of T.
//   kSparse: the default value (T), u64 k, a bitmap of n bits (1 = not the default), then the k
//            other values in order. For columns that are mostly "none" (end, value, unit).
//   kNarrow: (unsigned T) n u16 values; every value is below 65536 (dictionary ids).
//   kOffset: (int64 T) base (T) then n u32 offsets from it; the values span less than 2^32.
enum ColumnEncoding : uint8_t { kPlain = 0, kSparse = 1, kNarrow = 2, kOffset = 3 };

template <typename T>
bool SameBits(const T& a, const T& b) { return std::memcmp(&a, &b, sizeof(T)) == 0; }

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
  // One column gathered from the parts, in the smallest encoding (see ColumnEncoding).
  template <typename T>
  void Encoded(const StagedBatch& b, std::vector<T> StagedEvents::*col, T none) {
    std::vector<const std::vector<T>*> parts{&(b.events.*col)};
    for (auto& p : b.parts) parts.push_back(&(p.*col));
    uint64_t n = 0, k = 0;
    T lo{}, hi{};
    bool first = true;
    for (auto* v : parts) {
      n += v->size();
      for (const T& x : *v) {
        k += !SameBits(x, none);
        if constexpr (std::is_integral_v<T>) {
          if (first) { lo = hi = x; first = false; }
          lo = std::min(lo, x);
          hi = std::max(hi, x);
        }
      }
    }
    uint64_t best = n * sizeof(T);
    ColumnEncoding enc = kPlain;
    const uint64_t sparse = sizeof(T) + 8 + (n + 7) / 8 + k * sizeof(T);
    if (sparse < best) { best = sparse; enc = kSparse; }
    if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
      if (n && hi < 65536 && 2 * n < best) { best = 2 * n; enc = kNarrow; }
    }
    if constexpr (std::is_same_v<T, int64_t>) {
      if (n && static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) < (1ull << 32) && 8 + 4 * n < best) {
        best = 8 + 4 * n; enc = kOffset;
      }
    }
    Put<uint8_t>(enc);
    Put<uint64_t>(n);
    Put<uint64_t>(best);
    // Encoded values go through a fixed buffer written out whenever it fills.
    constexpr size_t kBuf = 1 << 20;
    std::vector<uint8_t> buf(kBuf + 16);
    size_t at = 0;
    auto flush = [&] { Raw(buf.data(), at); at = 0; };
    switch (enc) {
      case kPlain:
        for (auto* v : parts) Raw(v->data(), v->size() * sizeof(T));
        return;
      case kSparse: {
        Put<T>(none);
        Put<uint64_t>(k);
        std::vector<uint8_t> bits((n + 7) / 8, 0);
        uint64_t i = 0;
        for (auto* v : parts) {
          for (const T& x : *v) {
            if (!SameBits(x, none)) bits[i >> 3] |= static_cast<uint8_t>(1u << (i & 7));
            ++i;
          }
        }
        Raw(bits.data(), bits.size());
        for (auto* v : parts) {
          for (const T& x : *v) {
            if (SameBits(x, none)) continue;
            std::memcpy(buf.data() + at, &x, sizeof(T));
            at += sizeof(T);
            if (at >= kBuf) flush();
          }
        }
        flush();
        return;
      }
      case kNarrow:
        for (auto* v : parts) {
          for (const T& x : *v) {
            const uint16_t y = static_cast<uint16_t>(x);
            std::memcpy(buf.data() + at, &y, 2);
            at += 2;
            if (at >= kBuf) flush();
          }
        }
        flush();
        return;
      case kOffset:
        Put<T>(lo);
        for (auto* v : parts) {
          for (const T& x : *v) {
            const uint32_t y = static_cast<uint32_t>(static_cast<uint64_t>(x) - static_cast<uint64_t>(lo));
            std::memcpy(buf.data() + at, &y, 4);
            at += 4;
            if (at >= kBuf) flush();
          }
        }
        flush();
        return;
    }
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
  // A version-3 column (see ColumnEncoding); with `keep` false it is skipped.
  template <typename T>
  bool Encoded(std::vector<T>* v, bool keep = true) {
    uint8_t enc;
    uint64_t n, bytes;
    if (!Get(&enc) || !Get(&n) || !Get(&bytes) || bytes > d_.size() - pos_) return Fail();
    const size_t end = pos_ + bytes;
    if (!keep) { pos_ = end; return true; }
    const char* p = d_.data() + pos_;
    switch (enc) {
      case kPlain:
        if (n > bytes / sizeof(T) || n * sizeof(T) != bytes) return Fail();
        v->resize(n);
        if (n) std::memcpy(v->data(), p, bytes);
        break;
      case kSparse: {
        T none;
        uint64_t k;
        if (bytes < sizeof(T) + 8) return Fail();
        std::memcpy(&none, p, sizeof(T));
        std::memcpy(&k, p + sizeof(T), 8);
        const uint64_t nb = (n + 7) / 8;
        if (n > bytes * 8 || k > n || sizeof(T) + 8 + nb + k * sizeof(T) != bytes) return Fail();
        const uint8_t* bits = reinterpret_cast<const uint8_t*>(p + sizeof(T) + 8);
        const char* vals = p + sizeof(T) + 8 + nb;
        v->assign(n, none);
        uint64_t j = 0;
        for (uint64_t i = 0; i < n; ++i) {
          if (!(bits[i >> 3] >> (i & 7) & 1)) continue;
          if (j == k) return Fail();
          std::memcpy(&(*v)[i], vals + j * sizeof(T), sizeof(T));
          ++j;
        }
        if (j != k) return Fail();
        break;
      }
      case kNarrow:
        if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
          if (n > bytes / 2 || 2 * n != bytes) return Fail();
          v->resize(n);
          for (uint64_t i = 0; i < n; ++i) {
            uint16_t y;
            std::memcpy(&y, p + 2 * i, 2);
            (*v)[i] = y;
          }
          break;
        }
        return Fail();
      case kOffset:
        if constexpr (std::is_same_v<T, int64_t>) {
          T base;
          if (bytes < 8 || n > bytes / 4 || 8 + 4 * n != bytes) return Fail();
          std::memcpy(&base, p, 8);
          v->resize(n);
          for (uint64_t i = 0; i < n; ++i) {
            uint32_t y;
            std::memcpy(&y, p + 8 + 4 * i, 4);
            (*v)[i] = static_cast<T>(static_cast<uint64_t>(base) + y);
          }
          break;
        }
        return Fail();
      default:
        return Fail();
    }
    pos_ = end;
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
  w.Encoded<uint32_t>(b, &StagedEvents::record, 0);
  w.Encoded<int64_t>(b, &StagedEvents::time, kNoTime);
  w.Encoded<int64_t>(b, &StagedEvents::end, kNoTime);
  w.Encoded<uint32_t>(b, &StagedEvents::code, 0);
  w.Encoded<uint32_t>(b, &StagedEvents::unit, 0);
  w.Encoded<uint32_t>(b, &StagedEvents::encounter, 0);
  w.Encoded<double>(b, &StagedEvents::value, kNoValue);
  w.Str(b.encoding_version);
  w.Vec(b.encodings);
  ARK_RETURN_IF_ERROR(w.Finish());
  ARK_RETURN_IF_ERROR(f.Sync());
  return f.Close();
}

Result<StagedBatch> ReadStagedBatch(const std::string& path, bool with_events, bool with_encodings) {
  ARK_ASSIGN_OR_RETURN(MappedFile m, MappedFile::Open(path));
  std::string_view d = m.view();
  const bool v3 = d.size() >= 16 && std::memcmp(d.data(), kMagic, 8) == 0;
  const bool v2 = d.size() >= 16 && std::memcmp(d.data(), kMagicV2, 8) == 0;
  if (!v3 && !v2 && (d.size() < 16 || std::memcmp(d.data(), kMagicV1, 8) != 0)) {
    return Status::Corruption(path + ": not a staged batch");
  }
  uint64_t sum;
  std::memcpy(&sum, d.data() + d.size() - 8, 8);
  if (XXH3_64bits(d.data(), d.size() - 8) != sum) return Status::Corruption(path + ": checksum mismatch");
  Reader r(d.substr(8, d.size() - 16), path);
  StagedBatch b;
  StagedEvents& e = b.events;
  bool ok = r.Str(&b.feed) && r.Str(&b.key_fingerprint) && r.Vec(&b.records) && r.Strs(&b.areas) &&
            r.Strs(&b.practices) && r.Strs(&b.codes) && r.Strs(&b.units) && r.Strs(&b.encounters) &&
            r.Vec(&b.optouts) && r.Str(&b.optout_kind);
  if (ok && v3) {
    ok = r.Encoded(&e.record, with_events) && r.Encoded(&e.time, with_events) && r.Encoded(&e.end, with_events) &&
         r.Encoded(&e.code, with_events) && r.Encoded(&e.unit, with_events) &&
         r.Encoded(&e.encounter, with_events) && r.Encoded(&e.value, with_events);
  } else if (ok) {
    ok = r.Vec(&e.record, with_events) && r.Vec(&e.time, with_events) && r.Vec(&e.end, with_events) &&
         r.Vec(&e.code, with_events) && r.Vec(&e.unit, with_events) && r.Vec(&e.encounter, with_events) &&
         r.Vec(&e.value, with_events);
  }
  if (ok && (e.time.size() != e.record.size() || e.end.size() != e.record.size() ||
             e.code.size() != e.record.size() || e.unit.size() != e.record.size() ||
             e.encounter.size() != e.record.size() || e.value.size() != e.record.size())) {
    if (with_events) return Status::Corruption(path + ": event columns of different lengths");
  }
  if (ok && (v2 || v3)) ok = r.Str(&b.encoding_version) && r.Vec(&b.encodings, with_encodings);
  if (ok && !b.encodings.empty() &&
      (b.records.empty() || b.encodings.size() % b.records.size() != 0)) {
    return Status::Corruption(path + ": encodings do not match the records");
  }
  if (!ok) return Status::Corruption(path + ": truncated staged batch");
  return b;
}

}  // namespace ark
