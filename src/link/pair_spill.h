// Candidate pairs with their comparison levels, in the order they were made, for a linkage that
// makes them in chunks (LinkOptions::chunk_pairs): in memory while the pairs fit one chunk, else
// in an unnamed temporary file (O_TMPFILE, mode 0600) in a given folder, which the file system
// removes when the spill is destroyed or the process dies: nothing half-written is ever left.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ark/status.h"

namespace ark {

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
  // Bytes the spill file holds (0 in memory).
  uint64_t file_bytes() const { return fd_ >= 0 ? uint64_t{n_} * width_ : 0; }

 private:
  size_t nf_, width_, n_ = 0;
  int fd_ = -1;
  std::string path_;  // the folder, for error messages
  std::vector<uint64_t> pairs_;  // in memory (not spilled)
  std::vector<uint8_t> levels_;
};

}  // namespace ark
