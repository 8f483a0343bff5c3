// The programme key: a 256-bit secret shared by custodians, never given to the Ark. Pseudonyms
// are HMAC-SHA256(key, normalised NHS number); the Ark sees only pseudonyms and the key's
// fingerprint (to catch custodians using different keys at ingest, not as zero matches later).
//
// Key file format (text): "ark-programme-key v1\n" followed by 64 lowercase hex digits and "\n".
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "ark/status.h"

namespace ark {

using Digest = std::array<uint8_t, 32>;

class ProgrammeKey {
 public:
  // A fresh key from the OS's cryptographic random generator.
  static Result<ProgrammeKey> Generate();
  static Result<ProgrammeKey> Load(const std::string& path);
  // A key from raw bytes (tests, and plaintext linkage's internal blocking hashes).
  static ProgrammeKey FromBytes(const Digest& bytes) {
    ProgrammeKey k;
    k.bytes_ = bytes;
    return k;
  }
  // Writes the key file with mode 0600; refuses to overwrite an existing file.
  Status Save(const std::string& path) const;

  // 16 hex digits of SHA-256("ark-key-fingerprint\0" || key): safe to publish.
  std::string Fingerprint() const;
  // HMAC-SHA256(key, message).
  Digest Hmac(std::string_view message) const;
  // A sub-key for one purpose, HKDF-SHA256(key, info = purpose) (used by the linkage encodings).
  Digest Derive(std::string_view purpose) const;

 private:
  Digest bytes_{};
};

std::string ToHex(const uint8_t* data, size_t n);
// SHA-256 of `data` as 64 lowercase hex digits (a file's fingerprint, e.g. an opt-out list's).
std::string Sha256Hex(std::string_view data);
inline std::string ToHex(const Digest& d) { return ToHex(d.data(), d.size()); }
// Parses 64 hex digits; false on anything else.
bool FromHex(std::string_view hex, Digest* out);

}  // namespace ark
