// `ark build`: compiles linked staging into a new version of the timeline store.
//
// Reads every staged batch and its person keys (ark link), and every event ever appended to the
// store and acknowledged (`ark append`, `ark serve`: TimelineWriter::TakeAppended) under the
// person's current key (kept if a record has it, else followed through the catalog's
// person_key_moves; keys of persons known only from appends are kept and next_person is raised
// above them); gathers each person's events into one time-ordered timeline, derives person
// attributes (below), and writes the version through the store's TimelineWriter, which publishes
// it atomically: a crash during a build leaves the previous version readable, and no
// acknowledged event is ever dropped (docs/store-format.md "Sources of truth").
// Memory is bounded whatever the region's size: the staged events are read a chunk at a time,
// scattered once into unnamed run files (one a thread) by shard (whole blocks of consecutive
// persons), and each thread gathers, sorts and encodes one shard at a time; blocks reach the
// writer in person order, so the version is byte for byte what one thread would write
// (docs/design.md "Build").
// Errors: FailedPrecondition (nothing staged, a batch not linked, the store's LOCK held by a
// writer such as `ark serve`); Corruption naming the file (catalog next_person, a keys file, a
// damaged WAL record).
//
// Person attributes, from the person's records (docs/design.md "Build"):
//  - sex, birth year and month: first known value in feed order gp, acute, community,
//    social_care, deaths, then any other feed;
//  - LSOA and deprivation decile: the GP record of the latest registration, else as above;
//    a decile missing on the record is filled from the LSOA (learned from records having both);
//  - practice: the latest registration event (code REG/<practice>);
//  - death date: the earliest DEATH/ event;
//  - opt-outs: a person is known (kOptOutKnown) only if linked by NHS-number pseudonym, and
//    opted out if that pseudonym is on a loaded opt-out list; every person of an imported batch
//    whose source declared its opt-outs (optout_kind "import", import/import_batch.h) is known,
//    and opted out if the batch lists its digest.
#pragma once

#include <string>

#include "ark/status.h"
#include "catalog/catalog.h"
#include "store/options.h"

namespace ark {

struct BuildOptions {
  int threads = 1;
  // Events gathered, sorted and encoded at once by one thread (a shard: whole blocks of
  // consecutive persons; a block larger than this is a shard of its own). Memory holds about
  // `threads` shards of 56-byte events: 2M events = 112 MiB a thread.
  uint64_t shard_events = uint64_t{1} << 21;
  // The version's block and segment sizes (the store's defaults; smaller in tests).
  WriterOptions writer;
};

struct BuildReport {
  uint64_t persons = 0, events = 0, batches = 0, shards = 0;
  uint64_t opted_out = 0, optout_unknown = 0;
  double seconds = 0;
};

Result<BuildReport> BuildTimelines(Catalog& catalog, const BuildOptions& opts);
Result<BuildReport> BuildTimelines(Catalog& catalog, int threads);  // default options otherwise

}  // namespace ark
