// Signed checkpoints in the C2SP formats (tlog-checkpoint over signed-note), Ed25519 only.
//
//   <origin>\n<tree size>\n<base64 root>\n\n— <key name> <base64(key hint(4) || signature(64))>\n
//
// The signature covers the note body: everything before the blank line, with its final "\n".
// key hint = SHA-256(key name || "\n" || 0x01 || public key)[:4]. The verifier key is published
// as the signed-note "vkey" string  <name>+<hint, 8 hex>+<base64(0x01 || public key)>.
//
// Thread safety: objects are immutable after construction; Sign/Verify may run concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "ark/status.h"
#include "governance/ed25519.h"
#include "governance/merkle.h"

namespace ark::gov {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  merkle::Hash root{};

  std::string Body() const;  // the three lines, each ending in "\n"
  // Parses a note body (origin, size, root lines; extension lines are kept out of the result).
  static Result<Checkpoint> ParseBody(const std::string& body);
};

// A signed note split at its blank line: the body (with its final "\n") and the signature lines
// (each without its "\n"). InvalidArgument when there is no blank line or the signature block
// does not end in a newline.
struct SplitNoteResult {
  std::string body;
  std::vector<std::string> signatures;
};
Result<SplitNoteResult> SplitNote(const std::string& note);

// Parses one signature line "— <name> <base64>" into the name and the decoded bytes (empty when
// they are not base64: such a line matches no key). InvalidArgument when the line is malformed.
struct NoteSignatureLine {
  std::string name;
  std::string blob;
};
Result<NoteSignatureLine> ParseSignatureLine(const std::string& line);
std::string FormatSignatureLine(const std::string& name, const std::string& blob);  // with its "\n"

class NoteSigner {
 public:
  static Result<NoteSigner> Generate(const std::string& name);
  // Key file: "ark-ledger-key v1\n<name>\n<64 hex digits of the Ed25519 seed>\n" (mode 0600).
  static Result<NoteSigner> Load(const std::string& path);
  // Refuses to overwrite; creates the file's missing parent directories (0700).
  Status Save(const std::string& path) const;

  const std::string& name() const { return key_.name; }
  std::string VerifierKey() const;  // the vkey string (safe to publish)
  // Returns the whole signed note: body, blank line, one signature line.
  Result<std::string> SignNote(const std::string& body) const;

 private:
  ed25519::NamedKey key_;
};

class NoteVerifier {
 public:
  static Result<NoteVerifier> Parse(const std::string& vkey);
  const std::string& name() const { return name_; }
  std::string VerifierKey() const;  // the canonical vkey string
  // Checks that `note` carries a valid signature by this key; returns the body.
  // PermissionDenied("... signature ...") when no line verifies; InvalidArgument when malformed.
  Result<std::string> Open(const std::string& note) const;

 private:
  std::string name_;
  std::array<uint8_t, 4> hint_{};
  std::array<uint8_t, 32> pub_{};
};

}  // namespace ark::gov
