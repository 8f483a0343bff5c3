// NHS number validation (Modulus 11, see shared SPECS.md).
//
// Ten digits. Multiply digits 1-9 by 10..2 and add: S. c = 11 - (S mod 11); c = 11 means check
// digit 0; c = 10 means the number is invalid (never issued). Valid iff c equals digit 10.
// Spaces and dashes ("943 476 5919", "943-476-5919") are accepted and removed.
#pragma once

#include <string>
#include <string_view>

namespace ark {

enum class NhsNumberStatus { kValid, kMissing, kInvalid };

// Classifies `raw`; on kValid writes the 10 digits to *normalised (if not null).
NhsNumberStatus CheckNhsNumber(std::string_view raw, std::string* normalised = nullptr);

// The check digit for 9 leading digits, or -1 when no valid number has them (c = 10).
int NhsCheckDigit(std::string_view nine_digits);

}  // namespace ark
