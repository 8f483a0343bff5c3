// Witness cosignatures in the C2SP tlog-cosignature/v1 format (Ed25519): a witness's timestamped
// statement that, at that time, the checkpoint was the largest consistent tree it had seen of the
// log named by the checkpoint's origin.
//
//   signed message  "cosignature/v1\ntime <T>\n" || the checkpoint's note body
//   signature line  "— <witness name> base64(key ID(4) || T (8 bytes, big-endian) || signature(64))"
//   key ID          SHA-256(<name> || "\n" || 0x04 || 32-byte public key)[:4]
//   verifier key    <name>+<key ID, 8 hex>+base64(0x04 || public key)
//
// Key file: "ark-witness-key v1\n<name>\n<64 hex digits of the seed>\n" (mode 0600).
//
// Thread safety: objects are immutable after construction.
#pragma once

#include <cstdint>
#include <string>

#include "ark/status.h"
#include "governance/ed25519.h"

namespace ark::gov {

class Cosigner {
 public:
  static Result<Cosigner> Generate(const std::string& name);
  static Result<Cosigner> Load(const std::string& path);
  Status Save(const std::string& path) const;  // refuses to overwrite

  const std::string& name() const { return key_.name; }
  std::string VerifierKey() const;
  // The cosignature line (with its "\n") over a checkpoint note body at POSIX time `time`.
  Result<std::string> Cosign(const std::string& body, uint64_t time) const;

 private:
  ed25519::NamedKey key_;
};

class CosignatureVerifier {
 public:
  static Result<CosignatureVerifier> Parse(const std::string& vkey);
  const std::string& name() const { return name_; }

  // The time of this witness's valid cosignature on the signed note `note` (a checkpoint with
  // its signature lines). NotFound when no line is this witness's; PermissionDenied when a line
  // carries its name and key ID but does not verify (forged or altered).
  Result<uint64_t> Verify(const std::string& note) const;

 private:
  std::string name_;
  ed25519::PublicKey pub_{};
  std::array<uint8_t, 4> id_{};
};

}  // namespace ark::gov
