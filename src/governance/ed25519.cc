#include "governance/ed25519.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <memory>

#include "core/fs.h"
#include "governance/encoding.h"
#include "governance/merkle.h"
#include "privacy/key.h"

namespace ark::gov::ed25519 {
namespace {

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

PkeyPtr PrivateKey(const Seed& seed) {
  return PkeyPtr(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()), EVP_PKEY_free);
}

}  // namespace

Result<Seed> NewSeed() {
  Seed s;
  if (RAND_bytes(s.data(), static_cast<int>(s.size())) != 1) return Status::Internal("no randomness for an Ed25519 key");
  return s;
}

Result<PublicKey> PublicOf(const Seed& seed) {
  PkeyPtr k = PrivateKey(seed);
  PublicKey pub;
  size_t n = pub.size();
  if (!k || EVP_PKEY_get_raw_public_key(k.get(), pub.data(), &n) != 1 || n != pub.size()) {
    return Status::Internal("Ed25519 public key derivation failed");
  }
  return pub;
}

Result<Signature> Sign(const Seed& seed, std::string_view message) {
  PkeyPtr k = PrivateKey(seed);
  MdCtxPtr ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  Signature sig;
  size_t n = sig.size();
  if (!k || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, k.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &n, reinterpret_cast<const uint8_t*>(message.data()), message.size()) != 1 ||
      n != sig.size()) {
    return Status::Internal("Ed25519 signing failed");
  }
  return sig;
}

bool Verify(const PublicKey& pub, std::string_view message, std::string_view signature) {
  if (signature.size() != 64) return false;
  PkeyPtr k(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, pub.data(), pub.size()), EVP_PKEY_free);
  MdCtxPtr ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  return k && ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, k.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const uint8_t*>(signature.data()), signature.size(),
                          reinterpret_cast<const uint8_t*>(message.data()), message.size()) == 1;
}

std::array<uint8_t, 4> KeyId(const std::string& name, uint8_t type, const PublicKey& pub) {
  std::string m = name + "\n";
  m.push_back(static_cast<char>(type));
  m.append(reinterpret_cast<const char*>(pub.data()), pub.size());
  merkle::Hash h = merkle::Sha256(m);
  return {h[0], h[1], h[2], h[3]};
}

std::string VerifierKey(const std::string& name, uint8_t type, const PublicKey& pub) {
  auto id = KeyId(name, type, pub);
  std::string key(1, static_cast<char>(type));
  key.append(reinterpret_cast<const char*>(pub.data()), pub.size());
  return name + "+" + ToHex(id.data(), id.size()) + "+" + Base64Encode(key);
}

bool ValidKeyName(const std::string& n) {
  if (n.empty()) return false;
  for (unsigned char c : n) {
    if (c <= ' ' || c == '+' || c == 0x7f) return false;
  }
  return true;
}

Result<ParsedVkey> ParseVerifierKey(const std::string& vkey_in, uint8_t type) {
  std::string vkey = vkey_in;
  while (!vkey.empty() && (vkey.back() == '\n' || vkey.back() == '\r' || vkey.back() == ' ')) vkey.pop_back();
  size_t a = vkey.find('+'), b = a == std::string::npos ? a : vkey.find('+', a + 1);
  if (b == std::string::npos) return Status::InvalidArgument("verifier key: expected name+hint+key");
  ParsedVkey v;
  v.name = vkey.substr(0, a);
  auto key = Base64Decode(vkey.substr(b + 1));
  if (!ValidKeyName(v.name) || !key || key->size() != 33 || static_cast<uint8_t>((*key)[0]) != type) {
    return Status::InvalidArgument(type == 0x04 ? "verifier key: not an Ed25519 cosignature/v1 (type 0x04) witness key"
                                                : "verifier key: not an Ed25519 signed-note key");
  }
  std::memcpy(v.pub.data(), key->data() + 1, 32);
  v.id = KeyId(v.name, type, v.pub);
  if (vkey.substr(a + 1, b - a - 1) != ToHex(v.id.data(), 4)) return Status::InvalidArgument("verifier key: hint does not match the key");
  return v;
}

Result<NamedKey> LoadKeyFile(const std::string& path, const std::string& magic) {
  ARK_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  const std::string head = magic + "\n";
  if (text.rfind(head, 0) != 0) return Status::Corruption(path + ": not a key file of this kind (expected '" + magic + "')");
  size_t a = head.size(), b = text.find('\n', a);
  if (b == std::string::npos) return Status::Corruption(path + ": truncated (no key name line)");
  NamedKey k;
  k.name = text.substr(a, b - a);
  Digest seed;
  if (!ValidKeyName(k.name)) return Status::Corruption(path + ": line 2: bad key name");
  if (!FromHex(std::string_view(text).substr(b + 1, 64), &seed)) return Status::Corruption(path + ": line 3: bad key digits");
  std::memcpy(k.seed.data(), seed.data(), 32);
  ARK_ASSIGN_OR_RETURN(k.pub, PublicOf(k.seed));
  return k;
}

Result<NamedKey> NewNamedKey(const std::string& name) {
  if (!ValidKeyName(name)) return Status::InvalidArgument("bad key name '" + name + "' (no spaces or '+')");
  NamedKey k;
  k.name = name;
  ARK_ASSIGN_OR_RETURN(k.seed, NewSeed());
  ARK_ASSIGN_OR_RETURN(k.pub, PublicOf(k.seed));
  return k;
}

Status SaveKeyFile(const std::string& path, const std::string& magic, const NamedKey& key) {
  if (PathExists(path)) return Status::FailedPrecondition(path + " exists: refusing to overwrite a signing key");
  std::string parent = std::filesystem::path(path).parent_path().string();
  if (!parent.empty()) ARK_RETURN_IF_ERROR(MakeDirs(parent));
  std::string text = magic + "\n" + key.name + "\n" + ToHex(key.seed.data(), key.seed.size()) + "\n";
  ARK_RETURN_IF_ERROR(WriteFileAtomic(path, text));
  if (::chmod(path.c_str(), 0600) != 0) return Status::IOError("chmod " + path);
  return Status::OK();
}

}  // namespace ark::gov::ed25519
