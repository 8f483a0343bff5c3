#include "synth/nhs_number.h"

#include <algorithm>
#include <cstddef>

namespace ark::synth {

int NhsCheckDigit(uint64_t first_nine) {
  int digits[9];
  for (int i = 8; i >= 0; --i) {
    digits[i] = static_cast<int>(first_nine % 10);
    first_nine /= 10;
  }
  int sum = 0;
  for (int i = 0; i < 9; ++i) sum += digits[i] * (10 - i);
  int c = 11 - (sum % 11);
  if (c == 11) return 0;
  if (c == 10) return -1;
  return c;
}

bool IsValidNhsNumber(std::string_view text) {
  if (text.size() != 10) return false;
  uint64_t first = 0;
  for (size_t i = 0; i < 10; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    if (i < 9) first = first * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  int c = NhsCheckDigit(first);
  return c >= 0 && c == text[9] - '0';
}

namespace {
std::string Digits(uint64_t nhs) {
  std::string s(10, '0');
  for (int i = 9; i >= 0; --i) {
    s[static_cast<size_t>(i)] = static_cast<char>('0' + nhs % 10);
    nhs /= 10;
  }
  return s;
}
std::string Space(const std::string& d) { return d.substr(0, 3) + " " + d.substr(3, 3) + " " + d.substr(6); }
}  // namespace

std::string FormatNhsNumber(uint64_t nhs, bool spaced) {
  std::string d = Digits(nhs);
  return spaced ? Space(d) : d;
}

std::string CorruptNhsNumber(uint64_t nhs, bool spaced, Rng& rng) {
  std::string d = Digits(nhs);
  double r = rng.Uniform();
  if (r < 0.7) {
    // One digit changed: with weights 10..2 (and the check digit itself) any single change
    // moves S by a non-multiple of 11, so the result never validates.
    size_t pos = rng.Below(10);
    char old = d[pos];
    char now;
    do now = static_cast<char>('0' + rng.Below(10)); while (now == old);
    d[pos] = now;
    return spaced ? Space(d) : d;
  }
  if (r < 0.85) {
    d.erase(rng.Below(10), 1);  // a digit dropped
    return d;
  }
  d.insert(rng.Below(11), 1, static_cast<char>('0' + rng.Below(10)));  // a digit added
  return d;
}

uint64_t NhsAllocator::test_range_capacity() {
  static const uint64_t capacity = [] {
    uint64_t n = 0;
    for (uint64_t p = 999000000; p <= 999999999; ++p) n += NhsCheckDigit(p) >= 0;
    return n;
  }();
  return capacity;
}

NhsAllocator::NhsAllocator(uint64_t count, uint64_t seed) {
  Rng rng = Rng::ForStream(seed, kNhsStream);
  numbers_.reserve(count);
  // Blocks of one million prefixes: 999xxxxxx first, then 998xxxxxx, ... Each block is shuffled
  // on its own so a region that fits in the test range only uses the test range.
  for (uint64_t block = 999; numbers_.size() < count && block >= 900; --block) {
    std::vector<uint64_t> valid;
    valid.reserve(920000);
    for (uint64_t p = block * 1000000; p < (block + 1) * 1000000; ++p) {
      int c = NhsCheckDigit(p);
      if (c >= 0) valid.push_back(p * 10 + static_cast<uint64_t>(c));
    }
    for (size_t i = valid.size(); i > 1; --i) {
      size_t j = static_cast<size_t>(rng.Next() % i);
      std::swap(valid[i - 1], valid[j]);
    }
    size_t take = std::min<size_t>(valid.size(), count - numbers_.size());
    numbers_.insert(numbers_.end(), valid.begin(), valid.begin() + static_cast<std::ptrdiff_t>(take));
  }
}

}  // namespace ark::synth
