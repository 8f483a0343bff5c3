// CRC-32C (Castagnoli), the checksum of every block, footer, manifest and WAL record in the
// timeline store. Uses the SSE4.2 crc32 instruction when compiled for it, a table otherwise.
// Masked form (as in LevelDB) is stored for checksums that may themselves be checksummed.
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ark::store {

// Extends `crc` (the CRC of some prefix; 0 for none) with `n` bytes.
uint32_t Crc32cExtend(uint32_t crc, const char* data, size_t n);
inline uint32_t Crc32c(const char* data, size_t n) { return Crc32cExtend(0, data, n); }
inline uint32_t Crc32c(std::string_view s) { return Crc32c(s.data(), s.size()); }

constexpr uint32_t kCrcMaskDelta = 0xa282ead8u;
inline uint32_t MaskCrc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kCrcMaskDelta; }
inline uint32_t UnmaskCrc(uint32_t masked) {
  const uint32_t rot = masked - kCrcMaskDelta;
  return (rot >> 17) | (rot << 15);
}

}  // namespace ark::store
