// BlockBuilder: encodes a run of persons and their events into one block (block_format.h).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "store/block_format.h"
#include "store/block_columns.h"

namespace ark::store {
namespace {

constexpr Seconds kTimeLimit = ((Seconds{1} << 31) - 2) * kSecondsPerDay;

void AppendStream(std::string* out, int s, std::string_view bytes) {
  while (out->size() % 8 != 0) out->push_back('\0');
  StoreU32(out->data() + kStreamTableOffset + 8 * s, static_cast<uint32_t>(out->size()));
  StoreU32(out->data() + kStreamTableOffset + 4 + 8 * s, static_cast<uint32_t>(bytes.size()));
  out->append(bytes);
}

void EncodeDictList(std::string* dst, const std::vector<CodeId>& ids) {
  CodeId prev = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    PutVarint(dst, i == 0 ? ids[i] : ids[i] - prev);
    prev = ids[i];
  }
}

}  // namespace

Status CheckEventTimes(const Event& e) {
  if (e.time <= -kTimeLimit || e.time >= kTimeLimit) {
    return Status::InvalidArgument("event time " + std::to_string(e.time) + " is out of range");
  }
  if (e.end != kNoTime && (e.end <= -kTimeLimit || e.end >= kTimeLimit)) {
    return Status::InvalidArgument("event end time " + std::to_string(e.end) + " is out of range");
  }
  return Status::OK();
}

void BlockBuilder::Add(const Person& p, std::span<const Event> events) {
  persons_.push_back(p);
  events_.insert(events_.end(), events.begin(), events.end());
  starts_.push_back(static_cast<uint32_t>(events_.size()));
}

Status BlockBuilder::Finish(std::string* out, BlockInfo* info) {
  const uint32_t n = static_cast<uint32_t>(events_.size());
  const uint32_t np = static_cast<uint32_t>(persons_.size());
  if (np == 0) return Status::Internal("empty block");

  // Local dictionary: the 255 most frequent codes are "hot" (one byte), the rest escape.
  std::vector<CodeId> distinct;
  for (const Event& e : events_) {
    if (e.code >= code_count_.size()) {
      code_count_.resize(std::max<size_t>(e.code + 1, code_count_.size() * 2), 0);
      local_of_.resize(code_count_.size(), 0);
    }
    if (code_count_[e.code]++ == 0) distinct.push_back(e.code);
  }
  std::sort(distinct.begin(), distinct.end(), [&](CodeId a, CodeId b) {
    return code_count_[a] != code_count_[b] ? code_count_[a] > code_count_[b] : a < b;
  });
  const size_t n_hot = std::min<size_t>(distinct.size(), kMaxHot);
  std::vector<CodeId> hot(distinct.begin(), distinct.begin() + n_hot);
  std::vector<CodeId> cold(distinct.begin() + n_hot, distinct.end());
  std::sort(hot.begin(), hot.end());
  std::sort(cold.begin(), cold.end());
  for (size_t i = 0; i < hot.size(); ++i) local_of_[hot[i]] = static_cast<uint32_t>(i);
  for (size_t i = 0; i < cold.size(); ++i) local_of_[cold[i]] = static_cast<uint32_t>(kMaxHot + 1 + i);
  for (CodeId c : distinct) code_count_[c] = 0;

  std::string dict;
  PutVarint(&dict, hot.size());
  PutVarint(&dict, cold.size());
  EncodeDictList(&dict, hot);
  EncodeDictList(&dict, cold);

  // Codes, code escapes, day gaps, day escapes, per-person starts.
  std::string codes(n, '\0'), ddays(n, '\0');
  std::vector<uint32_t> exc, dexc, local(n);
  std::vector<uint32_t> exc_starts{0}, dexc_starts{0}, first_days(np, 0);
  std::vector<int32_t> sod(n);
  int32_t min_day = INT32_MAX, max_day = INT32_MIN;
  for (uint32_t i = 0; i < n; ++i) {
    const int32_t d = DayOf(events_[i].time);
    min_day = std::min(min_day, d);
    max_day = std::max(max_day, d);
    sod[i] = static_cast<int32_t>(events_[i].time - static_cast<Seconds>(d) * kSecondsPerDay);
  }
  const int32_t base_day = n > 0 ? min_day : 0;
  for (uint32_t j = 0; j < np; ++j) {
    int32_t prev = 0;
    for (uint32_t i = starts_[j]; i < starts_[j + 1]; ++i) {
      const uint32_t l = local_of_[events_[i].code];
      local[i] = l <= kMaxHot - 1 ? l : l - 1;  // cold order key: hot byte, or 255 + cold id
      if (l <= kMaxHot - 1) {
        codes[i] = static_cast<char>(l);
      } else {
        codes[i] = static_cast<char>(kEscape);
        exc.push_back(l - (kMaxHot + 1));
      }
      const int32_t d = DayOf(events_[i].time);
      if (i == starts_[j]) {
        first_days[j] = static_cast<uint32_t>(static_cast<int64_t>(d) - base_day);
      } else {
        const uint32_t gap = static_cast<uint32_t>(static_cast<int64_t>(d) - prev);
        if (gap < kEscape) {
          ddays[i] = static_cast<char>(gap);
        } else {
          ddays[i] = static_cast<char>(kEscape);
          dexc.push_back(gap);
        }
      }
      prev = d;
    }
    exc_starts.push_back(static_cast<uint32_t>(exc.size()));
    dexc_starts.push_back(static_cast<uint32_t>(dexc.size()));
  }
  const int exc_width = cold.size() <= 65536 ? 2 : 4;
  std::string exc_bytes, dexc_bytes;
  for (uint32_t c : exc) exc_width == 2 ? PutU16(&exc_bytes, static_cast<uint16_t>(c)) : PutU32(&exc_bytes, c);
  exc_bytes.append(kBitPadding, '\0');
  uint32_t max_dexc = 0;
  for (uint32_t g : dexc) max_dexc = std::max(max_dexc, g);
  const int dexc_width = max_dexc <= 0xffff ? 2 : 4;
  for (uint32_t g : dexc) dexc_width == 2 ? PutU16(&dexc_bytes, static_cast<uint16_t>(g)) : PutU32(&dexc_bytes, g);
  dexc_bytes.append(kBitPadding, '\0');

  const int firstday_bits = n > 0 ? BitsFor(static_cast<uint32_t>(static_cast<int64_t>(max_day) - base_day)) : 0;
  const int off_bits = BitsFor(n);
  const int excstart_bits = BitsFor(exc.size());
  const int dexcstart_bits = BitsFor(dexc.size());
  std::string firstdays, offsets, excstarts, dexcstarts;
  PackBits(&firstdays, first_days.data(), np, firstday_bits);
  PackBits(&offsets, starts_.data(), np + 1, off_bits);
  PackBits(&excstarts, exc_starts.data(), np + 1, excstart_bits);
  PackBits(&dexcstarts, dexc_starts.data(), np + 1, dexcstart_bits);

  // Cold streams, grouped by code.
  std::vector<uint32_t> order;
  StableOrderByKey(local, static_cast<uint32_t>(kMaxHot + cold.size()), &order);
  std::string tod_raw, cold_raw, persons_raw, tod_z, cold_z, persons_z;
  const bool has_tod = EncodeTod(sod, &tod_raw);
  EncodeCold(events_, order, &cold_raw);
  EncodePersons(persons_, &persons_raw);
  if (has_tod) ARK_RETURN_IF_ERROR(ZstdCompress(tod_raw, zstd_level_, &tod_z));
  ARK_RETURN_IF_ERROR(ZstdCompress(cold_raw, zstd_level_, &cold_z));
  ARK_RETURN_IF_ERROR(ZstdCompress(persons_raw, zstd_level_, &persons_z));

  out->assign(kBlockHeaderSize, '\0');
  char* h = out->data();
  StoreU32(h + 0, kBlockMagic);
  StoreU32(h + 4, n);
  StoreU32(h + 8, np);
  StoreU32(h + 12, persons_[0].key);
  StoreU32(h + 16, static_cast<uint32_t>(base_day));
  StoreU32(h + 20, static_cast<uint32_t>(n > 0 ? max_day : -1));
  h[24] = static_cast<char>(firstday_bits);
  h[25] = static_cast<char>(off_bits);
  h[26] = static_cast<char>(excstart_bits);
  h[27] = static_cast<char>(exc_width);
  StoreU32(h + 28, static_cast<uint32_t>(hot.size()));
  StoreU32(h + 32, static_cast<uint32_t>(cold.size()));
  StoreU32(h + 36, static_cast<uint32_t>(exc.size()));
  StoreU32(h + 40, has_tod ? 1u : 0u);
  h[44] = static_cast<char>(dexc_width);
  h[45] = static_cast<char>(dexcstart_bits);
  StoreU32(h + 48, static_cast<uint32_t>(dexc.size()));
  StoreU32(h + 52, static_cast<uint32_t>(tod_raw.size()));
  StoreU32(h + 56, static_cast<uint32_t>(cold_raw.size()));
  StoreU32(h + 60, static_cast<uint32_t>(persons_raw.size()));
  AppendStream(out, kDict, dict);
  AppendStream(out, kCodes, codes);
  AppendStream(out, kExc, exc_bytes);
  AppendStream(out, kDayDeltas, ddays);
  AppendStream(out, kDayExc, dexc_bytes);
  AppendStream(out, kFirstDays, firstdays);
  AppendStream(out, kOffsets, offsets);
  AppendStream(out, kExcStarts, excstarts);
  AppendStream(out, kDayExcStarts, dexcstarts);
  AppendStream(out, kTod, tod_z);
  AppendStream(out, kCold, cold_z);
  AppendStream(out, kPersons, persons_z);
  if (out->size() > UINT32_MAX) return Status::InvalidArgument("block larger than 4 GiB");

  info->first_person = persons_[0].key;
  info->num_persons = np;
  info->num_events = n;
  info->min_day = n > 0 ? min_day : 0;
  info->max_day = n > 0 ? max_day : -1;

  persons_.clear();
  events_.clear();
  starts_.assign(1, 0);
  return Status::OK();
}

}  // namespace ark::store
