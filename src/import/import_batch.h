// Imported batches: data that arrives already person-linked (OMOP CDM, MEDS, FHIR bundles)
// written into an Ark as one staged batch whose person keys are assigned at once, so that
// `ark build` compiles it with no `ark link` run (docs/imports.md).
//
// An ImportBatch collects persons (with their attributes) and their events, then Commit
// publishes it atomically:
//  - ARK/staging/<id>-<feed>/batch.bin, the same format as `ark ingest` writes (staging.h);
//  - a row in the catalog's `batches` table whose manifest has "kind": "import", the format,
//    a `content_hash` (importing the same content twice is refused, like a duplicate extract)
//    and the counts;
//  - person keys: a person with a pseudonym (an NHS-number pseudonym made with the programme
//    key, as `ark pseudonymise` makes them) gets the key of that pseudonym — the same person as in
//    ingested feeds — and is known for opt-out checks; a person without one gets a fresh key of
//    its own (catalog `record_keys`) and is NOT known for opt-outs, so it is left out of every
//    purpose but direct care (fail closed);
//  - ARK/link/<batch>.keys, as `ark link` writes it; a later `ark link` keeps these keys;
//  - opt-outs declared by the source (DeclareOptOuts, by the source's own person ids): every
//    person of the batch then has a known opt-out status (`ark build` reads the batch's
//    optout_kind "import"), opted out if its id is on the source's list. The ids are hashed at
//    once with a one-off random key that is never stored, so neither the ids nor anything that
//    could be matched back to them enter the Ark.
// Identifiers never enter: callers pass no source person ids, names or addresses — only the
// attributes below.
//
// Example:
//   ImportBatch b("omop");
//   uint32_t r = b.AddPerson({.birth_year = 1970, .birth_month = 3, .sex = 'F'});
//   b.AddEvent(r, t, kNoTime, "SNOMED/44054006", kNoValue, "", 0);
//   ARK_ASSIGN_OR_RETURN(auto rep, b.Commit(catalog, content_hash, {{"format", "omop-cdm-5.4"}}));
//
// Not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "core/event.h"
#include "ingest/staging.h"
#include "privacy/key.h"

namespace ark {

struct ImportedPerson {
  std::optional<Digest> pseudonym;  // NHS-number pseudonym (programme key), if any
  int16_t birth_year = 0;           // 0 = unknown
  uint8_t birth_month = 0;          // 1..12, 0 = unknown
  char sex = 'U';                   // 'M', 'F', 'U'
  uint8_t imd_decile = 0;           // 0 = unknown
  std::string lsoa;                 // "" = unknown
  std::string practice;             // "" = none
};

struct ImportReport {
  int64_t batch = 0;
  uint64_t persons = 0, new_persons = 0, events = 0;
  bool optouts_declared = false;     // the source declared opt-outs (a list, or none)
  uint64_t opted_out = 0;            // persons of the batch on the source's opt-out list
  uint64_t optout_ids_unmatched = 0; // ids on the list that are no person of the batch
};

// Opt-out information a source gives about its persons (docs/imports.md "Opt-outs").
//  kUndeclared: none: persons without an NHS-number pseudonym get no known opt-out status and are
//    left out of every purpose but direct care (fail closed);
//  kNone: the source states that none of its persons opted out;
//  kList: `file` is a CSV with a `person_id` column listing the source's opted-out persons.
struct ImportOptOuts {
  enum class Mode { kUndeclared, kNone, kList };
  Mode mode = Mode::kUndeclared;
  std::string file;
};

class ImportBatch {
 public:
  // `feed` names the source in the store ("omop", "meds", "fhir"); it is the events' source.
  explicit ImportBatch(std::string feed);

  // Adds a person; returns its record index for AddEvent.
  uint32_t AddPerson(const ImportedPerson& p);
  // Replaces the attributes of person `record` (for formats that give them after the events).
  void SetPerson(uint32_t record, const ImportedPerson& p);
  // Adds an event of person `record`. `code` is "SYSTEM/CODE" (non-empty); `end` kNoTime for
  // none; `value` kNoValue for none; `unit` "" for none; `encounter` 0 for none, otherwise a
  // source-wide visit/encounter id (kept as is when below 2^31 - 1, else interned).
  // Derived person facts follow the usual codes: REG/<practice> registrations, DEATH/ deaths.
  void AddEvent(uint32_t record, Seconds time, Seconds end, std::string_view code, double value,
                std::string_view unit, uint64_t encounter);

  // Declares the source's opt-outs (before Commit). kList reads `o.file`; errors name the file,
  // line and column (a missing `person_id` column, an empty id). Ids are hashed as they are read.
  Status DeclareOptOuts(const ImportOptOuts& o);
  // The source's own id of person `record`, matched against the opt-out list (not kept).
  // Integer ids match whatever their leading zeros or spaces ("007" = "7").
  void SetSourceId(uint32_t record, std::string_view id);

  size_t persons() const { return b_.records.size(); }
  size_t events() const { return b_.events.size(); }

  // Publishes the batch into the Ark (see above). `content_hash` identifies the input (e.g. an
  // XXH3 of its files); `manifest` gets "kind", "feed", "content_hash" and counts added.
  // Errors: FailedPrecondition when content with this hash was already ingested or imported;
  // InvalidArgument when the batch has no persons; IOError. Nothing is published on error.
  Result<ImportReport> Commit(Catalog& cat, const std::string& content_hash, nlohmann::json manifest);

 private:
  uint32_t Intern(std::vector<std::string>& dict, std::unordered_map<std::string, uint32_t>& ids, std::string_view s);

  Digest HashId(std::string_view id) const;

  StagedBatch b_;
  bool optouts_declared_ = false, optouts_listed_ = false;
  std::optional<ProgrammeKey> id_key_;          // one-off, never written
  std::unordered_map<std::string, bool> listed_; // hashed listed id -> matched a person
  std::vector<Digest> source_digest_;            // per record; all zero = no id given
  std::unordered_map<std::string, uint32_t> code_ids_, unit_ids_, area_ids_, practice_ids_, encounter_ids_;
};

}  // namespace ark
