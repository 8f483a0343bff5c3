#include "governance/checkpoint.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <charconv>
#include <cstring>
#include <memory>

#include "core/fs.h"
#include "governance/encoding.h"
#include "privacy/key.h"

namespace ark::gov {
namespace {

const std::string kDash = "\xE2\x80\x94";  // U+2014 EM DASH

std::array<uint8_t, 4> KeyHint(const std::string& name, const std::array<uint8_t, 32>& pub) {
  std::string m = name + "\n";
  m.push_back('\x01');
  m.append(reinterpret_cast<const char*>(pub.data()), pub.size());
  merkle::Hash h = merkle::Sha256(m);
  return {h[0], h[1], h[2], h[3]};
}

bool ValidName(const std::string& n) {
  if (n.empty()) return false;
  for (unsigned char c : n) {
    if (c <= ' ' || c == '+') return false;
  }
  return true;
}

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

}  // namespace

std::string Checkpoint::Body() const {
  return origin + "\n" + std::to_string(size) + "\n" + Base64Encode(merkle::View(root)) + "\n";
}

Result<Checkpoint> Checkpoint::ParseBody(const std::string& body) {
  Checkpoint c;
  size_t a = body.find('\n');
  if (a == std::string::npos || a == 0) return Status::InvalidArgument("checkpoint: no origin line");
  c.origin = body.substr(0, a);
  size_t b = body.find('\n', a + 1);
  if (b == std::string::npos) return Status::InvalidArgument("checkpoint: no size line");
  std::string size = body.substr(a + 1, b - a - 1);
  if (size.empty() || size.size() > 20 || size.find_first_not_of("0123456789") != std::string::npos ||
      (size.size() > 1 && size[0] == '0')) {
    return Status::InvalidArgument("checkpoint: bad tree size '" + size + "'");
  }
  if (std::from_chars(size.data(), size.data() + size.size(), c.size).ec != std::errc()) {
    return Status::InvalidArgument("checkpoint: tree size '" + size + "' is out of range");
  }
  size_t e = body.find('\n', b + 1);
  if (e == std::string::npos) return Status::InvalidArgument("checkpoint: no root line");
  auto root = Base64Decode(body.substr(b + 1, e - b - 1));
  if (!root || root->size() != 32) return Status::InvalidArgument("checkpoint: root is not 32 bytes of base64");
  std::memcpy(c.root.data(), root->data(), 32);
  return c;
}

Result<NoteSigner> NoteSigner::Generate(const std::string& name) {
  if (!ValidName(name)) return Status::InvalidArgument("bad key name '" + name + "'");
  NoteSigner s;
  s.name_ = name;
  if (RAND_bytes(s.seed_.data(), 32) != 1) return Status::Internal("no randomness for the ledger key");
  PkeyPtr k(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, s.seed_.data(), 32), EVP_PKEY_free);
  size_t n = 32;
  if (!k || EVP_PKEY_get_raw_public_key(k.get(), s.pub_.data(), &n) != 1) return Status::Internal("Ed25519 key generation failed");
  return s;
}

Result<NoteSigner> NoteSigner::Load(const std::string& path) {
  ARK_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  const std::string magic = "ark-ledger-key v1\n";
  if (text.rfind(magic, 0) != 0) return Status::Corruption(path + ": not a ledger key file");
  size_t a = magic.size(), b = text.find('\n', a);
  if (b == std::string::npos) return Status::Corruption(path + ": truncated");
  NoteSigner s;
  s.name_ = text.substr(a, b - a);
  Digest seed;
  if (!FromHex(std::string_view(text).substr(b + 1, 64), &seed)) return Status::Corruption(path + ": bad key digits");
  std::memcpy(s.seed_.data(), seed.data(), 32);
  PkeyPtr k(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, s.seed_.data(), 32), EVP_PKEY_free);
  size_t n = 32;
  if (!k || EVP_PKEY_get_raw_public_key(k.get(), s.pub_.data(), &n) != 1) return Status::Internal("Ed25519 key load failed");
  return s;
}

Status NoteSigner::Save(const std::string& path) const {
  if (PathExists(path)) return Status::FailedPrecondition(path + " exists: refusing to overwrite a ledger key");
  std::string text = "ark-ledger-key v1\n" + name_ + "\n" + ToHex(seed_.data(), 32) + "\n";
  ARK_RETURN_IF_ERROR(WriteFileAtomic(path, text));
  if (::chmod(path.c_str(), 0600) != 0) return Status::IOError("chmod " + path);
  return Status::OK();
}

std::string NoteSigner::VerifierKey() const {
  auto hint = KeyHint(name_, pub_);
  std::string key(1, '\x01');
  key.append(reinterpret_cast<const char*>(pub_.data()), 32);
  return name_ + "+" + ToHex(hint.data(), 4) + "+" + Base64Encode(key);
}

Result<std::string> NoteSigner::SignNote(const std::string& body) const {
  if (body.empty() || body.back() != '\n') return Status::InvalidArgument("a note body must end in a newline");
  PkeyPtr k(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed_.data(), 32), EVP_PKEY_free);
  MdCtxPtr ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  uint8_t sig[64];
  size_t n = sizeof(sig);
  if (!k || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, k.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig, &n, reinterpret_cast<const uint8_t*>(body.data()), body.size()) != 1 || n != 64) {
    return Status::Internal("Ed25519 signing failed");
  }
  auto hint = KeyHint(name_, pub_);
  std::string blob(reinterpret_cast<const char*>(hint.data()), 4);
  blob.append(reinterpret_cast<const char*>(sig), 64);
  return body + "\n" + kDash + " " + name_ + " " + Base64Encode(blob) + "\n";
}

Result<NoteVerifier> NoteVerifier::Parse(const std::string& vkey_in) {
  std::string vkey = vkey_in;
  while (!vkey.empty() && (vkey.back() == '\n' || vkey.back() == '\r' || vkey.back() == ' ')) vkey.pop_back();
  size_t a = vkey.find('+'), b = a == std::string::npos ? a : vkey.find('+', a + 1);
  if (b == std::string::npos) return Status::InvalidArgument("verifier key: expected name+hint+key");
  NoteVerifier v;
  v.name_ = vkey.substr(0, a);
  auto key = Base64Decode(vkey.substr(b + 1));
  if (!ValidName(v.name_) || !key || key->size() != 33 || (*key)[0] != '\x01') {
    return Status::InvalidArgument("verifier key: not an Ed25519 signed-note key");
  }
  std::memcpy(v.pub_.data(), key->data() + 1, 32);
  v.hint_ = KeyHint(v.name_, v.pub_);
  if (vkey.substr(a + 1, b - a - 1) != ToHex(v.hint_.data(), 4)) return Status::InvalidArgument("verifier key: hint does not match the key");
  return v;
}

Result<std::string> NoteVerifier::Open(const std::string& note) const {
  size_t sep = note.find("\n\n");
  if (sep == std::string::npos) return Status::InvalidArgument("signed note: no blank line before the signatures");
  std::string body = note.substr(0, sep + 1);
  std::string sigs = note.substr(sep + 2);
  if (sigs.empty() || sigs.back() != '\n') return Status::InvalidArgument("signed note: signature block must end in a newline");
  PkeyPtr k(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, pub_.data(), 32), EVP_PKEY_free);
  if (!k) return Status::Internal("Ed25519 public key");
  size_t pos = 0;
  bool seen_ours = false;
  while (pos < sigs.size()) {
    size_t e = sigs.find('\n', pos);
    std::string line = sigs.substr(pos, e - pos);
    pos = e + 1;
    const std::string prefix = kDash + " ";
    if (line.rfind(prefix, 0) != 0) return Status::InvalidArgument("signed note: malformed signature line");
    std::string rest = line.substr(prefix.size());
    size_t sp = rest.rfind(' ');
    if (sp == std::string::npos) return Status::InvalidArgument("signed note: malformed signature line");
    if (rest.substr(0, sp) != name_) continue;
    auto blob = Base64Decode(rest.substr(sp + 1));
    if (!blob || blob->size() != 68 || std::memcmp(blob->data(), hint_.data(), 4) != 0) continue;
    seen_ours = true;
    MdCtxPtr ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, k.get()) == 1 &&
        EVP_DigestVerify(ctx.get(), reinterpret_cast<const uint8_t*>(blob->data() + 4), 64,
                         reinterpret_cast<const uint8_t*>(body.data()), body.size()) == 1) {
      return body;
    }
  }
  return Status::PermissionDenied(seen_ours ? "checkpoint signature does not verify (forged or altered checkpoint)"
                                            : "checkpoint carries no signature by key " + name_);
}

}  // namespace ark::gov
