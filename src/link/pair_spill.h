// Candidate pairs with their comparison levels, in the order they were made, for a linkage that
// makes them in chunks (LinkOptions::chunk_pairs): in memory while the pairs fit one chunk, else
// in an unnamed temporary file (O_TMPFILE, mode 0600) in a given folder, which the file system
// removes when the spill is destroyed or the process dies: nothing half-written is ever left.
// (Where the file system has no O_TMPFILE: a mkstemp file, unlinked as soon as it is open.)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ark/status.h"

namespace ark {

// An unnamed temporary file (mode 0600, O_RDWR) in `dir`: O_TMPFILE, or, where the file system
// has no O_TMPFILE, a mkstemp file unlinked at once. -1 with errno set when neither works.
int OpenUnnamedFile(const std::string& dir);

class PairSpill {
 public:
  // `levels_per_pair`: the comparison levels each pair carries (the fields compared).
  explicit PairSpill(size_t levels_per_pair) : nf_(levels_per_pair), width_(8 + levels_per_pair) {}
  ~PairSpill();
  PairSpill(const PairSpill&) = delete;
  PairSpill& operator=(const PairSpill&) = delete;

  // From now on the pairs go to a file in `dir` (a folder that exists). REQUIRES: size() == 0.
  // IOError when the file cannot be made.
  Status SpillTo(const std::string& dir);
  bool spilled() const { return fd_ >= 0; }

  // Appends *pairs and their levels (levels_per_pair bytes each, pair-major) and empties both
  // (in memory, the first append takes the vectors over instead of copying them).
  Status Append(std::vector<uint64_t>* pairs, std::vector<uint8_t>* levels);
  // Pairs [first, first + count) and their levels into *pairs / *levels (resized to fit).
  // Thread-safe against other Reads. REQUIRES: first + count <= size().
  Status Read(size_t first, size_t count, std::vector<uint64_t>* pairs, std::vector<uint8_t>* levels) const;
  size_t size() const { return n_; }
  // Frees the pairs (closing the file). size() stays; Read is then an error.
  void Release();
  // Bytes the spill file holds (0 in memory).
  uint64_t file_bytes() const { return fd_ >= 0 ? uint64_t{n_} * width_ : 0; }

 private:
  size_t nf_, width_, n_ = 0;
  int fd_ = -1;
  std::string path_;  // the folder, for error messages
  std::vector<uint64_t> pairs_;  // in memory (not spilled)
  std::vector<uint8_t> levels_;
};

// The weak kept pairs of a linkage that does not keep them in LinkOutcome::pairs
// (LinkOptions::keep_weak_pairs false), for the clustering's coherence sums: per record, its
// partners in those pairs with the pairs' match probabilities, by increasing partner (the order
// the pairs have), in an unnamed 0600 file like PairSpill's. Memory: 8 bytes per record.
class WeakPairFile {
 public:
  struct End {
    uint32_t other;
    float probability;
  };
  WeakPairFile() = default;
  ~WeakPairFile();
  WeakPairFile(const WeakPairFile&) = delete;
  WeakPairFile& operator=(const WeakPairFile&) = delete;

  // Builds the file in `dir` for `n` records. `scan(fn)` calls fn(a, b, probability) for every
  // weak pair, a < b, in (a, b) order, and may be called several times (it must give the same
  // pairs each time): once to count each record's ends, then once per range of records whose
  // ends fit `budget_ends` in memory. IOError when the file cannot be made or written.
  template <typename Scan>
  Status Build(const std::string& dir, size_t n, size_t budget_ends, Scan&& scan);
  // Record m's ends into *out (replaced). False on a read error (status() says which).
  bool Of(uint32_t m, std::vector<End>* out) const;
  const Status& status() const { return status_; }
  uint64_t ends() const { return start_.empty() ? 0 : start_.back(); }

 private:
  Status Open(const std::string& dir);
  Status Write(uint64_t first_end, const std::vector<End>& ends);
  int fd_ = -1;
  std::string path_;
  std::vector<uint64_t> start_;  // n + 1: record m's ends are [start_[m], start_[m + 1])
  mutable Status status_;
};

template <typename Scan>
Status WeakPairFile::Build(const std::string& dir, size_t n, size_t budget_ends, Scan&& scan) {
  ARK_RETURN_IF_ERROR(Open(dir));
  start_.assign(n + 1, 0);
  ARK_RETURN_IF_ERROR(scan([&](uint32_t a, uint32_t b, float) { ++start_[a + 1], ++start_[b + 1]; }));
  for (size_t i = 0; i < n; ++i) start_[i + 1] += start_[i];
  budget_ends = budget_ends ? budget_ends : 1;
  std::vector<End> buf;
  std::vector<uint32_t> fill;
  for (size_t lo = 0; lo < n;) {
    size_t hi = lo + 1;  // records [lo, hi): at least one, else as many as fit the budget
    while (hi < n && start_[hi + 1] - start_[lo] <= budget_ends) ++hi;
    if (start_[hi] == start_[lo]) {
      lo = hi;
      continue;
    }
    buf.assign(start_[hi] - start_[lo], End{0, 0});
    fill.assign(hi - lo, 0);
    const uint64_t base = start_[lo];
    auto put = [&](uint32_t m, uint32_t other, float p) {
      if (m < lo || m >= hi) return;
      buf[start_[m] - base + fill[m - lo]++] = End{other, p};
    };
    ARK_RETURN_IF_ERROR(scan([&](uint32_t a, uint32_t b, float p) {
      put(a, b, p);
      put(b, a, p);
    }));
    ARK_RETURN_IF_ERROR(Write(base, buf));
    lo = hi;
  }
  return Status::OK();
}

}  // namespace ark
