// The native study engine: evaluates a Definition over the timeline store in one pass per person.
//
// Per person it collects, with one table lookup per event (code id -> bitmask of codelists), the
// few events of each codelist, then evaluates the population and the variables at every index
// (the fixed index date, each measure interval's start, or each index event) over those short
// lists. Persons are split into ranges evaluated on `threads` threads, each with its own buffers
// (no allocation per event); partial results are merged at the end.
//
// Thread safety: RunNative may be called concurrently (it only reads the store).
#pragma once

#include <functional>

#include "store/store.h"
#include "study/engine.h"
#include "study/feeds.h"

namespace ark::study {

struct NativeOptions {
  int threads = 2;       // worker threads. Default: 2.
  bool dataset = true;   // produce the patient-level rows (false: measures and counts only)
  // With `dataset`: false gives each row's person only (EngineResult::row_persons), no text, and
  // evaluates at a row's index only what the population needs (not every variable).
  bool row_text = true;
  Feeds feeds;           // read only events of these sources (nullopt: every source)
  // Checked before each range of persons and every 256 persons inside one: once it returns true,
  // RunNative stops and returns Cancelled() (study/run.h). May be called from several threads.
  std::function<bool()> cancelled;
  // Called (under a lock, from the engine's threads) after each range of persons with the fraction
  // of ranges done, 0..1.
  std::function<void(double)> progress;
};

Result<EngineResult> RunNative(const Definition& def, const Store& store, Purpose purpose, const NativeOptions& opts = {});

}  // namespace ark::study
