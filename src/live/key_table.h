// The live ingestor's person-key map: pseudonym → PersonKey in one flat array of 36-byte slots
// (32 raw bytes of a 64-hex-digit pseudonym + the key; open addressing, linear probing), so that
// it is copied with one memcpy (the snapshot's consistent cut), written as one dense run of
// entries and loaded without one heap node per key. It replaces an
// std::unordered_map<std::string, PersonKey> (two 64-character strings per person).
//
// Pseudonyms are HMAC-SHA256 outputs written as 64 lowercase hex digits (live/pseudo.h); any
// other text (upper case, other lengths — never produced by this release, but accepted) is kept
// in a side map, exactly, so that it comes back unchanged. Values are never kNoPerson (the empty
// slot marker): Set refuses it (returns false, changes nothing).
//
// Not thread-safe (the committer thread owns it; copies are independent).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "live/pseudo.h"

namespace ark::live {

class KeyTable {
 public:
  static constexpr size_t kRawBytes = 32;

  // kNoPerson when `pseudonym` is absent.
  PersonKey Find(std::string_view pseudonym) const;
  // Sets the key of `pseudonym` (overwriting); returns true when it was absent before.
  bool Set(std::string_view pseudonym, PersonKey v) { return Put(pseudonym, v, true); }
  // Sets only when absent; returns true when it was set.
  bool SetIfAbsent(std::string_view pseudonym, PersonKey v) { return Put(pseudonym, v, false); }

  // The same on a raw 32-byte pseudonym (the catalog's blob form).
  PersonKey FindRaw(const char* raw) const;
  bool SetRaw(const char* raw, PersonKey v, bool overwrite = true);

  size_t size() const { return size_ + other_.size(); }
  void reserve(size_t n);
  void clear();

  // Visits every entry: raw ones as (32 raw bytes, key), others as (text, key).
  template <typename RawFn, typename TextFn>
  void ForEach(RawFn raw, TextFn text) const {
    for (const Slot& s : slots_) {
      if (s.value != kNoPerson) raw(s.key, s.value);
    }
    for (const auto& [k, v] : other_) text(k, v);
  }
  size_t raw_size() const { return size_; }

  // 64 lowercase hex digits → 32 bytes; false for anything else.
  static bool ToRaw(std::string_view hex, char* raw);

 private:
  struct Slot {
    char key[kRawBytes];
    PersonKey value;
  };
  static_assert(sizeof(Slot) == 36);

  bool Put(std::string_view pseudonym, PersonKey v, bool overwrite);
  size_t Home(const char* raw) const;
  void Grow(size_t min_slots);

  std::vector<Slot> slots_;
  size_t mask_ = 0, size_ = 0;
  std::unordered_map<std::string, PersonKey> other_;
};

}  // namespace ark::live
