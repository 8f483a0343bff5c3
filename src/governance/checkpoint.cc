#include "governance/checkpoint.h"

#include <charconv>
#include <cstring>

#include "governance/ed25519.h"
#include "governance/encoding.h"

namespace ark::gov {
namespace {

const std::string kDash = "\xE2\x80\x94";  // U+2014 EM DASH
const std::string kKeyMagic = "ark-ledger-key v1";
constexpr uint8_t kNoteKeyType = 0x01;  // signed-note Ed25519

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

Result<SplitNoteResult> SplitNote(const std::string& note) {
  size_t sep = note.find("\n\n");
  if (sep == std::string::npos) return Status::InvalidArgument("signed note: no blank line before the signatures");
  SplitNoteResult r;
  r.body = note.substr(0, sep + 1);
  std::string sigs = note.substr(sep + 2);
  if (sigs.empty() || sigs.back() != '\n') return Status::InvalidArgument("signed note: signature block must end in a newline");
  for (size_t pos = 0; pos < sigs.size();) {
    size_t e = sigs.find('\n', pos);
    r.signatures.push_back(sigs.substr(pos, e - pos));
    pos = e + 1;
  }
  return r;
}

Result<NoteSignatureLine> ParseSignatureLine(const std::string& line) {
  const std::string prefix = kDash + " ";
  size_t sp = line.rfind(' ');
  if (line.rfind(prefix, 0) != 0 || sp == std::string::npos || sp < prefix.size()) {
    return Status::InvalidArgument("signed note: malformed signature line");
  }
  NoteSignatureLine s;
  s.name = line.substr(prefix.size(), sp - prefix.size());
  auto blob = Base64Decode(line.substr(sp + 1));
  if (blob) s.blob = std::move(*blob);  // else empty: matches no key (another party's line is ignored)
  return s;
}

std::string FormatSignatureLine(const std::string& name, const std::string& blob) {
  return kDash + " " + name + " " + Base64Encode(blob) + "\n";
}

Result<NoteSigner> NoteSigner::Generate(const std::string& name) {
  NoteSigner s;
  ARK_ASSIGN_OR_RETURN(s.key_, ed25519::NewNamedKey(name));
  return s;
}

Result<NoteSigner> NoteSigner::Load(const std::string& path) {
  NoteSigner s;
  ARK_ASSIGN_OR_RETURN(s.key_, ed25519::LoadKeyFile(path, kKeyMagic));
  return s;
}

Status NoteSigner::Save(const std::string& path) const { return ed25519::SaveKeyFile(path, kKeyMagic, key_); }

std::string NoteSigner::VerifierKey() const { return ed25519::VerifierKey(key_.name, kNoteKeyType, key_.pub); }

Result<std::string> NoteSigner::SignNote(const std::string& body) const {
  if (body.empty() || body.back() != '\n') return Status::InvalidArgument("a note body must end in a newline");
  ARK_ASSIGN_OR_RETURN(ed25519::Signature sig, ed25519::Sign(key_.seed, body));
  auto id = ed25519::KeyId(key_.name, kNoteKeyType, key_.pub);
  std::string blob(reinterpret_cast<const char*>(id.data()), id.size());
  blob.append(reinterpret_cast<const char*>(sig.data()), sig.size());
  return body + "\n" + FormatSignatureLine(key_.name, blob);
}

Result<NoteVerifier> NoteVerifier::Parse(const std::string& vkey) {
  ARK_ASSIGN_OR_RETURN(ed25519::ParsedVkey k, ed25519::ParseVerifierKey(vkey, kNoteKeyType));
  NoteVerifier v;
  v.name_ = k.name;
  v.pub_ = k.pub;
  v.hint_ = k.id;
  return v;
}

std::string NoteVerifier::VerifierKey() const { return ed25519::VerifierKey(name_, kNoteKeyType, pub_); }

Result<std::string> NoteVerifier::Open(const std::string& note) const {
  ARK_ASSIGN_OR_RETURN(SplitNoteResult n, SplitNote(note));
  bool seen_ours = false;
  for (const std::string& line : n.signatures) {
    ARK_ASSIGN_OR_RETURN(NoteSignatureLine s, ParseSignatureLine(line));
    if (s.name != name_ || s.blob.size() != 68 || std::memcmp(s.blob.data(), hint_.data(), 4) != 0) continue;
    seen_ours = true;
    if (ed25519::Verify(pub_, n.body, std::string_view(s.blob).substr(4))) return n.body;
  }
  return Status::PermissionDenied(seen_ours ? "checkpoint signature does not verify (forged or altered checkpoint)"
                                            : "checkpoint carries no signature by key " + name_);
}

}  // namespace ark::gov
