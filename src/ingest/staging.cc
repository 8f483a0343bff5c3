#include "ingest/staging.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cerrno>
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

// What choosing a column's encoding needs: its length, how many values are not the default,
// and (integral columns) the smallest and largest value.
template <typename T>
struct ColumnStats {
  uint64_t n = 0, k = 0;
  T lo{}, hi{};
  void Add(const T* p, size_t m, T none) {
    for (size_t j = 0; j < m; ++j) {
      const T& x = p[j];
      k += !SameBits(x, none);
      if constexpr (std::is_integral_v<T>) {
        if (n + j == 0) lo = hi = x;
        lo = std::min(lo, x);
        hi = std::max(hi, x);
      }
    }
    n += m;
  }
};

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
    auto for_each = [&](auto&& fn) -> Status {
      for (auto* v : parts) fn(v->data(), v->size());
      return Status::OK();
    };
    ColumnStats<T> st;
    (void)for_each([&](const T* p, size_t m) { st.Add(p, m, none); });
    Encoded(st, none, for_each);
  }
  // One column from its statistics and a source that calls fn(const T* values, size_t count)
  // for each piece of it in order (and returns a Status): each piece is visited once per pass,
  // two passes for a sparse column, one otherwise.
  template <typename T, typename ForEach>
  void Encoded(const ColumnStats<T>& st, T none, ForEach&& for_each) {
    const uint64_t n = st.n, k = st.k;
    const T lo = st.lo, hi = st.hi;
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
    auto pass = [&](auto&& fn) {
      if (!s_.ok()) return;
      Status s = for_each(fn);
      if (s_.ok() && !s.ok()) s_ = s;
    };
    switch (enc) {
      case kPlain:
        pass([&](const T* p, size_t m) { Raw(p, m * sizeof(T)); });
        return;
      case kSparse: {
        Put<T>(none);
        Put<uint64_t>(k);
        std::vector<uint8_t> bits((n + 7) / 8, 0);
        uint64_t i = 0;
        pass([&](const T* p, size_t m) {
          for (size_t j = 0; j < m; ++j, ++i) {
            if (!SameBits(p[j], none)) bits[i >> 3] |= static_cast<uint8_t>(1u << (i & 7));
          }
        });
        if (i != n && s_.ok()) s_ = Status::Internal("staged column changed while being written");
        Raw(bits.data(), bits.size());
        pass([&](const T* p, size_t m) {
          for (size_t j = 0; j < m; ++j) {
            if (SameBits(p[j], none)) continue;
            std::memcpy(buf.data() + at, &p[j], sizeof(T));
            at += sizeof(T);
            if (at >= kBuf) flush();
          }
        });
        flush();
        return;
      }
      case kNarrow:
        pass([&](const T* p, size_t m) {
          for (size_t j = 0; j < m; ++j) {
            const uint16_t y = static_cast<uint16_t>(p[j]);
            std::memcpy(buf.data() + at, &y, 2);
            at += 2;
            if (at >= kBuf) flush();
          }
        });
        flush();
        return;
      case kOffset:
        Put<T>(lo);
        pass([&](const T* p, size_t m) {
          for (size_t j = 0; j < m; ++j) {
            const uint32_t y = static_cast<uint32_t>(static_cast<uint64_t>(p[j]) - static_cast<uint64_t>(lo));
            std::memcpy(buf.data() + at, &y, 4);
            at += 4;
            if (at >= kBuf) flush();
          }
        });
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
  size_t pos() const { return pos_; }
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
  // Records where an event column lies (file offsets) and skips it: a version-3 column, or with
  // `v3` false a plain array. Checks that the encoding fits T and the sizes add up; the sparse
  // ranks are left to the caller.
  template <typename T>
  bool Locate(bool v3, StagedEventFile::Column* c) {
    if (v3) {
      uint8_t enc;
      if (!Get(&enc) || !Get(&c->n) || !Get(&c->bytes) || c->bytes > d_.size() - pos_) return Fail();
      c->enc = enc;
    } else {
      if (!Get(&c->n) || c->n > d_.size() / sizeof(T) + 1 || pos_ + c->n * sizeof(T) > d_.size()) return Fail();
      c->enc = kPlain;
      c->bytes = c->n * sizeof(T);
    }
    const char* p = d_.data() + pos_;
    c->offset = 8 + pos_;  // d_ starts after the 8-byte magic
    c->width = sizeof(T);
    switch (c->enc) {
      case kPlain:
        if (c->n > c->bytes / sizeof(T) || c->n * sizeof(T) != c->bytes) return Fail();
        break;
      case kSparse: {
        uint64_t k;
        if (c->bytes < sizeof(T) + 8) return Fail();
        std::memcpy(&c->base, p, sizeof(T));
        std::memcpy(&k, p + sizeof(T), 8);
        if (c->n > c->bytes * 8 || k > c->n || sizeof(T) + 8 + (c->n + 7) / 8 + k * sizeof(T) != c->bytes) return Fail();
        c->ranks.assign(1, k);  // the total, until the caller counts the bitmap
        break;
      }
      case kNarrow:
        if (!(std::is_integral_v<T> && std::is_unsigned_v<T>) || c->n > c->bytes / 2 || 2 * c->n != c->bytes) return Fail();
        break;
      case kOffset:
        if (!std::is_same_v<T, int64_t> || c->bytes < 8 || c->n > c->bytes / 4 || 8 + 4 * c->n != c->bytes) return Fail();
        std::memcpy(&c->base, p, 8);
        break;
      default:
        return Fail();
    }
    pos_ += c->bytes;
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

namespace {

// The header up to the records, then (WriteHeaderRest) what follows them.
void WriteHeaderStart(Writer& w, const StagedBatch& b) {
  w.Raw(kMagic, 8);
  w.Str(b.feed);
  w.Str(b.key_fingerprint);
}

void WriteHeaderRest(Writer& w, const StagedBatch& b) {
  w.Strs(b.areas);
  w.Strs(b.practices);
  w.Strs(b.codes);
  w.Strs(b.units);
  w.Strs(b.encounters);
  w.Vec(b.optouts);
  w.Str(b.optout_kind);
}

void WriteHeader(Writer& w, const StagedBatch& b) {
  WriteHeaderStart(w, b);
  w.Vec(b.records);
  WriteHeaderRest(w, b);
}

Status WriteTrailer(Writer& w, AppendFile& f, const StagedBatch& b) {
  w.Str(b.encoding_version);
  w.Vec(b.encodings);
  ARK_RETURN_IF_ERROR(w.Finish());
  ARK_RETURN_IF_ERROR(f.Sync());
  return f.Close();
}

constexpr size_t kSpillPiece = size_t{1} << 20;  // bytes per pread when reading a spilled column

// One spilled column: raw values appended to a file, counted on the way.
template <typename T>
struct SpillColumn {
  std::string path;
  AppendFile out;
  ColumnStats<T> stats;
  T none;

  Status Append(const std::vector<T>& v) {
    stats.Add(v.data(), v.size(), none);
    return out.Append(std::string_view(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T)));
  }
  // Calls fn(values, count) for each piece of the column in order, read into *buf.
  template <typename Fn>
  Status ForEach(std::vector<T>* buf, Fn&& fn) {
    ARK_RETURN_IF_ERROR(out.Flush());
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::IOError(path + ": open: " + std::strerror(errno));
    const uint64_t per = kSpillPiece / sizeof(T);
    buf->resize(per);
    Status s;
    for (uint64_t i = 0; i < stats.n && s.ok(); i += per) {
      const uint64_t m = std::min(per, stats.n - i);
      auto got = PreadFull(fd, i * sizeof(T), buf->data(), m * sizeof(T), path);
      if (!got.ok()) s = got.status();
      else if (*got < m * sizeof(T)) s = Status::IOError(path + ": spilled column shorter than written");
      if (s.ok()) fn(buf->data(), m);
    }
    ::close(fd);
    return s;
  }
};

}  // namespace

struct EventSpill::Impl {
  SpillColumn<uint32_t> record, code, unit, encounter;
  SpillColumn<int64_t> time, end;
  SpillColumn<double> value;
  SpillColumn<uint8_t> encodings;  // PPRL encoding bytes (its stats are not used)
  SpillColumn<uint8_t> records;    // StagedRecord bytes, as the batch's records vector holds them
  uint64_t nrecords = 0;
  std::vector<uint8_t> u8;
  std::vector<uint32_t> u32;  // read buffers, one per value type, reused column after column
  std::vector<int64_t> i64;
  std::vector<double> f64;
};

Result<std::unique_ptr<EventSpill>> EventSpill::Create(const std::string& dir) {
  std::unique_ptr<EventSpill> sp(new EventSpill());
  sp->impl_ = std::make_unique<Impl>();
  Impl& m = *sp->impl_;
  auto open = [&](auto& c, const char* name, auto none) -> Status {
    c.path = dir + "/" + name;
    c.none = none;
    ARK_ASSIGN_OR_RETURN(c.out, AppendFile::Open(c.path, true));
    return Status::OK();
  };
  ARK_RETURN_IF_ERROR(open(m.record, "record.col", uint32_t{0}));
  ARK_RETURN_IF_ERROR(open(m.time, "time.col", int64_t{kNoTime}));
  ARK_RETURN_IF_ERROR(open(m.end, "end.col", int64_t{kNoTime}));
  ARK_RETURN_IF_ERROR(open(m.code, "code.col", uint32_t{0}));
  ARK_RETURN_IF_ERROR(open(m.unit, "unit.col", uint32_t{0}));
  ARK_RETURN_IF_ERROR(open(m.encounter, "encounter.col", uint32_t{0}));
  ARK_RETURN_IF_ERROR(open(m.value, "value.col", double{kNoValue}));
  ARK_RETURN_IF_ERROR(open(m.encodings, "encodings.bin", uint8_t{0}));
  ARK_RETURN_IF_ERROR(open(m.records, "records.bin", uint8_t{0}));
  return sp;
}

EventSpill::~EventSpill() = default;

uint64_t EventSpill::size() const { return impl_->record.stats.n; }

uint64_t EventSpill::encodings_size() const { return impl_->encodings.stats.n; }

uint64_t EventSpill::records_size() const { return impl_->nrecords; }

Status EventSpill::AppendRecords(const std::vector<StagedRecord>& records) {
  SpillColumn<uint8_t>& c = impl_->records;
  const size_t bytes = records.size() * sizeof(StagedRecord);
  c.stats.n += bytes;
  impl_->nrecords += records.size();
  return c.out.Append(std::string_view(reinterpret_cast<const char*>(records.data()), bytes));
}

Status EventSpill::AppendEncodings(const std::vector<uint8_t>& bytes) {
  SpillColumn<uint8_t>& c = impl_->encodings;
  c.stats.n += bytes.size();
  return c.out.Append(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

Status EventSpill::Append(const StagedEvents& e) {
  const size_t n = e.size();
  if (e.time.size() != n || e.end.size() != n || e.code.size() != n || e.unit.size() != n ||
      e.encounter.size() != n || e.value.size() != n) {
    return Status::InvalidArgument("event columns of different lengths");
  }
  Impl& m = *impl_;
  ARK_RETURN_IF_ERROR(m.record.Append(e.record));
  ARK_RETURN_IF_ERROR(m.time.Append(e.time));
  ARK_RETURN_IF_ERROR(m.end.Append(e.end));
  ARK_RETURN_IF_ERROR(m.code.Append(e.code));
  ARK_RETURN_IF_ERROR(m.unit.Append(e.unit));
  ARK_RETURN_IF_ERROR(m.encounter.Append(e.encounter));
  return m.value.Append(e.value);
}

Status WriteStagedBatch(const StagedBatch& b, const std::string& path) {
  ARK_ASSIGN_OR_RETURN(AppendFile f, AppendFile::Open(path, true));
  Writer w(&f);
  WriteHeader(w, b);
  w.Encoded<uint32_t>(b, &StagedEvents::record, 0);
  w.Encoded<int64_t>(b, &StagedEvents::time, kNoTime);
  w.Encoded<int64_t>(b, &StagedEvents::end, kNoTime);
  w.Encoded<uint32_t>(b, &StagedEvents::code, 0);
  w.Encoded<uint32_t>(b, &StagedEvents::unit, 0);
  w.Encoded<uint32_t>(b, &StagedEvents::encounter, 0);
  w.Encoded<double>(b, &StagedEvents::value, kNoValue);
  return WriteTrailer(w, f, b);
}

Status WriteStagedBatch(const StagedBatch& b, EventSpill* spill, const std::string& path) {
  if (b.events.size() != 0 || !b.parts.empty()) {
    return Status::InvalidArgument(path + ": events both in the batch and spilled");
  }
  EventSpill::Impl& m = *spill->impl_;
  if (m.nrecords != 0 && !b.records.empty()) {
    return Status::InvalidArgument(path + ": records both in the batch and spilled");
  }
  ARK_ASSIGN_OR_RETURN(AppendFile f, AppendFile::Open(path, true));
  Writer w(&f);
  if (m.nrecords == 0) {
    WriteHeader(w, b);
  } else {  // as Writer::Vec would write them: the count, then the bytes
    WriteHeaderStart(w, b);
    w.Put<uint64_t>(m.nrecords);
    ARK_RETURN_IF_ERROR(m.records.ForEach(&m.u8, [&](const uint8_t* p, size_t n) { w.Raw(p, n); }));
    WriteHeaderRest(w, b);
  }
  auto column = [&](auto& c, auto* buf) {
    w.Encoded(c.stats, c.none, [&](auto&& fn) { return c.ForEach(buf, fn); });
  };
  column(m.record, &m.u32);
  column(m.time, &m.i64);
  column(m.end, &m.i64);
  column(m.code, &m.u32);
  column(m.unit, &m.u32);
  column(m.encounter, &m.u32);
  column(m.value, &m.f64);
  if (m.encodings.stats.n == 0) return WriteTrailer(w, f, b);
  if (!b.encodings.empty()) return Status::InvalidArgument(path + ": encodings both in the batch and spilled");
  // As Writer::Vec would write them: the count, then the bytes.
  w.Str(b.encoding_version);
  w.Put<uint64_t>(m.encodings.stats.n);
  ARK_RETURN_IF_ERROR(m.encodings.ForEach(&m.u8, [&](const uint8_t* p, size_t n) { w.Raw(p, n); }));
  ARK_RETURN_IF_ERROR(w.Finish());
  ARK_RETURN_IF_ERROR(f.Sync());
  return f.Close();
}

namespace {

// XXH3 of `n` bytes of a read-only file mapping that starts at `data` (page-aligned), hashed in
// 64 MiB pieces, each dropped from the process's resident pages once hashed (MADV_DONTNEED: the
// file's pages stay in the page cache; a later read faults them back in). Hashing a batch read
// for its records alone (with_events false: `ark link`) otherwise left every page of its events
// resident until the map was closed.
uint64_t MappedChecksum(const char* data, size_t n) {
  constexpr size_t kPiece = size_t{64} << 20;
  XXH3_state_t* st = XXH3_createState();
  if (!st) return XXH3_64bits(data, n);
  XXH3_64bits_reset(st);
  for (size_t at = 0; at < n; at += kPiece) {
    const size_t m = std::min(kPiece, n - at);
    XXH3_64bits_update(st, data + at, m);
    if (m == kPiece) ::madvise(const_cast<char*>(data + at), m, MADV_DONTNEED);
  }
  const uint64_t h = XXH3_64bits_digest(st);
  XXH3_freeState(st);
  return h;
}

}  // namespace

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
  if (MappedChecksum(d.data(), d.size() - 8) != sum) return Status::Corruption(path + ": checksum mismatch");
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

namespace {

constexpr size_t kReadPiece = size_t{1} << 22;  // bytes per pread when streaming a whole file

}  // namespace

StagedEventFile::~StagedEventFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status StagedEventFile::Pread(uint64_t offset, uint64_t n, void* dst) const {
  ARK_ASSIGN_OR_RETURN(size_t got, PreadFull(fd_, offset, dst, n, path_));
  return got < n ? Status::Corruption(path_ + ": truncated staged batch") : Status::OK();
}

Result<std::unique_ptr<StagedEventFile>> StagedEventFile::Open(const std::string& path, StagedBatch* header,
                                                               bool with_records) {
  std::unique_ptr<StagedEventFile> f(new StagedEventFile());
  f->path_ = path;
  f->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f->fd_ < 0) {
    return errno == ENOENT ? Status::NotFound(path + ": no such file") : Status::IOError(path + ": open: " + std::strerror(errno));
  }
  struct stat st;
  if (::fstat(f->fd_, &st) != 0) return Status::IOError(path + ": stat: " + std::strerror(errno));
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < 16) return Status::Corruption(path + ": not a staged batch");
  // The checksum, streamed through one reused buffer.
  {
    std::string buf(std::min<uint64_t>(kReadPiece, size), '\0');
    XXH3_state_t* h = XXH3_createState();
    XXH3_64bits_reset(h);
    Status s;
    for (uint64_t at = 0; at < size - 8 && s.ok(); at += kReadPiece) {
      const uint64_t n = std::min<uint64_t>(kReadPiece, size - 8 - at);
      s = f->Pread(at, n, buf.data());
      if (s.ok()) XXH3_64bits_update(h, buf.data(), n);
    }
    uint64_t sum = 0;
    if (s.ok()) s = f->Pread(size - 8, 8, &sum);
    const uint64_t got = XXH3_64bits_digest(h);
    XXH3_freeState(h);
    ARK_RETURN_IF_ERROR(s);
    if (got != sum) return Status::Corruption(path + ": checksum mismatch");
  }
  // The header and where each column lies, from a map of which only those pages are touched.
  ARK_ASSIGN_OR_RETURN(MappedFile m, MappedFile::Open(path));
  std::string_view d = m.view();
  if (d.size() != size) return Status::Corruption(path + ": changed while being read");
  const bool v3 = std::memcmp(d.data(), kMagic, 8) == 0;
  const bool v2 = std::memcmp(d.data(), kMagicV2, 8) == 0;
  if (!v3 && !v2 && std::memcmp(d.data(), kMagicV1, 8) != 0) return Status::Corruption(path + ": not a staged batch");
  Reader r(d.substr(8, d.size() - 16), path);
  StagedBatch& b = *header;
  b = StagedBatch();
  bool ok = r.Str(&b.feed) && r.Str(&b.key_fingerprint);
  const size_t records_at = r.pos() + sizeof(uint64_t);  // the records, after their count
  ok = ok && r.Vec(&b.records, with_records);
  if (ok) {
    f->records_offset_ = 8 + records_at;
    f->num_records_ = (r.pos() - records_at) / sizeof(StagedRecord);
  }
  ok = ok && r.Strs(&b.areas) && r.Strs(&b.practices) && r.Strs(&b.codes) && r.Strs(&b.units) && r.Strs(&b.encounters) &&
            r.Vec(&b.optouts) && r.Str(&b.optout_kind);
  ok = ok && r.Locate<uint32_t>(v3, &f->record_) && r.Locate<int64_t>(v3, &f->time_) &&
       r.Locate<int64_t>(v3, &f->end_) && r.Locate<uint32_t>(v3, &f->code_) && r.Locate<uint32_t>(v3, &f->unit_) &&
       r.Locate<uint32_t>(v3, &f->encounter_) && r.Locate<double>(v3, &f->value_);
  if (ok && (v2 || v3)) {
    ok = r.Str(&b.encoding_version);
    const size_t encodings_at = r.pos() + sizeof(uint64_t);  // the bytes, after their count
    ok = ok && r.Vec(&b.encodings, /*keep=*/false);
    if (ok) {
      f->encodings_offset_ = 8 + encodings_at;
      f->encoding_bytes_ = r.pos() - encodings_at;
    }
  }
  if (!ok) return Status::Corruption(path + ": truncated staged batch");
  if (f->encoding_bytes_ != 0 && (f->num_records_ == 0 || f->encoding_bytes_ % f->num_records_ != 0)) {
    return Status::Corruption(path + ": encodings do not match the records");
  }
  f->n_ = f->record_.n;
  for (Column* c : {&f->time_, &f->end_, &f->code_, &f->unit_, &f->encounter_, &f->value_}) {
    if (c->n != f->n_) return Status::Corruption(path + ": event columns of different lengths");
  }
  // Sparse columns: how many values precede each chunk, counted from the bitmap.
  std::string bits;
  for (Column* c : {&f->record_, &f->time_, &f->end_, &f->code_, &f->unit_, &f->encounter_, &f->value_}) {
    if (c->enc != kSparse) continue;
    const uint64_t k = c->ranks[0];
    const uint64_t bitmap = c->offset + c->width + 8, nb = (c->n + 7) / 8, per_chunk = kChunkEvents / 8;
    c->ranks.assign(1, 0);
    uint64_t count = 0;
    for (uint64_t at = 0; at < nb; at += per_chunk) {
      const uint64_t len = std::min(per_chunk, nb - at);
      bits.resize(len);
      ARK_RETURN_IF_ERROR(f->Pread(bitmap + at, len, bits.data()));
      for (uint64_t i = 0; i < len; ++i) count += std::popcount(static_cast<uint8_t>(bits[i]));
      c->ranks.push_back(count);
    }
    if (c->n % 8 != 0 && nb > 0) {
      // Bits past n in the last byte must be clear (the writer never sets them).
      const uint8_t last = static_cast<uint8_t>(bits[bits.size() - 1]);
      if (last >> (c->n % 8)) return Status::Corruption(path + ": sparse column bitmap past its end");
    }
    if (count != k) return Status::Corruption(path + ": sparse column count does not match its bitmap");
  }
  return f;
}

Status StagedEventFile::ReadRecords(uint64_t first, uint64_t n, std::vector<StagedRecord>* out) const {
  if (first > num_records_ || n > num_records_ - first) {
    return Status::InvalidArgument(path_ + ": records [" + std::to_string(first) + ", " + std::to_string(first + n) +
                                   ") past the batch's " + std::to_string(num_records_));
  }
  out->resize(n);
  return n ? Pread(records_offset_ + first * sizeof(StagedRecord), n * sizeof(StagedRecord), out->data()) : Status::OK();
}

Status StagedEventFile::ReadEncodings(uint64_t first, uint64_t n, std::vector<uint8_t>* out) const {
  if (first > num_records_ || n > num_records_ - first) {
    return Status::InvalidArgument(path_ + ": encodings of records [" + std::to_string(first) + ", " +
                                   std::to_string(first + n) + ") past the batch's " + std::to_string(num_records_));
  }
  const uint64_t blob = encoding_bytes_per_record();
  out->resize(n * blob);
  return n && blob ? Pread(encodings_offset_ + first * blob, n * blob, out->data()) : Status::OK();
}

template <typename T>
Status StagedEventFile::Decode(const Column& col, uint64_t c, std::vector<T>* out, std::string* scratch) const {
  const uint64_t i0 = c * kChunkEvents, i1 = std::min(n_, i0 + kChunkEvents), m = i1 - i0;
  out->resize(m);
  switch (col.enc) {
    case kPlain:
      return Pread(col.offset + i0 * sizeof(T), m * sizeof(T), out->data());
    case kNarrow: {
      scratch->resize(2 * m);
      ARK_RETURN_IF_ERROR(Pread(col.offset + 2 * i0, 2 * m, scratch->data()));
      for (uint64_t i = 0; i < m; ++i) {
        uint16_t y;
        std::memcpy(&y, scratch->data() + 2 * i, 2);
        (*out)[i] = static_cast<T>(y);
      }
      return Status::OK();
    }
    case kOffset: {
      scratch->resize(4 * m);
      ARK_RETURN_IF_ERROR(Pread(col.offset + 8 + 4 * i0, 4 * m, scratch->data()));
      for (uint64_t i = 0; i < m; ++i) {
        uint32_t y;
        std::memcpy(&y, scratch->data() + 4 * i, 4);
        const uint64_t v = col.base + y;
        std::memcpy(&(*out)[i], &v, sizeof(T));
      }
      return Status::OK();
    }
    case kSparse: {
      const uint64_t nb = (m + 7) / 8, j0 = col.ranks[c], j1 = col.ranks[c + 1];
      const uint64_t bitmap = col.offset + sizeof(T) + 8, values = bitmap + (n_ + 7) / 8;
      scratch->resize(nb + (j1 - j0) * sizeof(T));
      ARK_RETURN_IF_ERROR(Pread(bitmap + i0 / 8, nb, scratch->data()));
      ARK_RETURN_IF_ERROR(Pread(values + j0 * sizeof(T), (j1 - j0) * sizeof(T), scratch->data() + nb));
      const uint8_t* bits = reinterpret_cast<const uint8_t*>(scratch->data());
      const char* vals = scratch->data() + nb;
      T none;
      std::memcpy(&none, &col.base, sizeof(T));
      uint64_t j = 0;
      for (uint64_t i = 0; i < m; ++i) {
        if (bits[i >> 3] >> (i & 7) & 1) {
          if (j == j1 - j0) return Status::Corruption(path_ + ": sparse column changed while being read");
          std::memcpy(&(*out)[i], vals + j * sizeof(T), sizeof(T));
          ++j;
        } else {
          (*out)[i] = none;
        }
      }
      if (j != j1 - j0) return Status::Corruption(path_ + ": sparse column changed while being read");
      return Status::OK();
    }
  }
  return Status::Corruption(path_ + ": unknown column encoding");
}

Status StagedEventFile::ReadChunk(uint64_t c, bool record_only, StagedEvents* out, std::string* scratch) const {
  if (c >= num_chunks()) return Status::InvalidArgument(path_ + ": no chunk " + std::to_string(c));
  ARK_RETURN_IF_ERROR(Decode(record_, c, &out->record, scratch));
  if (record_only) return Status::OK();
  ARK_RETURN_IF_ERROR(Decode(time_, c, &out->time, scratch));
  ARK_RETURN_IF_ERROR(Decode(end_, c, &out->end, scratch));
  ARK_RETURN_IF_ERROR(Decode(code_, c, &out->code, scratch));
  ARK_RETURN_IF_ERROR(Decode(unit_, c, &out->unit, scratch));
  ARK_RETURN_IF_ERROR(Decode(encounter_, c, &out->encounter, scratch));
  return Decode(value_, c, &out->value, scratch);
}

}  // namespace ark
