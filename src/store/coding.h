// Byte-level encoding helpers for the timeline store's files (docs/store-format.md): little-endian
// fixed-width integers, LEB128 varints, zig-zag signed integers, and fixed-width bit packing with
// O(1) random access. All functions are pure and thread-safe.
//
// Bit-packed arrays: value i of width w lives in bits [i*w, i*w + w) of a little-endian bit
// stream. PackBits appends the packed bytes plus kBitPadding zero bytes, so UnpackBits can always
// load 8 bytes at the value's first byte without reading past the stream.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace ark::store {

constexpr size_t kBitPadding = 8;

inline void PutU8(std::string* dst, uint8_t v) { dst->push_back(static_cast<char>(v)); }
inline void PutU16(std::string* dst, uint16_t v) { dst->append(reinterpret_cast<const char*>(&v), 2); }
inline void PutU32(std::string* dst, uint32_t v) { dst->append(reinterpret_cast<const char*>(&v), 4); }
inline void PutU64(std::string* dst, uint64_t v) { dst->append(reinterpret_cast<const char*>(&v), 8); }
inline void PutDouble(std::string* dst, double v) { dst->append(reinterpret_cast<const char*>(&v), 8); }

inline uint16_t LoadU16(const char* p) { uint16_t v; std::memcpy(&v, p, 2); return v; }
inline uint32_t LoadU32(const char* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
inline uint64_t LoadU64(const char* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }
inline void StoreU32(char* p, uint32_t v) { std::memcpy(p, &v, 4); }
inline void StoreU64(char* p, uint64_t v) { std::memcpy(p, &v, 8); }

inline void PutVarint(std::string* dst, uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}
inline uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
inline int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }
inline void PutString(std::string* dst, std::string_view s) {
  PutVarint(dst, s.size());
  dst->append(s);
}

// Sequential reader over a byte range with bounds checks. A read past the end (or a malformed
// varint) sets a sticky failure flag and returns zero; check ok() once after a group of reads.
class ByteReader {
 public:
  ByteReader() = default;
  ByteReader(const char* p, size_t n) : p_(p), end_(p + n) {}
  explicit ByteReader(std::string_view s) : ByteReader(s.data(), s.size()) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  const char* pos() const { return p_; }

  uint8_t U8() { return Need(1) ? static_cast<uint8_t>(*p_++) : 0; }
  uint16_t U16() { return Fixed<uint16_t>(); }
  uint32_t U32() { return Fixed<uint32_t>(); }
  uint64_t U64() { return Fixed<uint64_t>(); }
  int32_t I32() { return static_cast<int32_t>(Fixed<uint32_t>()); }
  double Double() { return Fixed<double>(); }
  uint64_t Varint() {
    if (p_ < end_ && static_cast<uint8_t>(*p_) < 0x80) return static_cast<uint8_t>(*p_++);  // common case
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!Need(1)) return 0;
      const uint8_t b = static_cast<uint8_t>(*p_++);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    ok_ = false;
    return 0;
  }
  int64_t ZigZagVarint() { return UnZigZag(Varint()); }
  std::string_view Bytes(size_t n) {
    if (!Need(n)) return {};
    std::string_view s(p_, n);
    p_ += n;
    return s;
  }
  std::string_view String() { return Bytes(Varint()); }

 private:
  bool Need(size_t n) {
    if (ok_ && remaining() >= n) return true;
    ok_ = false;
    p_ = end_;
    return false;
  }
  template <typename T>
  T Fixed() {
    T v{};
    if (Need(sizeof(T))) {
      std::memcpy(&v, p_, sizeof(T));
      p_ += sizeof(T);
    }
    return v;
  }

  const char* p_ = nullptr;
  const char* end_ = nullptr;
  bool ok_ = true;
};

// Number of bits needed to hold `max_value` (0 for 0).
inline int BitsFor(uint64_t max_value) { return max_value == 0 ? 0 : 64 - __builtin_clzll(max_value); }

// Bytes PackBits appends for n values of width w (including the padding).
inline size_t PackedSize(size_t n, int width) { return (n * static_cast<size_t>(width) + 7) / 8 + kBitPadding; }

// Appends n values of `width` bits (0..32; each value must fit) plus padding.
template <typename T>
void PackBits(std::string* dst, const T* values, size_t n, int width) {
  const size_t start = dst->size();
  dst->resize(start + PackedSize(n, width), '\0');
  if (width == 0) return;
  auto* out = reinterpret_cast<uint8_t*>(dst->data() + start);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t bit = i * static_cast<uint64_t>(width);
    uint64_t word;
    std::memcpy(&word, out + (bit >> 3), 8);
    word |= static_cast<uint64_t>(values[i]) << (bit & 7);
    std::memcpy(out + (bit >> 3), &word, 8);
  }
}

// Value i of a packed array of `width` bits (0..32). The caller keeps i within the array.
inline uint32_t UnpackBits(const uint8_t* base, size_t i, int width) {
  const uint64_t bit = i * static_cast<uint64_t>(width);
  uint64_t word;
  std::memcpy(&word, base + (bit >> 3), 8);
  return static_cast<uint32_t>((word >> (bit & 7)) & ((uint64_t{1} << width) - 1));
}

}  // namespace ark::store
