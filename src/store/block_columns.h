// The cold columns of a block (before zstd), see docs/store-format.md "Cold streams":
//   tod     second of day: minutes (u16) when all are whole minutes, else seconds (u24), split
//           into byte planes
//   cold    values (scaled integers or raw doubles), units, end times, sources, encounters
//   persons person attributes, column by column
// Columns other than encounters are written in `order` (events grouped by code, see
// BlockView::ColdOrder), so that a code's units, sources, values and times of day sit together
// and compress well. Encoders append to a string; decoders check bounds and return Corruption on
// malformed input. Pure functions, thread-safe.
#pragma once

#include <algorithm>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ark/status.h"
#include "core/event.h"

namespace ark::store {

// Returns false (and appends nothing) when every second of day is zero.
bool EncodeTod(std::span<const int32_t> sod, std::string* out);
Status DecodeTod(std::string_view in, size_t n, std::vector<int32_t>* sod);

// Random access to a decompressed tod stream: O(n / 64) to set up (a rank directory over the
// bitmap), O(1) per lookup. Keeps a view of `in`, which must outlive it.
class TodReader {
 public:
  Status Init(std::string_view in, size_t n);
  int32_t Get(size_t i) const {
    const uint64_t word = Word(i >> 6);
    if (!((word >> (i & 63)) & 1)) return 0;
    const size_t r = rank_[i >> 6] + static_cast<size_t>(__builtin_popcountll(word & ((uint64_t{1} << (i & 63)) - 1)));
    uint32_t v = planes_[r] | static_cast<uint32_t>(planes_[count_ + r]) << 8;
    if (unit_ == 1) v |= static_cast<uint32_t>(planes_[2 * count_ + r]) << 16;
    return static_cast<int32_t>(v * unit_);
  }

 private:
  uint64_t Word(size_t w) const {
    uint64_t x = 0;
    std::memcpy(&x, bitmap_ + 8 * w, std::min<size_t>(8, bitmap_bytes_ - 8 * w));
    return x;
  }
  const uint8_t* bitmap_ = nullptr;
  size_t bitmap_bytes_ = 0;
  const uint8_t* planes_ = nullptr;
  size_t count_ = 0;
  uint32_t unit_ = 60;
  std::vector<uint32_t> rank_;
};

// Encodes value, unit, end, source and encounter of `events` (time must already be set: end is
// stored relative to it).
void EncodeCold(std::span<const Event> events, std::span<const uint32_t> order, std::string* out);
// Fills value, unit, end, source and encounter of `events` whose time is already set.
// With `ids` false, units, sources and encounters are skipped (left 0) and not validated.
Status DecodeCold(std::string_view in, std::span<const uint32_t> order, std::span<Event> events, bool ids = true);

// Sorts event indices [0, n) by key (0 <= key < num_keys), stably: a counting sort.
void StableOrderByKey(std::span<const uint32_t> keys, uint32_t num_keys, std::vector<uint32_t>* order);

void EncodePersons(std::span<const Person> persons, std::string* out);
// Fills every attribute but the key of persons[0..n).
Status DecodePersons(std::string_view in, std::span<Person> persons);

// Smallest number of decimals e in 0..4 such that value == llround(value * 10^e) / 10^e exactly
// (bit for bit), or -1 if there is none (then the value is stored as a raw double).
int ExactDecimals(double value);

}  // namespace ark::store
