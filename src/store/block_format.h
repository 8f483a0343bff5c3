// Blocks: the unit of storage, skipping and parallel work in a segment file. A block holds the
// events of a run of consecutive persons, each person's events contiguous and in time order.
// Layout (docs/store-format.md, "Block"): a 160-byte header, then streams:
//
//   hot, read by scans without decompression           cold, zstd-compressed
//   dict       block-local code dictionary             tod      second of day
//   codes      1 byte per event: hot id, 255 = escape   cold     value, unit, end, encounter, source
//   exc        escaped events' cold ids, in order       persons  person attributes
//   ddays      1 byte per event: days since the person's previous event, 255 = escape
//   dexc       escaped day gaps, in order
//   firstday   bit-packed first day of each person - base_day
//   offsets    bit-packed first event of each person (+ end)
//   excstarts  bit-packed first code escape of each person (+ end)
//   dexcstarts bit-packed first day escape of each person (+ end)
//
// BlockBuilder (writer side) is not thread-safe; use one per thread. BlockView is a read-only view
// over bytes it does not own (a memory map); it is cheap to copy and safe to share.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ark/status.h"
#include "core/event.h"
#include "store/coding.h"

namespace ark::store {

constexpr uint32_t kBlockMagic = 0x424b5241;  // "ARKB"
constexpr size_t kBlockHeaderSize = 160;
constexpr size_t kStreamTableOffset = 64;
constexpr uint8_t kEscape = 255;
constexpr uint32_t kMaxHot = 255;

enum BlockStream : int {
  kDict = 0, kCodes, kExc, kDayDeltas, kDayExc, kFirstDays, kOffsets, kExcStarts, kDayExcStarts, kTod, kCold, kPersons,
  kNumStreams
};

// What a segment's footer records about each block (enough to skip it without touching it).
struct BlockInfo {
  uint32_t first_person = 0;
  uint32_t num_persons = 0;
  uint32_t num_events = 0;
  int32_t min_day = 0;  // of the block's events; min > max when the block has no events
  int32_t max_day = -1;
};

// Checks that an event can be stored: time within +-5.8 million years of 1970, end either kNoTime
// or in the same range. Returns InvalidArgument naming the problem.
Status CheckEventTimes(const Event& e);

class BlockBuilder {
 public:
  explicit BlockBuilder(int zstd_level) : zstd_level_(zstd_level) {}

  // Adds a person and copies its events (already validated: sorted, person == p.key, keys
  // consecutive across calls).
  void Add(const Person& p, std::span<const Event> events);
  size_t num_events() const { return events_.size(); }
  size_t num_persons() const { return persons_.size(); }

  // Encodes everything added since the last Finish into *out (replacing its contents).
  Status Finish(std::string* out, BlockInfo* info);

 private:
  int zstd_level_;
  std::vector<Person> persons_;
  std::vector<Event> events_;
  std::vector<uint32_t> starts_{0};
  std::vector<uint32_t> code_count_;   // by global code id, scratch
  std::vector<uint32_t> local_of_;     // by global code id, scratch
};

class BlockView {
 public:
  // Validates the header and that every stream lies inside [data, data + size).
  static Result<BlockView> Parse(const char* data, size_t size);

  uint32_t num_events() const { return n_; }
  uint32_t num_persons() const { return np_; }
  uint32_t first_person() const { return first_person_; }
  int32_t base_day() const { return base_day_; }
  int32_t max_day() const { return max_day_; }
  uint32_t num_hot() const { return n_hot_; }
  uint32_t num_cold() const { return n_cold_; }
  uint32_t num_escapes() const { return n_exc_; }
  const char* escapes() const { return exc_; }
  int escape_width() const { return exc_width_; }
  bool has_tod() const { return has_tod_; }

  const uint8_t* codes() const { return codes_; }
  // First event of local person j (0 <= j <= num_persons), clamped to num_events.
  uint32_t PersonStart(uint32_t j) const {
    const uint32_t v = UnpackBits(offsets_, j, off_bits_);
    return v < n_ ? v : n_;
  }
  // Index into the code escape list of local person j's first escaped code.
  uint32_t ExcStart(uint32_t j) const { return UnpackBits(excstarts_, j, excstart_bits_); }
  // Cold id of code escape k (clamped: 0 when k is out of range).
  uint32_t Exc(uint32_t k) const {
    if (k >= n_exc_) return 0;
    return exc_width_ == 2 ? LoadU16(exc_ + 2 * k) : LoadU32(exc_ + 4 * k);
  }
  // Day gaps: the day of a person's first event is FirstDay(j); each later event adds its
  // day_deltas() byte, or for the byte 255 the next entry of the day escape list.
  const uint8_t* day_deltas() const { return ddays_; }
  int32_t FirstDay(uint32_t j) const { return base_day_ + static_cast<int32_t>(UnpackBits(firstdays_, j, firstday_bits_)); }
  uint32_t DayExcStart(uint32_t j) const { return UnpackBits(dexcstarts_, j, dexcstart_bits_); }
  const char* day_exc() const { return dexc_; }
  int day_exc_width() const { return dexc_width_; }
  uint32_t num_day_exc() const { return n_dexc_; }
  // Day escape k (clamped: 0 when out of range).
  uint32_t DayExc(uint32_t k) const {
    if (k >= n_dexc_) return 0;
    return dexc_width_ == 2 ? LoadU16(dexc_ + 2 * k) : LoadU32(dexc_ + 4 * k);
  }
  // The local code order used by the cold streams: events sorted by local code id (hot byte, or
  // 255 + cold id), ties in event order. Needs the dictionary sizes and escapes only.
  Status ColdOrder(std::vector<uint32_t>* order) const;

  // The block's code dictionary: hot[l] is the global code of byte l; cold[c] of cold id c.
  Status DecodeDict(std::vector<CodeId>* hot, std::vector<CodeId>* cold) const;
  // Second of day of every event (all zero when the block has none).
  Status DecodeTod(std::vector<int32_t>* sod) const;
  // The decompressed tod stream (block_columns.h), "" when the block has no time of day.
  Status TodStream(std::string* raw) const;
  // Day of every event.
  Status DecodeDays(std::vector<int32_t>* days) const;
  // All events, in block order, with global code ids.
  // With `ids` false, units, sources and encounters are left 0 (cheaper; see DecodeCold).
  Status DecodeEvents(std::vector<Event>* out, bool ids = true) const;
  Status DecodePersons(std::vector<Person>* out) const;

 private:
  std::string_view Stream(int s) const { return {data_ + off_[s], size_[s]}; }
  Status Decompress(int s, uint32_t raw_size, std::string* out) const;

  const char* data_ = nullptr;
  uint32_t n_ = 0, np_ = 0, first_person_ = 0;
  int32_t base_day_ = 0, max_day_ = 0;
  int firstday_bits_ = 0, off_bits_ = 0, excstart_bits_ = 0, exc_width_ = 2;
  int dexc_width_ = 2, dexcstart_bits_ = 0;
  uint32_t n_hot_ = 0, n_cold_ = 0, n_exc_ = 0, n_dexc_ = 0;
  bool has_tod_ = false;
  uint32_t off_[kNumStreams] = {};
  uint32_t size_[kNumStreams] = {};
  uint32_t raw_tod_ = 0, raw_cold_ = 0, raw_persons_ = 0;
  const uint8_t* codes_ = nullptr;
  const char* exc_ = nullptr;
  const uint8_t* ddays_ = nullptr;
  const char* dexc_ = nullptr;
  const uint8_t* firstdays_ = nullptr;
  const uint8_t* offsets_ = nullptr;
  const uint8_t* excstarts_ = nullptr;
  const uint8_t* dexcstarts_ = nullptr;
};

// zstd helpers with per-thread contexts.
Status ZstdCompress(std::string_view in, int level, std::string* out);
Status ZstdDecompress(std::string_view in, size_t raw_size, std::string* out);

}  // namespace ark::store
