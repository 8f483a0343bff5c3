// Signed checkpoints (governance/checkpoint.h): the note body parser, verifier keys, signed-note
// verification, and signing-key files. Multi-file input (fuzz_util.h): the default file is
// the note; "=== vkey" a verifier key (else the input's first line is tried as one too);
// "=== key" a signing-key file.
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "governance/checkpoint.h"

using namespace ark;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = fuzz::AsText(data, size);
  std::string note(text), vkey(text.substr(0, text.find('\n')));
  std::string key;
  bool have_key = false;
  for (const fuzz::FilePart& p : fuzz::SplitFiles(text, "note")) {
    if (p.name == "note") note = std::string(p.body);
    if (p.name == "vkey") vkey = std::string(p.body);
    if (p.name == "key") key = std::string(p.body), have_key = true;
  }
  auto cp = gov::Checkpoint::ParseBody(note);
  if (cp.ok() && gov::Checkpoint::ParseBody(cp->Body()).value().Body() != cp->Body())
    __builtin_trap();
  auto v = gov::NoteVerifier::Parse(vkey);
  if (v.ok()) {
    auto body = v->Open(note);
    if (body.ok()) (void)gov::Checkpoint::ParseBody(*body);
  }
  if (have_key) {
    const std::string path = fuzz::ScratchDir() + "/ledger.key";
    fuzz::WriteBytes(path, key);
    auto s = gov::NoteSigner::Load(path);
    if (s.ok() && cp.ok()) {
      // What this key signs, its verifier key opens, giving back the body.
      auto signed_note = s->SignNote(cp->Body());
      auto v2 = gov::NoteVerifier::Parse(s->VerifierKey());
      if (signed_note.ok() && v2.ok()) {
        auto body = v2->Open(*signed_note);
        if (!body.ok() || *body != cp->Body()) __builtin_trap();
      }
    }
  }
  return 0;
}
