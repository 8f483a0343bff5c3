// NHS numbers for the synthetic region: Modulus 11 checks, allocation of unique valid numbers,
// and the ways custodians get them wrong.
//
// Modulus 11 (docs/synthetic-region.md): multiply digits 1-9 by 10..2 and add them (S);
// c = 11 - (S mod 11); c = 11 means check digit 0; c = 10 means the number is never issued.
// Numbers are allocated from the test range 999 000 0000 - 999 999 9999 (about 909,000 valid
// numbers). A region with more people spills into 998, 997, ... (also never issued to patients);
// NhsAllocator::test_range_capacity() says where the spill starts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "synth/rng.h"

namespace ark::synth {

// Check digit for the first nine digits given as a number 0..999,999,999, or -1 when c = 10.
int NhsCheckDigit(uint64_t first_nine);
// True if `text` is exactly 10 ASCII digits with a correct Modulus 11 check digit.
bool IsValidNhsNumber(std::string_view text);
// 10 digits, zero-padded ("9434765919"); "999 123 4567" when `spaced`.
std::string FormatNhsNumber(uint64_t nhs, bool spaced);
// A corrupted copy as custodians hold it: one digit changed (always fails the check) or one
// digit dropped / added (wrong length). Spaced like FormatNhsNumber when 10 digits and `spaced`.
std::string CorruptNhsNumber(uint64_t nhs, bool spaced, Rng& rng);

// Hands out `count` distinct valid NHS numbers in a seeded random order.
// Thread-safe after construction (read-only).
class NhsAllocator {
 public:
  NhsAllocator(uint64_t count, uint64_t seed);
  // REQUIRES: index < count.
  uint64_t Get(uint64_t index) const { return numbers_[index]; }
  // Number of valid numbers in 999 000 0000 - 999 999 9999.
  static uint64_t test_range_capacity();

 private:
  std::vector<uint64_t> numbers_;
};

}  // namespace ark::synth
