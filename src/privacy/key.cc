#include "privacy/key.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include "core/fs.h"

namespace ark {

namespace {
constexpr std::string_view kHeader = "ark-programme-key v1\n";
}

std::string ToHex(const uint8_t* data, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string s(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    s[2 * i] = kDigits[data[i] >> 4];
    s[2 * i + 1] = kDigits[data[i] & 15];
  }
  return s;
}

bool FromHex(std::string_view hex, Digest* out) {
  if (hex.size() != 64) return false;
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < 32; ++i) {
    int hi = val(hex[2 * i]), lo = val(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

Result<ProgrammeKey> ProgrammeKey::Generate() {
  ProgrammeKey k;
  if (RAND_bytes(k.bytes_.data(), static_cast<int>(k.bytes_.size())) != 1) {
    return Status::Internal("the random generator failed");
  }
  return k;
}

Result<ProgrammeKey> ProgrammeKey::Load(const std::string& path) {
  ARK_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  if (text.compare(0, kHeader.size(), kHeader) != 0) {
    return Status::InvalidArgument(path + ": not an Ark programme key file (expected 'ark-programme-key v1')");
  }
  std::string_view hex = std::string_view(text).substr(kHeader.size());
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.remove_suffix(1);
  ProgrammeKey k;
  if (!FromHex(hex, &k.bytes_)) return Status::InvalidArgument(path + ":2: expected 64 hex digits");
  return k;
}

Status ProgrammeKey::Save(const std::string& path) const {
  if (PathExists(path)) return Status::FailedPrecondition(path + " exists: refusing to overwrite a key");
  ARK_RETURN_IF_ERROR(WriteFileAtomic(path, std::string(kHeader) + ToHex(bytes_) + "\n"));
  ::chmod(path.c_str(), 0600);
  return Status::OK();
}

std::string ProgrammeKey::Fingerprint() const {
  std::string msg("ark-key-fingerprint", 20);  // includes the trailing NUL
  msg.append(reinterpret_cast<const char*>(bytes_.data()), bytes_.size());
  uint8_t md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(msg.data()), msg.size(), md);
  return ToHex(md, 8);
}

Digest ProgrammeKey::Hmac(std::string_view message) const {
  Digest out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), bytes_.data(), static_cast<int>(bytes_.size()),
       reinterpret_cast<const uint8_t*>(message.data()), message.size(), out.data(), &len);
  return out;
}

Digest ProgrammeKey::Derive(std::string_view purpose) const {
  Digest out{};
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr);
  size_t len = out.size();
  if (ctx && EVP_PKEY_derive_init(ctx) > 0 && EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) > 0 &&
      EVP_PKEY_CTX_set1_hkdf_key(ctx, bytes_.data(), static_cast<int>(bytes_.size())) > 0 &&
      EVP_PKEY_CTX_add1_hkdf_info(ctx, reinterpret_cast<const uint8_t*>(purpose.data()),
                                  static_cast<int>(purpose.size())) > 0) {
    EVP_PKEY_derive(ctx, out.data(), &len);
  }
  EVP_PKEY_CTX_free(ctx);
  return out;
}

std::string Sha256Hex(std::string_view data) {
  uint8_t md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(data.data()), data.size(), md);
  return ToHex(md, sizeof md);
}

}  // namespace ark
