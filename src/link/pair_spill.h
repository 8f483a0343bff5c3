// Candidate pairs with their comparison levels, in the order they were made, for a linkage that
// makes them in chunks (LinkOptions::chunk_pairs): in memory while the pairs fit one chunk, else
// in an unnamed temporary file (O_TMPFILE, mode 0600) in a given folder, which the file system
// removes when the spill is destroyed or the process dies: nothing half-written is ever left.
// (Where the file system has no O_TMPFILE: a mkstemp file, unlinked as soon as it is open.)
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ark/status.h"

namespace ark {

// An unnamed temporary file (mode 0600, O_RDWR) in `dir`: O_TMPFILE, or, where the file system
// has no O_TMPFILE, a mkstemp file unlinked at once. -1 with errno set when neither works.
int OpenUnnamedFile(const std::string& dir);
// OpenUnnamedFile, or IOError "cannot make a temporary file in <dir>: <reason>".
Result<int> MakeUnnamedFile(const std::string& dir);

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
  // weak pair, a < b, in (a, b) order, and is called twice (it must give the same pairs each
  // time): once to count each record's ends, then once to place them. With more ends than
  // `budget_ends`, the second scan sorts them into ranges of records whose ends fit the budget
  // (RangeStager: a small buffer per range, written to a second unnamed file), and each range is
  // then read back, put in record order and written: memory holds the budget's ends and the
  // ranges' buffers, and the pairs are scanned twice whatever the number of ranges. IOError when
  // a file cannot be made, written or read.
  template <typename Scan>
  Status Build(const std::string& dir, size_t n, size_t budget_ends, Scan&& scan);
  // Record m's ends into *out (replaced). False on a read error (status() says which).
  bool Of(uint32_t m, std::vector<End>* out) const;
  const Status& status() const { return status_; }
  uint64_t ends() const { return start_.empty() ? 0 : start_.back(); }

 private:
  // The ends of the records of consecutive ranges, in the order they are put, sorted by range
  // into their range's part of an unnamed file (12 bytes an end; see Build).
  class RangeStager {
   public:
    // `cuts`: the first record of each range, then n; `start`: WeakPairFile::start_.
    RangeStager(std::vector<size_t> cuts, const std::vector<uint64_t>& start) : cuts_(std::move(cuts)), start_(start) {}
    ~RangeStager();
    Status Open(const std::string& dir);
    void Put(uint32_t m, uint32_t other, float p);
    Status Finish();  // writes what the buffers hold
    // Range r's ends, in the order they were put, a piece at a time: fn(m, End).
    template <typename Fn>
    Status Read(size_t r, Fn&& fn) const;
    size_t ranges() const { return cuts_.size() - 1; }
    size_t cut(size_t r) const { return cuts_[r]; }
    const Status& status() const { return status_; }

   private:
    struct Staged {
      uint32_t m, other;
      float p;
    };
    static_assert(sizeof(Staged) == 12);
    Status ReadPiece(uint64_t first, size_t count, std::vector<Staged>* out) const;
    Status Flush(size_t r);
    std::vector<size_t> cuts_;
    const std::vector<uint64_t>& start_;
    std::vector<std::vector<Staged>> buf_;
    std::vector<uint64_t> written_;
    int fd_ = -1;
    std::string path_;
    Status status_;
  };

  Status Open(const std::string& dir);
  Status Write(uint64_t first_end, const std::vector<End>& ends);
  int fd_ = -1;
  std::string path_;
  std::vector<uint64_t> start_;  // n + 1: record m's ends are [start_[m], start_[m + 1])
  mutable Status status_;
};

template <typename Fn>
Status WeakPairFile::RangeStager::Read(size_t r, Fn&& fn) const {
  const uint64_t first = start_[cuts_[r]], last = start_[cuts_[r + 1]];
  constexpr uint64_t kPiece = uint64_t{1} << 20;
  std::vector<Staged> piece;
  for (uint64_t at = first; at < last; at += kPiece) {
    ARK_RETURN_IF_ERROR(ReadPiece(at, static_cast<size_t>(std::min(kPiece, last - at)), &piece));
    for (const Staged& e : piece) fn(e.m, End{e.other, e.p});
  }
  return Status::OK();
}

template <typename Scan>
Status WeakPairFile::Build(const std::string& dir, size_t n, size_t budget_ends, Scan&& scan) {
  ARK_RETURN_IF_ERROR(Open(dir));
  start_.assign(n + 1, 0);
  ARK_RETURN_IF_ERROR(scan([&](uint32_t a, uint32_t b, float) { ++start_[a + 1], ++start_[b + 1]; }));
  for (size_t i = 0; i < n; ++i) start_[i + 1] += start_[i];
  budget_ends = budget_ends ? budget_ends : 1;
  std::vector<size_t> cuts;  // ranges of records [cuts[r], cuts[r + 1]): at least one record, else as many as fit
  for (size_t lo = 0; lo < n;) {
    size_t hi = lo + 1;
    while (hi < n && start_[hi + 1] - start_[lo] <= budget_ends) ++hi;
    cuts.push_back(lo);
    lo = hi;
  }
  cuts.push_back(n);
  std::vector<End> buf;
  std::vector<uint32_t> fill;
  // Range [lo, hi)'s ends, given by put_all(put) in scan order, into record order and the file.
  auto place = [&](size_t lo, size_t hi, auto&& put_all) -> Status {
    if (start_[hi] == start_[lo]) return Status::OK();
    buf.assign(start_[hi] - start_[lo], End{0, 0});
    fill.assign(hi - lo, 0);
    const uint64_t base = start_[lo];
    bool over = false;  // more ends of a record than the first scan counted
    ARK_RETURN_IF_ERROR(put_all([&](uint32_t m, End e) {
      if (m < lo || m >= hi) return;
      if (fill[m - lo] == start_[m + 1] - start_[m]) {
        over = true;
        return;
      }
      buf[start_[m] - base + fill[m - lo]++] = e;
    }));
    if (over) return Status::Internal(path_ + ": the pairs changed between scans");
    return Write(base, buf);
  };
  if (cuts.size() <= 2) {  // one range: placed straight from the scan
    return place(0, n, [&](auto&& put) {
      return scan([&](uint32_t a, uint32_t b, float p) {
        put(a, End{b, p});
        put(b, End{a, p});
      });
    });
  }
  RangeStager staged(cuts, start_);
  ARK_RETURN_IF_ERROR(staged.Open(dir));
  ARK_RETURN_IF_ERROR(scan([&](uint32_t a, uint32_t b, float p) {
    staged.Put(a, b, p);
    staged.Put(b, a, p);
  }));
  ARK_RETURN_IF_ERROR(staged.Finish());
  for (size_t r = 0; r < staged.ranges(); ++r) {
    ARK_RETURN_IF_ERROR(place(staged.cut(r), staged.cut(r + 1), [&](auto&& put) { return staged.Read(r, put); }));
  }
  return Status::OK();
}

}  // namespace ark
