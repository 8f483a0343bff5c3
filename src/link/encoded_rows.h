// The encoded records of a PPRL linkage, record-major: each record's per-field Bloom filters
// (kFieldWords words each, in field order), one word of presence bits (bit f: field f had a
// value) and, with CLKs, its CLK (kClkWords words), side by side, so that comparing a pair
// touches a few adjacent cache lines per record rather than one per field.
//
// In memory, or in an unnamed 0600 file (OpenUnnamedFile: nothing is left behind, whatever
// happens) written as records are appended, a page at a time, and read through a read-only
// shared map. The map's pages belong to the page cache; the process's resident share of them is
// kept bounded whatever the number of records: Pace() drops them every so many random lookups
// of a thread (the budget given to Finish), DropRows() after a sequential pass over a range, and
// Drop() at the end of a phase. Reading a dropped page faults it in again from the page cache.
//
// Appending is single-threaded; after Finish the reads are const and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ark/status.h"
#include "privacy/bloom.h"

namespace ark {

class EncodedRows {
 public:
  // Rows of `fields` filters, with a CLK each when `with_clk`; in memory when `dir` is empty,
  // else in an unnamed file in `dir` (IOError when it cannot be made).
  static Result<std::unique_ptr<EncodedRows>> Create(size_t fields, bool with_clk, const std::string& dir);
  ~EncodedRows();
  EncodedRows(const EncodedRows&) = delete;
  EncodedRows& operator=(const EncodedRows&) = delete;

  // Appends a record: `filters` holds fields() * kFieldWords words, `present_bits` its presence
  // bits, `clk` kClkWords words (not read without a CLK). REQUIRES: Finish not yet called.
  Status Append(const uint64_t* filters, uint64_t present_bits, const uint64_t* clk);
  // Room for `rows` records at once (in memory; nothing in a file).
  void Reserve(size_t rows) {
    if (fd_ < 0) buf_.reserve(rows * stride_);
  }
  // Ends the appending (writes what is buffered and maps the file). `resident_budget`: about how
  // many bytes of mapped pages the random lookups of `threads` threads may keep (Pace).
  Status Finish(size_t resident_budget, int threads);

  size_t size() const { return n_; }
  size_t fields() const { return nf_; }
  bool has_clk() const { return with_clk_; }
  bool in_file() const { return fd_ >= 0; }
  size_t stride_words() const { return stride_; }

  // REQUIRES: Finish called, i < size().
  const uint64_t* Row(size_t i) const { return rec_ + i * stride_; }
  const uint64_t* Filter(size_t i, size_t f) const { return Row(i) + f * kFieldWords; }
  uint64_t PresentBits(size_t i) const { return Row(i)[nf_ * kFieldWords]; }
  const uint64_t* Clk(size_t i) const { return Row(i) + nf_ * kFieldWords + 1; }  // REQUIRES: has_clk()

  // True when random lookups are paced (the file is larger than the resident budget): each one
  // then risks a page fault, and a pass in row order is much cheaper.
  bool paced() const { return drop_every_ != SIZE_MAX; }
  // Counts a random lookup of this thread; every so many, drops the mapped pages. No-op in memory.
  void Pace() const;
  // Drops the mapped pages wholly inside the rows [lo, hi) (after a pass over them). No-op in memory.
  void DropRows(size_t lo, size_t hi) const;
  // Drops every mapped page. No-op in memory.
  void Drop() const;

 private:
  EncodedRows() = default;
  Status Flush();

  size_t nf_ = 0, stride_ = 0, n_ = 0;
  bool with_clk_ = false, finished_ = false;
  std::string what_;            // the file's description in errors
  std::vector<uint64_t> buf_;   // rows appended, not yet written (file) or all rows (memory)
  uint64_t written_ = 0;        // bytes written to the file
  int fd_ = -1;
  const uint64_t* rec_ = nullptr;  // buf_ or the map
  const uint64_t* map_ = nullptr;
  size_t map_bytes_ = 0;
  size_t drop_every_ = SIZE_MAX;
};

}  // namespace ark
