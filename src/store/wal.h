// The write-ahead log: appended events are framed into records, written and fdatasync'ed before
// Append acknowledges them. Layout in docs/store-format.md, "WAL file":
//
//   record := masked_crc32c u32 | length u32 | type u8 | payload[length]
//   (the CRC covers length, type and payload)
//
// The first record of a file is a header (magic, format version). Reading stops at the first
// record that is incomplete or fails its checksum: when nothing but zeros or that one record
// follows, it is a torn tail (the writer died mid-write; nothing after it was acknowledged) and is
// ignored; otherwise it is corruption in the middle of the file.
//
// WalWriter is not thread-safe (the store serialises writers through group commit).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ark/status.h"
#include "core/fs.h"
#include "store/options.h"

namespace ark::store {

constexpr size_t kWalRecordHeaderSize = 9;
constexpr uint32_t kWalMaxRecord = 64u << 20;  // larger batches are split by the caller
// 2: adds kWalNotedAppend. Version 1 files (no such records) are still read.
constexpr uint32_t kWalFormatVersion = 2;

enum WalRecordType : uint8_t {
  kWalFileHeader = 1,  // payload: "ARKWAL01" + u32 format version
  kWalAppend = 2,      // payload: an append batch (EncodeAppendBatch)
  // payload: u64 tag | u32 n. The caller's high-water mark (Store::Append's tag), written just
  // before the n kWalAppend records it covers; it counts only once all n were read (n = 0: a
  // tag carried into a new WAL file by compaction).
  kWalTag = 3,
  // payload: EncodeNotedAppend — an append batch and the caller's notes (opaque records, e.g. the
  // live pipeline's pseudonymised messages) in one record, so that after a crash both or neither
  // are there. Only the notes' owner reads them (Store::ReadNotes); every other reader takes the
  // events and skips the notes.
  kWalNotedAppend = 4,
};

// The payload of a kWalNotedAppend record: varint count, each note as a length-prefixed string,
// then the append batch (EncodeAppendBatch).
void EncodeNotedAppend(std::span<const std::string> notes, std::span<const AppendEvent> events, std::string* out);
// Splits a kWalNotedAppend payload: its notes (views into `payload`) and its append batch.
Status SplitNotedAppend(std::string_view payload, std::vector<std::string_view>* notes, std::string_view* batch);
// The events of a kWalAppend or kWalNotedAppend record into *out; Corruption for another type.
Status DecodeWalEvents(uint8_t type, std::string_view payload, std::vector<AppendEvent>* out);

// The payload of a kWalTag record.
std::string EncodeWalTag(uint64_t tag, uint32_t following);

// Follows the tags of one WAL file as its records are read in order: call OnTag for each kWalTag
// record and OnAppend for each kWalAppend record; `max` is the largest tag whose records were all
// read (Corruption for a malformed tag payload).
struct WalTagReader {
  uint64_t max = 0;
  Status OnTag(std::string_view payload);
  void OnAppend() {
    if (left_ > 0 && --left_ == 0) max = std::max(max, tag_);
  }

 private:
  uint64_t tag_ = 0;
  uint32_t left_ = 0;  // kWalAppend records still to read before tag_ counts
};

// Appends one framed record to *out.
void AppendWalRecord(std::string* out, WalRecordType type, std::string_view payload);

class WalWriter {
 public:
  // Creates the file (truncating any leftover of that name), writes and syncs the header record
  // and fsyncs the directory, so the file survives a crash once this returns.
  static Result<std::unique_ptr<WalWriter>> Create(const std::string& path);
  // Writes framed records and makes them durable (fdatasync) before returning.
  Status WriteAndSync(std::string_view records);
  uint64_t size() const { return file_.size(); }
  const std::string& path() const { return path_; }

 private:
  WalWriter() = default;
  AppendFile file_;
  std::string path_;
};

struct WalReadResult {
  uint64_t file_size = 0;
  uint64_t valid_bytes = 0;  // end of the last good record
  uint64_t records = 0;      // good records, header included
  bool torn_tail = false;    // an incomplete record at the end was ignored
  bool corrupt = false;      // a bad record with data after it (records after it were not read)
  std::string problem;       // what was wrong at valid_bytes, when torn_tail or corrupt
};

// Reads the records of the WAL file at `path` in order, calling fn(type, payload) for each good
// one after the header. An error from fn stops the read and is returned. `from` > 0: after
// checking the header, skip to byte `from` (a record boundary; Corruption if past the end).
Result<WalReadResult> ReadWal(const std::string& path, const std::function<Status(uint8_t, std::string_view)>& fn,
                              uint64_t from = 0);
// The same, also passing the offset just after each record (where a reader would resume).
Result<WalReadResult> ReadWalAt(const std::string& path,
                                const std::function<Status(uint8_t, std::string_view, uint64_t end)>& fn,
                                uint64_t from = 0);

// Append batches: the events with their strings (codes, units, sources), so that replay does not
// depend on dictionary ids.
void EncodeAppendBatch(std::span<const AppendEvent> events, std::string* out);
Status DecodeAppendBatch(std::string_view payload, std::vector<AppendEvent>* out);

}  // namespace ark::store
