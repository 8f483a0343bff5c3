// The scan kernel behind Store::CountPersonsWithAnyCode: "does person p have an event with a code
// in set C and a time in [from, to)?", answered from a block's hot streams without decompressing:
//
//   1. Per block, the code set (a bitmap over global ids) is compiled against the block-local
//      dictionary into a 256-entry byte table (hot codes) and a table over cold ids. A block none
//      of whose codes is in C is skipped; so is one whose day range misses the window (footer).
//   2. When the whole block lies inside the window, a person matches if any of its code bytes
//      hits the table (8 bytes at a time). Otherwise the person's day gaps (one byte each) are
//      summed from its first day to reach the window, then codes are checked event by event until
//      the window's end; the second of day (zstd, decoded lazily) is consulted only on a bound's
//      day when that bound is not midnight.
//   3. An escape byte (cold code) is resolved through the escape list only when some cold code
//      of the block is in C.
//
// BlockMatcher is per thread (not thread-safe); ScanQuery is immutable and shared.
#pragma once

#include <cstdint>
#include <vector>

#include "ark/status.h"
#include "core/event.h"
#include "store/block_columns.h"
#include "store/block_format.h"

namespace ark::store {

struct ScanQuery {
  ScanQuery(const std::vector<CodeId>& codes, Seconds from, Seconds to);
  bool Has(CodeId c) const { return c < limit_ && ((bitmap_[c >> 6] >> (c & 63)) & 1); }
  bool empty() const { return empty_; }

  int32_t from_day, to_day;  // the window is [(from_day, from_sod), (to_day, to_sod))
  int32_t from_sod, to_sod;

 private:
  std::vector<uint64_t> bitmap_;
  uint64_t limit_ = 0;
  bool empty_ = false;
};

class BlockMatcher {
 public:
  explicit BlockMatcher(const ScanQuery& q) : q_(q) {}

  // Compiles the query against block `b` (its view must stay valid while the matcher uses it).
  Status Prepare(const BlockView& b);
  // True when no event of the block can match (codes or days).
  bool skip() const { return skip_; }
  // Whether local person j (0 <= j < num_persons) matches.
  bool PersonMatches(uint32_t j);
  // Number of matching persons in the block.
  uint64_t CountPersons();

 private:
  template <int kDayExcWidth>
  bool WindowMatches(uint32_t j, uint32_t s, uint32_t e);
  // Whether any event in [lo, hi) of local person j (whose events start at `start`) has a code in
  // the set.
  bool AnyMatch(uint32_t j, uint32_t start, uint32_t lo, uint32_t hi);
  bool EscapesMatch(uint32_t k, uint32_t count) const;  // any of escapes [k, k + count) in the set
  int32_t Tod(uint32_t i);

  const ScanQuery& q_;
  BlockView b_;
  alignas(64) uint8_t lut_[256] = {};  // by code byte: hot code in the set (255 -> 0)
  std::vector<uint8_t> cold_match_;    // by cold id: in the set
  std::vector<uint64_t> esc_match_;    // by escape index: its cold code is in the set
  bool any_cold_ = false;
  std::vector<CodeId> hot_, cold_;
  std::string tod_raw_;
  TodReader tod_;
  bool tod_loaded_ = false;
  bool tod_ok_ = false;
  bool skip_ = true;
  bool full_window_ = false;
  bool open_end_ = false;  // the block ends before the window does
};

}  // namespace ark::store
