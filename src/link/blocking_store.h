// Out-of-core storage for the blocking step of a linkage, so that what it holds per record is
// on disk rather than on the heap (docs/linkage.md, "Fourth round"):
//
//   KeyColumns: the blocking keys of every record, one column per rule, appended a record at a
//     time and read back a column at a time (8 bytes a record in memory for one rule, not for all).
//   BlockStream: each rule's blocks (the records sharing a key, in record order), written once
//     and read back in order, a piece at a time, as often as the candidate pairs are made.
//
// Both live in memory when given no folder, else in an unnamed 0600 file (OpenUnnamedFile:
// nothing is left behind, whatever happens). Writing is single-threaded; after Finish the reads
// are const and may run on several threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ark/status.h"

namespace ark {

class KeyColumns {
 public:
  // `columns` keys per record; in memory when `dir` is empty, else in an unnamed file in `dir`
  // (IOError when it cannot be made).
  static Result<std::unique_ptr<KeyColumns>> Create(size_t columns, const std::string& dir);
  ~KeyColumns();
  KeyColumns(const KeyColumns&) = delete;
  KeyColumns& operator=(const KeyColumns&) = delete;

  // Appends one record's keys (columns() of them). REQUIRES: Finish not yet called.
  Status Append(const uint64_t* keys);
  // Ends the appending (writes what is buffered).
  Status Finish();

  size_t columns() const { return cols_; }
  size_t size() const { return n_; }
  // Column `c`'s keys, size() of them, into *out (replaced). REQUIRES: Finish called, c < columns().
  Status Read(size_t c, std::vector<uint64_t>* out) const;

 private:
  KeyColumns() = default;
  Status FlushBlock();

  // The file holds blocks of kBlock records: block b's column c is at ((b * cols_) + c) * kBlock
  // keys, so that a column reads in large sequential pieces whatever the number of records.
  static constexpr size_t kBlock = size_t{1} << 16;
  size_t cols_ = 0, n_ = 0, blocks_written_ = 0;
  bool finished_ = false;
  std::vector<std::vector<uint64_t>> buf_;  // per column: the records of the block being filled (all, in memory)
  int fd_ = -1;
  std::string what_;
};

class BlockStream {
 public:
  // In memory when `dir` is empty, else in an unnamed file in `dir` (IOError when it cannot be made).
  static Result<std::unique_ptr<BlockStream>> Create(const std::string& dir);
  ~BlockStream();
  BlockStream(const BlockStream&) = delete;
  BlockStream& operator=(const BlockStream&) = delete;

  // Appends a block of rule `rule`: its members (record indices, increasing), at least one.
  // REQUIRES: Finish not yet called.
  Status Add(uint32_t rule, std::span<const uint32_t> members);
  // Ends the writing (writes what is buffered, frees the buffer).
  Status Finish();

  uint64_t blocks() const { return blocks_; }
  uint64_t members() const { return members_; }
  // Calls fn(rule, members) for every block, in the order they were added; members is valid
  // during the call only. Reads a piece at a time; IOError when the file cannot be read.
  // REQUIRES: Finish called.
  template <typename Fn>
  Status ForEach(Fn&& fn) const;

 private:
  BlockStream() = default;
  Status Flush();
  // Words [first, first + count) of the stream into *out (replaced; fewer at the end).
  Status ReadWords(uint64_t first, size_t count, std::vector<uint32_t>* out) const;

  // The stream: per block, its rule, its member count, then its members (32-bit words).
  std::vector<uint32_t> buf_;  // words not yet written (all of them, in memory)
  uint64_t written_ = 0;       // words in the file
  uint64_t blocks_ = 0, members_ = 0;
  bool finished_ = false;
  int fd_ = -1;
  std::string what_;
};

template <typename Fn>
Status BlockStream::ForEach(Fn&& fn) const {
  if (!finished_) return Status::FailedPrecondition("BlockStream::ForEach before Finish");
  if (fd_ < 0) {
    for (size_t at = 0; at + 2 <= buf_.size(); at += 2 + buf_[at + 1]) {
      fn(buf_[at], std::span<const uint32_t>(buf_.data() + at + 2, buf_[at + 1]));
    }
    return Status::OK();
  }
  constexpr size_t kPiece = size_t{1} << 22;  // words read at a time (16 MiB)
  std::vector<uint32_t> piece;
  uint64_t at = 0;  // the next block's first word
  while (at < written_) {
    ARK_RETURN_IF_ERROR(ReadWords(at, kPiece, &piece));
    size_t i = 0;
    while (i + 2 <= piece.size() && i + 2 + piece[i + 1] <= piece.size()) {
      fn(piece[i], std::span<const uint32_t>(piece.data() + i + 2, piece[i + 1]));
      i += 2 + piece[i + 1];
    }
    if (i == 0) {  // one block larger than a piece: read it whole
      if (piece.size() < 2) return Status::Corruption(what_ + ": a block is cut short");
      const size_t words = 2 + size_t{piece[1]};
      ARK_RETURN_IF_ERROR(ReadWords(at, words, &piece));
      if (piece.size() != words) return Status::Corruption(what_ + ": a block is cut short");
      fn(piece[0], std::span<const uint32_t>(piece.data() + 2, piece[1]));
      i = words;
    }
    at += i;
  }
  return Status::OK();
}

}  // namespace ark
