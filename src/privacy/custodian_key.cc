#include "privacy/custodian_key.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <cctype>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "core/fs.h"
#include "privacy/key.h"

namespace ark {
namespace {

constexpr char kKeyHeader[] = "ark-custodian-key v1";
constexpr char kSigHeader[] = "ark-manifest-signature v1";

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

bool ValidName(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string l; std::getline(in, l);) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    out.push_back(l);
  }
  return out;
}

bool HexBytes(std::string_view hex, uint8_t* out, size_t n) {
  if (hex.size() != 2 * n) return false;
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < n; ++i) {
    const int hi = val(hex[2 * i]), lo = val(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

Status PublicFromSeed(const std::array<uint8_t, 32>& seed, std::array<uint8_t, 32>* pub) {
  PkeyPtr k(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()), EVP_PKEY_free);
  size_t n = pub->size();
  if (!k || EVP_PKEY_get_raw_public_key(k.get(), pub->data(), &n) != 1 || n != 32) {
    return Status::Internal("Ed25519 key derivation failed");
  }
  return Status::OK();
}

}  // namespace

Result<CustodianKey> CustodianKey::Generate(const std::string& custodian) {
  if (!ValidName(custodian)) {
    return Status::InvalidArgument("custodian name '" + custodian + "': use letters, digits, '-', '_' or '.'");
  }
  CustodianKey k;
  k.custodian_ = custodian;
  if (RAND_bytes(k.seed_.data(), static_cast<int>(k.seed_.size())) != 1) return Status::Internal("no random bytes");
  ARK_RETURN_IF_ERROR(PublicFromSeed(k.seed_, &k.pub_));
  return k;
}

Result<CustodianKey> CustodianKey::Load(const std::string& path) {
  ARK_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  const std::vector<std::string> l = Lines(text);
  if (l.size() < 3 || l[0] != kKeyHeader) {
    return Status::InvalidArgument(path + ": not a custodian key (expected '" + kKeyHeader + "' on line 1; 'ark custodian keygen' writes one)");
  }
  CustodianKey k;
  k.custodian_ = l[1];
  if (!ValidName(k.custodian_)) return Status::InvalidArgument(path + ": line 2: bad custodian name '" + l[1] + "'");
  if (!HexBytes(l[2], k.seed_.data(), k.seed_.size())) {
    return Status::InvalidArgument(path + ": line 3: expected 64 hex digits (the key)");
  }
  ARK_RETURN_IF_ERROR(PublicFromSeed(k.seed_, &k.pub_));
  return k;
}

Status CustodianKey::Save(const std::string& path) const {
  if (PathExists(path)) return Status::FailedPrecondition(path + " exists: refusing to overwrite a key");
  ARK_RETURN_IF_ERROR(WriteFileAtomic(path, std::string(kKeyHeader) + "\n" + custodian_ + "\n" +
                                                ToHex(seed_.data(), seed_.size()) + "\n"));
  ::chmod(path.c_str(), 0600);
  return Status::OK();
}

std::string CustodianKey::PublicKeyHex() const { return ToHex(pub_.data(), pub_.size()); }

Result<std::string> CustodianKey::SignManifest(std::string_view manifest) const {
  PkeyPtr k(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed_.data(), seed_.size()), EVP_PKEY_free);
  MdCtxPtr ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  uint8_t sig[64];
  size_t n = sizeof sig;
  if (!k || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, k.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig, &n, reinterpret_cast<const uint8_t*>(manifest.data()), manifest.size()) != 1 || n != 64) {
    return Status::Internal("Ed25519 signing failed");
  }
  return std::string(kSigHeader) + "\n" + custodian_ + "\n" + PublicKeyHex() + "\n" + ToHex(sig, n) + "\n";
}

Status SignExtract(const CustodianKey& key, const std::string& extract_dir) {
  const std::string path = extract_dir + "/manifest.json";
  ARK_ASSIGN_OR_RETURN(std::string manifest, ReadFile(path));
  const auto m = nlohmann::json::parse(manifest, nullptr, false);
  if (!m.is_object() || !m.contains("custodian") || !m["custodian"].is_string()) {
    return Status::InvalidArgument(path + ": not a pseudonymised extract manifest (no 'custodian')");
  }
  if (m["custodian"].get<std::string>() != key.custodian()) {
    return Status::InvalidArgument(path + ": the extract is custodian '" + m["custodian"].get<std::string>() +
                                   "'s, but the key is custodian '" + key.custodian() + "'s");
  }
  ARK_ASSIGN_OR_RETURN(std::string sig, key.SignManifest(manifest));
  return WriteFileAtomic(extract_dir + "/" + kManifestSigFile, sig);
}

Status VerifyManifestSignature(std::string_view manifest, std::string_view sig_text, const std::string& public_key_hex,
                               const std::string& custodian, const std::string& where) {
  const std::vector<std::string> l = Lines(sig_text);
  uint8_t sig[64];
  std::array<uint8_t, 32> pub{};
  if (l.size() < 4 || l[0] != kSigHeader || !HexBytes(l[3], sig, sizeof sig)) {
    return Status::InvalidArgument(where + ": not a manifest signature (expected '" + kSigHeader +
                                   "', the custodian, its public key and 128 hex digits)");
  }
  if (l[1] != custodian) {
    return Status::PermissionDenied(where + ": signed by custodian '" + l[1] + "', but the manifest is custodian '" +
                                    custodian + "'s");
  }
  if (!HexBytes(public_key_hex, pub.data(), pub.size())) return Status::InvalidArgument("registered key of '" + custodian + "' is not 64 hex digits");
  PkeyPtr k(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, pub.data(), pub.size()), EVP_PKEY_free);
  MdCtxPtr ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  const bool ok = k && ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, k.get()) == 1 &&
                  EVP_DigestVerify(ctx.get(), sig, sizeof sig, reinterpret_cast<const uint8_t*>(manifest.data()), manifest.size()) == 1;
  if (!ok) {
    return Status::PermissionDenied(where + ": the signature of manifest.json is not custodian '" + custodian +
                                    "'s registered key (" + public_key_hex.substr(0, 16) +
                                    "…): the manifest was altered, or signed with another key");
  }
  return Status::OK();
}

Status EnsureCustodianKeySchema(Catalog& cat) {
  return cat.Exec("CREATE TABLE IF NOT EXISTS custodian_keys(custodian TEXT PRIMARY KEY, public_key TEXT NOT NULL, "
                  "added_by TEXT NOT NULL, added_at TEXT NOT NULL)");
}

Result<std::string> ParsePublicKeyHex(const std::string& hex) {
  std::array<uint8_t, 32> pub{};
  if (!HexBytes(hex, pub.data(), pub.size())) {
    return Status::InvalidArgument("public key '" + hex + "': expected 64 hex digits (printed by 'ark custodian keygen')");
  }
  return ToHex(pub.data(), pub.size());
}

Status RegisterCustodianKey(Catalog& cat, const std::string& custodian, const std::string& public_key_hex,
                            const std::string& by) {
  if (!ValidName(custodian)) return Status::InvalidArgument("custodian name '" + custodian + "': use letters, digits, '-', '_' or '.'");
  ARK_ASSIGN_OR_RETURN(std::string pub, ParsePublicKeyHex(public_key_hex));
  ARK_RETURN_IF_ERROR(EnsureCustodianKeySchema(cat));
  ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare("INSERT OR REPLACE INTO custodian_keys(custodian, public_key, added_by, added_at) VALUES (?,?,?,?)"));
  q->Bind(1, custodian).Bind(2, pub).Bind(3, by).Bind(4, UtcNow());
  return q->Run();
}

Result<std::optional<std::string>> RegisteredCustodianKey(Catalog& cat, const std::string& custodian) {
  ARK_RETURN_IF_ERROR(EnsureCustodianKeySchema(cat));
  ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare("SELECT public_key FROM custodian_keys WHERE custodian = ?"));
  q->Bind(1, custodian);
  ARK_ASSIGN_OR_RETURN(bool row, q->Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(q->Text(0));
}

}  // namespace ark
