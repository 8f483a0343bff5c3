// A map from 32-byte pseudonym digests to uint32_t values, flat: see the class comment.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "privacy/key.h"

namespace ark {

// Person keys (or any uint32_t) by NHS-number pseudonym, for linkage: the digests and their keys in
// one array, found through an open-addressing table of 4-byte slots (entry index + 1; 0 =
// empty) kept at most half full: about 44 bytes a person (more while the array grows), where a
// hash map of strings took a node and a heap string each. Pseudonyms are keyed digests, so their
// first 8 bytes are already uniformly spread.
class PseudonymKeys {
 public:
  // The key of `d`, or `fresh` as its key when it has none yet: {key, whether inserted}.
  std::pair<uint32_t, bool> FindOrInsert(const Digest& d, uint32_t fresh) {
    if ((entries_.size() + 1) * 2 > slots_.size()) Grow();
    const size_t mask = slots_.size() - 1;
    for (size_t i = Hash(d) & mask;; i = (i + 1) & mask) {
      const uint32_t slot = slots_[i];
      if (slot == 0) {
        entries_.push_back({d, fresh});
        slots_[i] = static_cast<uint32_t>(entries_.size());
        return {fresh, true};
      }
      if (entries_[slot - 1].digest == d) return {entries_[slot - 1].key, false};
    }
  }
  // The key of `d`, or nullptr when it has none. REQUIRES: DropIndex not called.
  const uint32_t* Find(const Digest& d) const {
    if (slots_.empty()) return nullptr;
    const size_t mask = slots_.size() - 1;
    for (size_t i = Hash(d) & mask;; i = (i + 1) & mask) {
      const uint32_t slot = slots_[i];
      if (slot == 0) return nullptr;
      if (entries_[slot - 1].digest == d) return &entries_[slot - 1].key;
    }
  }
  // Frees the index (about 8 to 16 bytes an entry): only size() and DigestAt may be called after.
  void DropIndex() {
    std::vector<uint32_t>().swap(slots_);
    entries_.shrink_to_fit();
  }
  size_t size() const { return entries_.size(); }
  // The digest inserted `i`-th (0-based). REQUIRES: i < size().
  const Digest& DigestAt(size_t i) const { return entries_[i].digest; }

 private:
  struct Entry {
    Digest digest;
    uint32_t key;
  };
  static size_t Hash(const Digest& d) {
    uint64_t h;
    std::memcpy(&h, d.data(), sizeof h);
    return static_cast<size_t>(h * 0x9E3779B97F4A7C15ull >> 16);
  }
  void Grow() {
    slots_.assign(std::max<size_t>(1024, slots_.size() * 2), 0);
    const size_t mask = slots_.size() - 1;
    for (size_t e = 0; e < entries_.size(); ++e) {
      size_t i = Hash(entries_[e].digest) & mask;
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = static_cast<uint32_t>(e + 1);
    }
  }

  std::vector<Entry> entries_;
  std::vector<uint32_t> slots_;
};

}  // namespace ark
