// Ed25519 (RFC 8032) through OpenSSL 3's EVP interface, and the key files of the ledger's signer
// and of witnesses: "<magic>\n<key name>\n<64 hex digits of the 32-byte seed>\n", mode 0600.
//
// Thread safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "ark/status.h"

namespace ark::gov::ed25519 {

using Seed = std::array<uint8_t, 32>;
using PublicKey = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;

Result<Seed> NewSeed();
Result<PublicKey> PublicOf(const Seed& seed);
Result<Signature> Sign(const Seed& seed, std::string_view message);
// True only for a 64-byte signature by `pub` over `message`.
bool Verify(const PublicKey& pub, std::string_view message, std::string_view signature);

// SHA-256(name || "\n" || type || public key)[:4]: the signed-note key ID (type 0x01 for a note
// signer, 0x04 for a tlog-cosignature/v1 witness).
std::array<uint8_t, 4> KeyId(const std::string& name, uint8_t type, const PublicKey& pub);
// The signed-note verifier key: <name>+<key ID, 8 hex>+<base64(type || public key)>.
std::string VerifierKey(const std::string& name, uint8_t type, const PublicKey& pub);
struct ParsedVkey {
  std::string name;
  PublicKey pub{};
  std::array<uint8_t, 4> id{};
};
// Parses a verifier key of the given type (trailing whitespace ignored); InvalidArgument otherwise.
Result<ParsedVkey> ParseVerifierKey(const std::string& vkey, uint8_t type);
// A key name: non-empty, no spaces, control characters or '+' (signed-note).
bool ValidKeyName(const std::string& name);

// A named signing key (a ledger's, a witness's): its seed and the public key derived from it.
struct NamedKey {
  std::string name;
  Seed seed{};
  PublicKey pub{};
};
// A fresh key; InvalidArgument("bad key name ...") unless ValidKeyName(name).
Result<NamedKey> NewNamedKey(const std::string& name);
// Key file: "<magic>\n<name>\n<64 hex digits of the seed>\n"; Corruption naming the file and line.
Result<NamedKey> LoadKeyFile(const std::string& path, const std::string& magic);
// Writes the name and seed (mode 0600). Refuses to overwrite an existing file; creates missing
// parent directories (0700).
Status SaveKeyFile(const std::string& path, const std::string& magic, const NamedKey& key);

}  // namespace ark::gov::ed25519
