// Character sets of HL7 v2 messages (MSH-18, HL7 table 0211) and their conversion to UTF-8, the
// only encoding used inside Ark (records, live log, JSON, FHIR). docs/hl7-fhir.md "Character sets".
//
//   MSH-18 empty (undeclared): a message whose bytes are valid UTF-8 is read as UTF-8; any other
//     message (the many feeds that send Latin-1 without saying so) is read as 8859/1.
//   "ASCII": as undeclared (bytes above 0x7F are not ASCII; they are read, not rejected).
//   "8859/1" (also "ISO IR100"): Latin-1, byte for byte.
//   "UNICODE UTF-8": UTF-8; a byte that is not part of a valid UTF-8 sequence is read as 8859/1.
//   "8859/2".."8859/9", "8859/15", "GB 18030-2000", "BIG-5", "KS X 1001": through iconv (glibc);
//     bytes iconv cannot decode become U+FFFD.
//   Anything else (UTF-16/32, ISO 2022 code extensions): InvalidArgument "unsupported character set"
//     naming MSH-18 (the listener answers AR).
//
// Thread safety: all functions are reentrant.
#pragma once

#include <string>
#include <string_view>

#include "ark/status.h"

namespace ark::hl7 {

struct Charset {
  enum class Kind { kUtf8, kLatin1, kIconv };
  Kind kind = Kind::kLatin1;
  std::string declared;  // MSH-18 as written ("" when undeclared)
  std::string iconv;     // iconv name for kIconv
};

// The charset declared by `msh18` (first repetition, as written) for a message whose raw bytes
// are `bytes` (used only when undeclared or ASCII, to tell UTF-8 from 8859/1).
// Errors: InvalidArgument "segment 1 (MSH), field 18: unsupported character set 'X' ...".
Result<Charset> CharsetFor(std::string_view msh18, std::string_view bytes);

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool IsValidUtf8(std::string_view s);

// `bytes` in charset `cs` → UTF-8. Never fails (see the table above for bytes that do not decode);
// ASCII bytes are kept as they are, so HL7 separators keep their positions' meaning.
std::string ToUtf8(std::string_view bytes, const Charset& cs);

// UTF-8 `text` → charset `cs` (for the ACK sent back to the sender). Characters the charset cannot
// hold become '?'. Never fails.
std::string FromUtf8(std::string_view text, const Charset& cs);

}  // namespace ark::hl7
