// A custodian's signing key (Ed25519): the custodian signs the manifest of every extract it makes
// (`ark pseudonymise --custodian-key FILE`), and an Ark that has registered the custodian's public
// key (`ark custodian trust`) refuses an extract whose manifest is unsigned or wrongly signed
// (docs/governance.md, "Signed custodian manifests"). The manifest carries the record counts and
// the opt-out list's count and SHA-256, so whoever edits the opt-out list must also edit the
// manifest, and cannot re-sign it without the custodian's key.
//
// Files:
//   key file (custodian side, mode 0600): "ark-custodian-key v1\n<custodian>\n<64 hex: Ed25519 seed>\n"
//   EXTRACT/manifest.sig: "ark-manifest-signature v1\n<custodian>\n<64 hex: public key>\n<128 hex: signature>\n"
//     — the Ed25519 signature of manifest.json's exact bytes.
//   ARK/catalog.db table custodian_keys(custodian PRIMARY KEY, public_key, added_by, added_at).
//
// Thread safety: stateless functions; CustodianKey is immutable.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "ark/status.h"
#include "catalog/catalog.h"

namespace ark {

inline constexpr char kManifestSigFile[] = "manifest.sig";

class CustodianKey {
 public:
  // A fresh key for `custodian` (letters, digits, '-', '_', '.').
  static Result<CustodianKey> Generate(const std::string& custodian);
  // Errors name the file and what is wrong.
  static Result<CustodianKey> Load(const std::string& path);
  // Writes the key file (mode 0600); refuses to overwrite.
  Status Save(const std::string& path) const;

  const std::string& custodian() const { return custodian_; }
  std::string PublicKeyHex() const;  // 64 hex digits
  // The manifest.sig text for `manifest` (the exact bytes of manifest.json).
  Result<std::string> SignManifest(std::string_view manifest) const;

 private:
  std::string custodian_;
  std::array<uint8_t, 32> seed_{}, pub_{};
};

// Signs the extract in `extract_dir` (custodian side): writes EXTRACT/manifest.sig over its
// manifest.json. InvalidArgument when the manifest names another custodian than the key's.
Status SignExtract(const CustodianKey& key, const std::string& extract_dir);

// Whether `sig_text` (a manifest.sig) is a valid signature of `manifest` by `public_key_hex`.
// InvalidArgument naming `where` when the text is malformed; PermissionDenied naming `where` when
// the signature is not the registered key's.
Status VerifyManifestSignature(std::string_view manifest, std::string_view sig_text, const std::string& public_key_hex,
                               const std::string& custodian, const std::string& where);

// The catalog's registered keys. Register replaces an earlier key of the custodian (rotation).
Status EnsureCustodianKeySchema(Catalog& cat);
Status RegisterCustodianKey(Catalog& cat, const std::string& custodian, const std::string& public_key_hex,
                            const std::string& by);
Result<std::optional<std::string>> RegisteredCustodianKey(Catalog& cat, const std::string& custodian);
// InvalidArgument unless `hex` is 64 hex digits (lower-cased on return).
Result<std::string> ParsePublicKeyHex(const std::string& hex);

}  // namespace ark
