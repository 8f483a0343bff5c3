#include "store/block_columns.h"

#include <cmath>
#include <cstring>

#include "store/coding.h"

namespace ark::store {
namespace {

constexpr double kPow10[] = {1.0, 10.0, 100.0, 1000.0, 10000.0};
constexpr double kMaxExactInt = 9007199254740992.0;  // 2^53

Status Bad(const char* what) { return Status::Corruption(std::string("block cold stream: ") + what); }

// Bitmap of n bits, appended as ceil(n/8) bytes.
template <typename Pred>
void PutBitmap(std::string* out, size_t n, Pred present) {
  const size_t start = out->size();
  out->resize(start + (n + 7) / 8, '\0');
  for (size_t i = 0; i < n; ++i) {
    if (present(i)) (*out)[start + i / 8] = static_cast<char>((*out)[start + i / 8] | (1 << (i % 8)));
  }
}
inline bool Bit(std::string_view bm, size_t i) { return (static_cast<uint8_t>(bm[i / 8]) >> (i % 8)) & 1; }

// Values of `width` bytes stored as byte planes (all first bytes, then all second bytes, ...):
// zstd's entropy coder then sees each byte position's own distribution.
void PutPlanes(std::string* out, const std::vector<uint64_t>& v, int width) {
  for (int p = 0; p < width; ++p) {
    for (uint64_t x : v) out->push_back(static_cast<char>(x >> (8 * p)));
  }
}
bool GetPlanes(ByteReader* r, size_t count, int width, std::vector<uint64_t>* v) {
  v->assign(count, 0);
  std::string_view bytes = r->Bytes(count * static_cast<size_t>(width));
  if (!r->ok()) return false;
  for (int p = 0; p < width; ++p) {
    for (size_t k = 0; k < count; ++k) (*v)[k] |= uint64_t{static_cast<uint8_t>(bytes[p * count + k])} << (8 * p);
  }
  return true;
}
int BytesFor(uint64_t max_value) { return (BitsFor(max_value) + 7) / 8; }

bool ScaledFits(double v, int e, int64_t* r) {
  const double x = v * kPow10[e];
  if (!(std::fabs(x) < kMaxExactInt)) return false;
  const int64_t ri = std::llround(x);
  const double back = static_cast<double>(ri) / kPow10[e];
  if (std::memcmp(&back, &v, sizeof v) != 0) return false;
  *r = ri;
  return true;
}

}  // namespace

int ExactDecimals(double value) {
  int64_t r;
  for (int e = 0; e <= 4; ++e) {
    if (ScaledFits(value, e, &r)) return e;
  }
  return -1;
}

bool EncodeTod(std::span<const int32_t> sod, std::string* out) {
  bool any = false, minutes = true;
  for (int32_t s : sod) {
    any |= s != 0;
    minutes &= s % 60 == 0;
  }
  if (!any) return false;
  const int unit = minutes ? 60 : 1;
  PutU8(out, static_cast<uint8_t>(unit));
  PutBitmap(out, sod.size(), [&](size_t i) { return sod[i] != 0; });
  std::vector<uint64_t> v;
  for (int32_t s : sod) {
    if (s != 0) v.push_back(static_cast<uint64_t>(s / unit));
  }
  PutPlanes(out, v, minutes ? 2 : 3);
  return true;
}

Status TodReader::Init(std::string_view in, size_t n) {
  ByteReader r(in);
  unit_ = r.U8();
  if (unit_ != 60 && unit_ != 1) return Bad("time of day unit");
  bitmap_bytes_ = (n + 7) / 8;
  bitmap_ = reinterpret_cast<const uint8_t*>(r.Bytes(bitmap_bytes_).data());
  if (!r.ok()) return Bad("time of day truncated");
  rank_.assign(n / 64 + 1, 0);
  size_t count = 0;
  for (size_t w = 0; w < rank_.size(); ++w) {
    rank_[w] = static_cast<uint32_t>(count);
    if (8 * w < bitmap_bytes_) count += static_cast<size_t>(__builtin_popcountll(Word(w)));
  }
  count_ = count;
  const size_t planes = unit_ == 60 ? 2 : 3;
  if (r.remaining() != count * planes) return Bad("time of day size");
  planes_ = reinterpret_cast<const uint8_t*>(r.pos());
  if (unit_ == 1) {
    for (size_t k = 0; k < count; ++k) {
      if (planes_[2 * count + k] > 1) return Bad("second of day out of range");
    }
  }
  return Status::OK();
}

Status DecodeTod(std::string_view in, size_t n, std::vector<int32_t>* sod) {
  TodReader t;
  ARK_RETURN_IF_ERROR(t.Init(in, n));  // validates sizes
  sod->assign(n, 0);
  const auto* bm = reinterpret_cast<const uint8_t*>(in.data() + 1);
  const auto* planes = bm + (n + 7) / 8;
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) count += (bm[i / 8] >> (i % 8)) & 1;
  const uint32_t unit = static_cast<uint8_t>(in[0]);
  for (size_t i = 0, k = 0; i < n; ++i) {
    if (!((bm[i / 8] >> (i % 8)) & 1)) continue;
    uint32_t v = planes[k] | static_cast<uint32_t>(planes[count + k]) << 8;
    if (unit == 1) v |= static_cast<uint32_t>(planes[2 * count + k]) << 16;
    ++k;
    v *= unit;
    if (v >= kSecondsPerDay) return Bad("second of day out of range");
    (*sod)[i] = static_cast<int32_t>(v);
  }
  return Status::OK();
}

void StableOrderByKey(std::span<const uint32_t> keys, uint32_t num_keys, std::vector<uint32_t>* order) {
  std::vector<uint32_t> start(num_keys + 1, 0);
  for (uint32_t k : keys) ++start[k + 1];
  for (uint32_t k = 0; k < num_keys; ++k) start[k + 1] += start[k];
  order->resize(keys.size());
  for (uint32_t i = 0; i < keys.size(); ++i) (*order)[start[keys[i]]++] = i;
}

void EncodeCold(std::span<const Event> events, std::span<const uint32_t> order, std::string* out) {
  const size_t n = events.size();
  auto ev = [&](size_t k) -> const Event& { return events[order[k]]; };
  // Values: one scale for the block; a value not exact at that scale is stored raw.
  int scale = 0;
  bool any_value = false;
  for (const Event& e : events) {
    if (!e.has_value()) continue;
    any_value = true;
    scale = std::max(scale, ExactDecimals(e.value));
  }
  PutU8(out, any_value ? 1 : 0);
  if (any_value) {
    PutU8(out, static_cast<uint8_t>(scale));
    PutBitmap(out, n, [&](size_t k) { return ev(k).has_value(); });
    std::vector<uint64_t> scaled, raw;
    std::vector<bool> is_raw;
    for (size_t k = 0; k < n; ++k) {
      const Event& e = ev(k);
      if (!e.has_value()) continue;
      int64_t r = 0;
      is_raw.push_back(!ScaledFits(e.value, scale, &r));
      if (is_raw.back()) {
        uint64_t bits;
        std::memcpy(&bits, &e.value, 8);
        raw.push_back(bits);
      } else {
        scaled.push_back(ZigZag(r));
      }
    }
    PutU8(out, raw.empty() ? 0 : 1);
    if (!raw.empty()) PutBitmap(out, is_raw.size(), [&](size_t k) { return is_raw[k]; });
    uint64_t max_scaled = 0;
    for (uint64_t x : scaled) max_scaled = std::max(max_scaled, x);
    const int width = BytesFor(max_scaled);
    PutU8(out, static_cast<uint8_t>(width));
    PutPlanes(out, scaled, width);
    PutPlanes(out, raw, 8);
  }
  // Units: those of events with a value, then the others (units mostly go with values).
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t k = 0; k < n; ++k) {
      if (ev(k).has_value() == (pass == 0)) PutVarint(out, ev(k).unit);
    }
  }
  // End times: relative to the start, in the largest unit that divides every duration.
  bool any_end = false;
  uint32_t unit = 86400;
  for (const Event& e : events) {
    if (e.end == kNoTime) continue;
    any_end = true;
    while ((e.end - e.time) % unit != 0) unit = unit == 86400 ? 3600 : unit == 3600 ? 60 : 1;
  }
  PutU8(out, any_end ? 1 : 0);
  if (any_end) {
    PutU32(out, unit);
    PutBitmap(out, n, [&](size_t k) { return ev(k).end != kNoTime; });
    for (size_t k = 0; k < n; ++k) {
      if (ev(k).end != kNoTime) PutVarint(out, ZigZag((ev(k).end - ev(k).time) / unit));
    }
  }
  for (size_t k = 0; k < n; ++k) PutVarint(out, ev(k).source);
  // Encounters in event order, as the difference from the previous nonzero one (+1; 0 = none):
  // a spell's events are runs of one id.
  int64_t prev = 0;
  for (const Event& e : events) {
    if (e.encounter == kNoEncounter) {
      PutVarint(out, 0);
    } else {
      PutVarint(out, ZigZag(static_cast<int64_t>(e.encounter) - prev) + 1);
      prev = e.encounter;
    }
  }
}

Status DecodeCold(std::string_view in, std::span<const uint32_t> order, std::span<Event> events, bool ids) {
  // Columns are read sequentially into arrays in code order, then scattered to the events once.
  // The arrays are per-thread scratch (blocks are decoded by the thousand).
  const size_t n = events.size();
  if (order.size() != n) return Bad("order size");
  thread_local std::vector<double> value;
  thread_local std::vector<uint8_t> has_value, has_end;
  thread_local std::vector<uint32_t> unit;
  thread_local std::vector<int64_t> end;
  thread_local std::vector<uint16_t> source;
  thread_local std::vector<uint64_t> scaled, raw;
  value.resize(n);
  has_value.assign(n, 0);
  has_end.assign(n, 0);
  end.resize(n);
  if (ids) {
    unit.resize(n);
    source.resize(n);
  }
  ByteReader r(in);
  if (r.U8() == 1) {
    const int scale = r.U8();
    if (scale > 4) return Bad("value scale");
    std::string_view present = r.Bytes((n + 7) / 8);
    if (!r.ok()) return Bad("truncated values");
    size_t m = 0;
    for (size_t k = 0; k < n; ++k) m += has_value[k] = Bit(present, k);
    std::string_view raw_bm;
    size_t n_raw = 0;
    if (r.U8() == 1) {
      raw_bm = r.Bytes((m + 7) / 8);
      if (!r.ok()) return Bad("truncated values");
      for (size_t k = 0; k < m; ++k) n_raw += Bit(raw_bm, k);
    }
    const int width = r.U8();
    if (width > 8 || !GetPlanes(&r, m - n_raw, width, &scaled) || !GetPlanes(&r, n_raw, 8, &raw)) {
      return Bad("truncated values");
    }
    for (size_t k = 0, p = 0, si = 0, ri = 0; k < n; ++k) {
      if (!has_value[k]) continue;
      if (!raw_bm.empty() && Bit(raw_bm, p)) {
        std::memcpy(&value[k], &raw[ri++], 8);
      } else {
        value[k] = static_cast<double>(UnZigZag(scaled[si++])) / kPow10[scale];
      }
      ++p;
    }
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t k = 0; k < n; ++k) {
      if (has_value[k] != (pass == 0)) continue;
      const uint64_t u = r.Varint();
      if (ids) unit[k] = static_cast<uint32_t>(u);
    }
  }
  if (r.U8() == 1) {
    const uint32_t end_unit = r.U32();
    if (end_unit != 1 && end_unit != 60 && end_unit != 3600 && end_unit != 86400) return Bad("end time unit");
    std::string_view bm = r.Bytes((n + 7) / 8);
    for (size_t k = 0; k < n && r.ok(); ++k) {
      if (!Bit(bm, k)) continue;
      has_end[k] = 1;
      end[k] = r.ZigZagVarint() * static_cast<int64_t>(end_unit);
    }
  }
  if (!ids) {
    if (!r.ok()) return Bad("truncated");
    for (size_t k = 0; k < n; ++k) {
      Event& e = events[order[k]];
      e.value = has_value[k] ? value[k] : kNoValue;
      if (has_end[k]) e.end = e.time + end[k];
    }
    return Status::OK();
  }
  for (size_t k = 0; k < n; ++k) {
    const uint64_t v = r.Varint();
    if (v > 0xffff) return Bad("source id out of range");
    source[k] = static_cast<uint16_t>(v);
  }
  if (!r.ok()) return Bad("truncated");
  for (size_t k = 0; k < n; ++k) {
    Event& e = events[order[k]];
    e.value = has_value[k] ? value[k] : kNoValue;
    e.unit = unit[k];
    if (has_end[k]) e.end = e.time + end[k];
    e.source = source[k];
  }
  int64_t prev = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t v = r.Varint();
    if (v == 0) continue;
    prev += UnZigZag(v - 1);
    if (prev <= 0 || prev > UINT32_MAX) return Bad("encounter out of range");
    events[i].encounter = static_cast<uint32_t>(prev);
  }
  if (!r.ok()) return Bad("truncated");
  if (r.remaining() != 0) return Bad("trailing bytes");
  return Status::OK();
}

void EncodePersons(std::span<const Person> persons, std::string* out) {
  for (const Person& p : persons) PutU16(out, static_cast<uint16_t>(p.birth_year));
  for (const Person& p : persons) PutU8(out, p.birth_month);
  for (const Person& p : persons) PutU8(out, static_cast<uint8_t>(p.sex));
  for (const Person& p : persons) PutU32(out, static_cast<uint32_t>(p.death_day));
  for (const Person& p : persons) PutVarint(out, p.lsoa);
  for (const Person& p : persons) PutU8(out, p.imd_decile);
  for (const Person& p : persons) PutVarint(out, p.practice);
  for (const Person& p : persons) PutU8(out, p.flags);
}

Status DecodePersons(std::string_view in, std::span<Person> persons) {
  ByteReader r(in);
  for (Person& p : persons) p.birth_year = static_cast<int16_t>(r.U16());
  for (Person& p : persons) p.birth_month = r.U8();
  for (Person& p : persons) p.sex = static_cast<char>(r.U8());
  for (Person& p : persons) p.death_day = r.I32();
  for (Person& p : persons) p.lsoa = static_cast<uint32_t>(r.Varint());
  for (Person& p : persons) p.imd_decile = r.U8();
  for (Person& p : persons) p.practice = static_cast<uint32_t>(r.Varint());
  for (Person& p : persons) p.flags = r.U8();
  if (!r.ok() || r.remaining() != 0) return Status::Corruption("block persons stream: malformed");
  return Status::OK();
}

}  // namespace ark::store
