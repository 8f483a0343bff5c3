#include "governance/cosignature.h"

#include <cstring>

#include "governance/checkpoint.h"

namespace ark::gov {
namespace {

const std::string kWitnessKeyMagic = "ark-witness-key v1";
constexpr uint8_t kCosignatureType = 0x04;  // tlog-cosignature/v1, Ed25519

std::string SignedMessage(const std::string& body, uint64_t time) {
  return "cosignature/v1\ntime " + std::to_string(time) + "\n" + body;
}

}  // namespace

Result<Cosigner> Cosigner::Generate(const std::string& name) {
  Cosigner c;
  ARK_ASSIGN_OR_RETURN(c.key_, ed25519::NewNamedKey(name));
  return c;
}

Result<Cosigner> Cosigner::Load(const std::string& path) {
  Cosigner c;
  ARK_ASSIGN_OR_RETURN(c.key_, ed25519::LoadKeyFile(path, kWitnessKeyMagic));
  return c;
}

Status Cosigner::Save(const std::string& path) const { return ed25519::SaveKeyFile(path, kWitnessKeyMagic, key_); }

std::string Cosigner::VerifierKey() const { return ed25519::VerifierKey(key_.name, kCosignatureType, key_.pub); }

Result<std::string> Cosigner::Cosign(const std::string& body, uint64_t time) const {
  if (body.empty() || body.back() != '\n') return Status::InvalidArgument("a checkpoint body must end in a newline");
  if (time > (uint64_t{1} << 63) - 1) return Status::InvalidArgument("cosignature time beyond 2^63-1");
  ARK_ASSIGN_OR_RETURN(ed25519::Signature sig, ed25519::Sign(key_.seed, SignedMessage(body, time)));
  auto id = ed25519::KeyId(key_.name, kCosignatureType, key_.pub);
  std::string blob(reinterpret_cast<const char*>(id.data()), id.size());
  for (int i = 7; i >= 0; --i) blob.push_back(static_cast<char>((time >> (8 * i)) & 0xff));
  blob.append(reinterpret_cast<const char*>(sig.data()), sig.size());
  return FormatSignatureLine(key_.name, blob);
}

Result<CosignatureVerifier> CosignatureVerifier::Parse(const std::string& vkey) {
  ARK_ASSIGN_OR_RETURN(ed25519::ParsedVkey k, ed25519::ParseVerifierKey(vkey, kCosignatureType));
  CosignatureVerifier v;
  v.name_ = k.name;
  v.pub_ = k.pub;
  v.id_ = k.id;
  return v;
}

Result<uint64_t> CosignatureVerifier::Verify(const std::string& note) const {
  ARK_ASSIGN_OR_RETURN(SplitNoteResult n, SplitNote(note));
  bool seen = false;
  for (const std::string& line : n.signatures) {
    ARK_ASSIGN_OR_RETURN(NoteSignatureLine s, ParseSignatureLine(line));
    if (s.name != name_ || s.blob.size() != 4 + 8 + 64 || std::memcmp(s.blob.data(), id_.data(), 4) != 0) continue;
    seen = true;
    uint64_t time = 0;
    for (int i = 0; i < 8; ++i) time = (time << 8) | static_cast<uint8_t>(s.blob[4 + i]);
    if (time > (uint64_t{1} << 63) - 1) continue;
    if (ed25519::Verify(pub_, SignedMessage(n.body, time), std::string_view(s.blob).substr(12))) return time;
  }
  if (seen) return Status::PermissionDenied("the cosignature of witness " + name_ + " does not verify (forged or altered)");
  return Status::NotFound("no cosignature by witness " + name_);
}

}  // namespace ark::gov
