// Staged batches: what `ark ingest` writes under ARK/staging/ and `ark link` / `ark build` read.
// One batch = one pseudonymised extract of one feed, validated, with codes dictionary-encoded.
// A batch directory is immutable once published; the catalog's `batches` table lists the live
// ones (a directory not in the catalog is debris from a crash and is ignored).
//
// File: ARK/staging/<id>-<feed>/batch.bin — see docs/design.md "Staging". Little-endian;
// ends with an XXH3-64 checksum of everything before it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ark/status.h"
#include "core/time.h"
#include "privacy/key.h"

namespace ark {

enum class NhsStatusCode : uint8_t { kValid = 0, kMissing = 1, kInvalid = 2 };

struct StagedRecord {
  // The NHS-number pseudonym when nhs_status == kValid; otherwise all zero, except in imported
  // batches with optout_kind "import", where it is the keyed digest of the source's person id
  // (matched only against the batch's own `optouts`, never used for linkage).
  Digest pseudonym{};
  NhsStatusCode nhs_status = NhsStatusCode::kMissing;
  int16_t birth_year = 0;
  uint8_t birth_month = 0;
  char sex = 'U';
  uint8_t imd_decile = 0;
  uint32_t lsoa = 0;      // index into areas (0 = unknown)
  uint32_t practice = 0;  // index into practices (0 = none)
};

// Encounter ids: 0 = none; a plain decimal id n below 2^31 - 1 is stored as n + 1 (ids stay
// the same across batches of a feed); any other id as kInternedEncounter + its index in the
// batch's `encounters` dictionary.
inline constexpr uint32_t kInternedEncounter = 0x80000000u;

// Events as columns; strings are indexes into the batch's dictionaries (index 0 = "").
struct StagedEvents {
  std::vector<uint32_t> record;  // 0-based record index
  std::vector<int64_t> time, end;
  std::vector<uint32_t> code, unit, encounter;
  std::vector<double> value;
  size_t size() const { return record.size(); }
};

struct StagedBatch {
  std::string feed;
  std::string key_fingerprint;
  std::vector<StagedRecord> records;
  std::vector<std::string> areas{""}, practices{""}, codes{""}, units{""}, encounters{""};
  StagedEvents events;               // what ReadStagedBatch returns: one part
  std::vector<StagedEvents> parts;   // for writing: events in parts, concatenated in order
  std::vector<Digest> optouts;
  std::string optout_kind;  // "national" | "type1" | "import" (import/import_batch.h) | ""
  // PPRL encodings (privacy/bloom.h), one fixed-size blob per record; empty for extracts
  // pseudonymised without them. encoding_version names the layout ("ark-pprl v1").
  std::string encoding_version;
  std::vector<uint8_t> encodings;
};

// Writes `b` (its `events` followed by its `parts`) and fsyncs the file.
Status WriteStagedBatch(const StagedBatch& b, const std::string& path);

// A batch's events spilled to disk as they are parsed (what `ark ingest` does), so that memory
// holds the chunk being appended, not the batch: one file of raw values per column under a
// directory the caller owns (and removes), with what WriteStagedBatch needs to choose each
// column's encoding counted on the way. Not thread-safe; not a durable format (never fsynced).
class EventSpill {
 public:
  // Creates the column files in `dir` (which must exist).
  static Result<std::unique_ptr<EventSpill>> Create(const std::string& dir);
  ~EventSpill();
  EventSpill(const EventSpill&) = delete;
  EventSpill& operator=(const EventSpill&) = delete;

  // Appends e's events after those appended before.
  Status Append(const StagedEvents& e);
  uint64_t size() const;
  // Appends records (StagedBatch::records) after those appended before.
  Status AppendRecords(const std::vector<StagedRecord>& records);
  uint64_t records_size() const;
  // Appends PPRL encoding bytes (StagedBatch::encodings) after those appended before.
  Status AppendEncodings(const std::vector<uint8_t>& bytes);
  uint64_t encodings_size() const;

  struct Impl;  // staging.cc

 private:
  EventSpill() = default;
  friend Status WriteStagedBatch(const StagedBatch& b, EventSpill* spill, const std::string& path);
  std::unique_ptr<Impl> impl_;
};

// Writes `b` with the spilled events in place of b.events / b.parts (which must be empty), the
// spilled records, if any, in place of b.records (which must then be empty), and
// the spilled encodings, if any, in place of b.encodings (which must then be empty),
// reading each column back in fixed-size pieces through one reused buffer: byte for byte the
// file WriteStagedBatch(b') writes for a b' holding those events. Fsyncs the file.
Status WriteStagedBatch(const StagedBatch& b, EventSpill* spill, const std::string& path);
// With `with_events` false, the events are skipped (cheaper for linkage); with
// `with_encodings` false, the PPRL encodings (cheaper for building timelines).
Result<StagedBatch> ReadStagedBatch(const std::string& path, bool with_events = true, bool with_encodings = true);

// A staged batch's events read a chunk at a time (what `ark build` does), so that memory holds a
// chunk, not the batch. Open checks the magic and the checksum (reading the file in fixed-size
// pieces), returns the batch without its events and encodings, and indexes the event columns;
// ReadChunk decodes events [c * kChunkEvents, min(num_events, (c + 1) * kChunkEvents)) with
// pread into vectors the caller reuses (no map: nothing stays resident between chunks). Any
// chunk may be read, in any order, from any number of threads at once (the methods are const).
// Errors: Corruption naming the file (bad magic, checksum, a column that does not add up).
class StagedEventFile {
 public:
  static constexpr uint64_t kChunkEvents = uint64_t{1} << 16;

  // With `with_records` false, header->records is left empty and the records are only located:
  // ReadRecords reads them a range at a time (what deterministic linkage does).
  static Result<std::unique_ptr<StagedEventFile>> Open(const std::string& path, StagedBatch* header,
                                                       bool with_records = true);
  ~StagedEventFile();
  StagedEventFile(const StagedEventFile&) = delete;
  StagedEventFile& operator=(const StagedEventFile&) = delete;

  const std::string& path() const { return path_; }
  uint64_t num_events() const { return n_; }
  uint64_t num_chunks() const { return (n_ + kChunkEvents - 1) / kChunkEvents; }
  uint64_t num_records() const { return num_records_; }
  // Reads records [first, first + n) into *out (resized to n) with pread. InvalidArgument for a
  // range past the records; Corruption if the file is cut short.
  Status ReadRecords(uint64_t first, uint64_t n, std::vector<StagedRecord>* out) const;
  // The PPRL encodings (StagedBatch::encodings; header->encoding_version names their layout):
  // bytes per record (0 when the batch has none), and those of records [first, first + n) read
  // into *out (resized) with pread, as ReadRecords.
  uint64_t encoding_bytes_per_record() const { return num_records_ ? encoding_bytes_ / num_records_ : 0; }
  Status ReadEncodings(uint64_t first, uint64_t n, std::vector<uint8_t>* out) const;
  // Decodes chunk c into *out: every column, or only `record` when `record_only` (the other
  // columns are then left as they were). *scratch holds raw bytes between pread and decoding.
  Status ReadChunk(uint64_t c, bool record_only, StagedEvents* out, std::string* scratch) const;

  // Where one event column lies in the file (ColumnEncoding in staging.cc).
  struct Column {
    uint8_t enc = 0;
    uint8_t width = 0;                      // bytes per value
    uint64_t n = 0, offset = 0, bytes = 0;  // offset: of the payload, from the start of the file
    uint64_t base = 0;                      // kSparse: the default value's bits; kOffset: the base
    std::vector<uint64_t> ranks;            // kSparse: values before each chunk, then the total
  };

 private:
  StagedEventFile() = default;
  template <typename T>
  Status Decode(const Column& col, uint64_t c, std::vector<T>* out, std::string* scratch) const;
  Status Pread(uint64_t offset, uint64_t n, void* dst) const;

  std::string path_;
  int fd_ = -1;
  uint64_t n_ = 0;
  uint64_t num_records_ = 0, records_offset_ = 0;  // records_offset_: of the first record, in the file
  uint64_t encodings_offset_ = 0, encoding_bytes_ = 0;
  Column record_, time_, end_, code_, unit_, encounter_, value_;
};

}  // namespace ark
