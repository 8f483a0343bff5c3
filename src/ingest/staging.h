// Staged batches: what `ark ingest` writes under ARK/staging/ and `ark link` / `ark build` read.
// One batch = one pseudonymised extract of one feed, validated, with codes dictionary-encoded.
// A batch directory is immutable once published; the catalog's `batches` table lists the live
// ones (a directory not in the catalog is debris from a crash and is ignored).
//
// File: ARK/staging/<id>-<feed>/batch.bin — see docs/design.md "Staging". Little-endian;
// ends with an XXH3-64 checksum of everything before it.
#pragma once

#include <cstdint>
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
// With `with_events` false, the events are skipped (cheaper for linkage); with
// `with_encodings` false, the PPRL encodings (cheaper for building timelines).
Result<StagedBatch> ReadStagedBatch(const std::string& path, bool with_events = true, bool with_encodings = true);

}  // namespace ark
