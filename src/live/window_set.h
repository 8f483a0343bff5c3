// WindowSet: a set of 64-bit hashes in one flat array (open addressing, linear probing, deletion
// by backward shift): the retransmit window's membership test. Replaces
// std::unordered_set<uint64_t>, whose per-element allocation made rebuilding a 1M-entry window
// from the live snapshot cost ~0.4 s.
// RetransmitWindow: the last `capacity` distinct hashes remembered, in a WindowSet and in a ring
// buffer that keeps their order (oldest first), so that the order is copied with memcpy.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ark::live {

class WindowSet {
 public:
  // Returns false when `h` was already present.
  bool insert(uint64_t h) {
    if (h == 0) {
      const bool fresh = !has_zero_;
      has_zero_ = true;
      size_ += fresh;
      return fresh;
    }
    if ((size_ + 1) * 2 > slots_.size()) Grow(slots_.size() * 2);
    size_t i = Home(h);
    while (slots_[i] != 0) {
      if (slots_[i] == h) return false;
      i = (i + 1) & mask_;
    }
    slots_[i] = h;
    ++size_;
    return true;
  }
  bool count(uint64_t h) const {
    if (h == 0) return has_zero_;
    if (slots_.empty()) return false;
    for (size_t i = Home(h); slots_[i] != 0; i = (i + 1) & mask_) {
      if (slots_[i] == h) return true;
    }
    return false;
  }
  void erase(uint64_t h) {
    if (h == 0) {
      size_ -= has_zero_;
      has_zero_ = false;
      return;
    }
    if (slots_.empty()) return;
    size_t i = Home(h);
    while (slots_[i] != h) {
      if (slots_[i] == 0) return;
      i = (i + 1) & mask_;
    }
    slots_[i] = 0;
    --size_;
    // Backward shift: move later members of the probe run into the hole when their home allows.
    for (size_t j = (i + 1) & mask_; slots_[j] != 0; j = (j + 1) & mask_) {
      const size_t k = Home(slots_[j]);
      const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      slots_[j] = 0;
      i = j;
    }
  }
  void reserve(size_t n) {
    if (n * 2 > slots_.size()) Grow(n * 2);
  }
  size_t size() const { return size_; }

 private:
  size_t Home(uint64_t h) const { return (h * 0x9E3779B97F4A7C15ull) >> shift_ & mask_; }
  void Grow(size_t want) {
    size_t cap = 16;
    int bits = 4;
    while (cap < want) cap <<= 1, ++bits;
    std::vector<uint64_t> old;
    old.swap(slots_);
    slots_.assign(cap, 0);
    mask_ = cap - 1;
    shift_ = 64 - bits;
    for (uint64_t h : old) {
      if (h == 0) continue;
      size_t i = Home(h);
      while (slots_[i] != 0) i = (i + 1) & mask_;
      slots_[i] = h;
    }
  }

  std::vector<uint64_t> slots_;
  size_t mask_ = 0, size_ = 0;
  int shift_ = 60;
  bool has_zero_ = false;
};

class RetransmitWindow {
 public:
  explicit RetransmitWindow(size_t capacity = 1u << 20) : capacity_(capacity ? capacity : 1) {}

  // Remembers `h` (forgetting the oldest beyond the capacity); false when it was known already.
  bool Remember(uint64_t h) {
    if (!set_.insert(h)) return false;
    if (count_ == capacity_) {
      set_.erase(ring_[head_]);
      ring_[head_] = h;
      head_ = (head_ + 1) % capacity_;
      return true;
    }
    ring_.push_back(h);  // not full yet: head_ is 0 and the ring is the order
    ++count_;
    return true;
  }
  bool count(uint64_t h) const { return set_.count(h); }
  // Forgets `h` for lookups (a write that failed); its place in the order stays until it ages out.
  void Forget(uint64_t h) { set_.erase(h); }
  void reserve(size_t n) {
    set_.reserve(n < capacity_ ? n : capacity_);
    ring_.reserve(n < capacity_ ? n : capacity_);
  }
  size_t size() const { return count_; }
  size_t capacity() const { return capacity_; }

  // The remembered hashes, oldest first, appended to *out.
  void AppendOrder(std::vector<uint64_t>* out) const {
    const auto at = [&](size_t i) { return ring_.begin() + static_cast<std::ptrdiff_t>(i); };
    out->insert(out->end(), at(head_), ring_.end());
    out->insert(out->end(), ring_.begin(), at(head_));
  }

 private:
  size_t capacity_;
  WindowSet set_;
  std::vector<uint64_t> ring_;
  size_t head_ = 0, count_ = 0;  // oldest at ring_[head_]
};

}  // namespace ark::live
