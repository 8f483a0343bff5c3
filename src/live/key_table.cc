#include "live/key_table.h"

#include <xxhash.h>

#include <array>

namespace ark::live {
namespace {

// Lowercase hex digit -> value, anything else -> 0xff (upper case too: such keys are kept as
// text, so that they come back unchanged). A table: this runs for every pseudonym replayed.
constexpr auto kNibble = [] {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = 0xff;
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<uint8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<uint8_t>(c - 'a' + 10);
  return t;
}();

}  // namespace

bool KeyTable::ToRaw(std::string_view hex, char* raw) {
  if (hex.size() != 2 * kRawBytes) return false;
  uint8_t bad = 0;
  for (size_t i = 0; i < kRawBytes; ++i) {
    const uint8_t hi = kNibble[static_cast<uint8_t>(hex[2 * i])];
    const uint8_t lo = kNibble[static_cast<uint8_t>(hex[2 * i + 1])];
    bad |= (hi | lo) & 0xf0;
    raw[i] = static_cast<char>(hi << 4 | (lo & 15));
  }
  return bad == 0;
}

size_t KeyTable::Home(const char* raw) const { return XXH3_64bits(raw, kRawBytes) & mask_; }

PersonKey KeyTable::FindRaw(const char* raw) const {
  if (size_ == 0) return kNoPerson;
  for (size_t i = Home(raw);; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.value == kNoPerson) return kNoPerson;
    if (std::memcmp(s.key, raw, kRawBytes) == 0) return s.value;
  }
}

bool KeyTable::SetRaw(const char* raw, PersonKey v, bool overwrite) {
  if (v == kNoPerson) return false;
  // Load factor at most 1/2: short probe runs, and the table stays a single allocation.
  if ((size_ + 1) * 2 > slots_.size()) Grow((size_ + 1) * 2);
  for (size_t i = Home(raw);; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.value == kNoPerson) {
      std::memcpy(s.key, raw, kRawBytes);
      s.value = v;
      ++size_;
      return true;
    }
    if (std::memcmp(s.key, raw, kRawBytes) == 0) {
      if (overwrite) s.value = v;
      return false;
    }
  }
}

PersonKey KeyTable::Find(std::string_view pseudonym) const {
  char raw[kRawBytes];
  if (ToRaw(pseudonym, raw)) return FindRaw(raw);
  if (other_.empty()) return kNoPerson;
  const auto it = other_.find(std::string(pseudonym));
  return it == other_.end() ? kNoPerson : it->second;
}

bool KeyTable::Put(std::string_view pseudonym, PersonKey v, bool overwrite) {
  if (v == kNoPerson) return false;
  char raw[kRawBytes];
  if (ToRaw(pseudonym, raw)) return SetRaw(raw, v, overwrite);
  const auto [it, fresh] = other_.try_emplace(std::string(pseudonym), v);
  if (!fresh && overwrite) it->second = v;
  return fresh;
}

void KeyTable::reserve(size_t n) {
  if (n * 2 > slots_.size()) Grow(n * 2);
}

void KeyTable::clear() {
  slots_.clear();
  mask_ = size_ = 0;
  other_.clear();
}

void KeyTable::Grow(size_t min_slots) {
  size_t cap = 16;
  while (cap < min_slots) cap <<= 1;
  std::vector<Slot> old;
  old.swap(slots_);
  Slot empty;
  std::memset(empty.key, 0, kRawBytes);
  empty.value = kNoPerson;
  slots_.assign(cap, empty);
  mask_ = cap - 1;
  for (const Slot& s : old) {
    if (s.value == kNoPerson) continue;
    size_t i = Home(s.key);
    while (slots_[i].value != kNoPerson) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

}  // namespace ark::live
