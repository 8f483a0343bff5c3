// BlockView: parsing and decoding a block (block_format.h), plus the zstd helpers.
#include <zstd.h>

#include <memory>

#include "store/block_columns.h"
#include "store/block_format.h"

namespace ark::store {
namespace {

Status Bad(const std::string& what) { return Status::Corruption("block: " + what); }

struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

Status DecodeDictList(ByteReader* r, size_t count, std::vector<CodeId>* out) {
  out->resize(count);
  uint64_t prev = 0;
  for (size_t i = 0; i < count; ++i) {
    const uint64_t v = r->Varint();
    const uint64_t id = i == 0 ? v : prev + v;
    if (id > UINT32_MAX || (i > 0 && v == 0)) return Bad("dictionary not strictly increasing");
    (*out)[i] = static_cast<CodeId>(id);
    prev = id;
  }
  return r->ok() ? Status::OK() : Bad("dictionary truncated");
}

}  // namespace

Status ZstdCompress(std::string_view in, int level, std::string* out) {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxFree> cctx(ZSTD_createCCtx());
  out->resize(ZSTD_compressBound(in.size()));
  const size_t n = ZSTD_compressCCtx(cctx.get(), out->data(), out->size(), in.data(), in.size(), level);
  if (ZSTD_isError(n)) return Status::Internal(std::string("zstd compress: ") + ZSTD_getErrorName(n));
  out->resize(n);
  return Status::OK();
}

Status ZstdDecompress(std::string_view in, size_t raw_size, std::string* out) {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx(ZSTD_createDCtx());
  out->resize(raw_size);
  const size_t n = ZSTD_decompressDCtx(dctx.get(), out->data(), raw_size, in.data(), in.size());
  if (ZSTD_isError(n)) return Status::Corruption(std::string("zstd: ") + ZSTD_getErrorName(n));
  if (n != raw_size) return Status::Corruption("zstd: decompressed size mismatch");
  return Status::OK();
}

Result<BlockView> BlockView::Parse(const char* data, size_t size) {
  if (size < kBlockHeaderSize) return Bad("shorter than its header");
  if (LoadU32(data) != kBlockMagic) return Bad("bad magic");
  BlockView b;
  b.data_ = data;
  b.n_ = LoadU32(data + 4);
  b.np_ = LoadU32(data + 8);
  b.first_person_ = LoadU32(data + 12);
  b.base_day_ = static_cast<int32_t>(LoadU32(data + 16));
  b.max_day_ = static_cast<int32_t>(LoadU32(data + 20));
  b.firstday_bits_ = static_cast<uint8_t>(data[24]);
  b.off_bits_ = static_cast<uint8_t>(data[25]);
  b.excstart_bits_ = static_cast<uint8_t>(data[26]);
  b.exc_width_ = static_cast<uint8_t>(data[27]);
  b.n_hot_ = LoadU32(data + 28);
  b.n_cold_ = LoadU32(data + 32);
  b.n_exc_ = LoadU32(data + 36);
  b.has_tod_ = (LoadU32(data + 40) & 1) != 0;
  b.dexc_width_ = static_cast<uint8_t>(data[44]);
  b.dexcstart_bits_ = static_cast<uint8_t>(data[45]);
  b.n_dexc_ = LoadU32(data + 48);
  b.raw_tod_ = LoadU32(data + 52);
  b.raw_cold_ = LoadU32(data + 56);
  b.raw_persons_ = LoadU32(data + 60);
  for (int s = 0; s < kNumStreams; ++s) {
    b.off_[s] = LoadU32(data + kStreamTableOffset + 8 * s);
    b.size_[s] = LoadU32(data + kStreamTableOffset + 4 + 8 * s);
    if (b.off_[s] < kBlockHeaderSize || uint64_t{b.off_[s]} + b.size_[s] > size) {
      return Bad("stream " + std::to_string(s) + " out of bounds");
    }
  }
  if (b.firstday_bits_ > 32 || b.off_bits_ > 32 || b.excstart_bits_ > 32 || b.dexcstart_bits_ > 32) {
    return Bad("bit width over 32");
  }
  if ((b.exc_width_ != 2 && b.exc_width_ != 4) || (b.dexc_width_ != 2 && b.dexc_width_ != 4)) return Bad("escape width");
  if (b.n_hot_ > kMaxHot) return Bad("more than 255 hot codes");
  if (b.np_ == 0) return Bad("no persons");
  const uint64_t np1 = uint64_t{b.np_} + 1;
  if (b.size_[kCodes] != b.n_ || b.size_[kDayDeltas] != b.n_) return Bad("codes or day stream size");
  if (b.size_[kExc] < uint64_t{b.n_exc_} * b.exc_width_ + kBitPadding) return Bad("escape stream size");
  if (b.size_[kDayExc] < uint64_t{b.n_dexc_} * b.dexc_width_ + kBitPadding) return Bad("day escape stream size");
  if (b.size_[kFirstDays] < PackedSize(b.np_, b.firstday_bits_)) return Bad("first days stream size");
  if (b.size_[kOffsets] < PackedSize(np1, b.off_bits_)) return Bad("offsets stream size");
  if (b.size_[kExcStarts] < PackedSize(np1, b.excstart_bits_)) return Bad("escape starts size");
  if (b.size_[kDayExcStarts] < PackedSize(np1, b.dexcstart_bits_)) return Bad("day escape starts size");
  auto u8 = [&](int s) { return reinterpret_cast<const uint8_t*>(data + b.off_[s]); };
  b.codes_ = u8(kCodes);
  b.exc_ = data + b.off_[kExc];
  b.ddays_ = u8(kDayDeltas);
  b.dexc_ = data + b.off_[kDayExc];
  b.firstdays_ = u8(kFirstDays);
  b.offsets_ = u8(kOffsets);
  b.excstarts_ = u8(kExcStarts);
  b.dexcstarts_ = u8(kDayExcStarts);
  return b;
}

Status BlockView::Decompress(int s, uint32_t raw_size, std::string* out) const {
  return ZstdDecompress(Stream(s), raw_size, out);
}

Status BlockView::DecodeDict(std::vector<CodeId>* hot, std::vector<CodeId>* cold) const {
  ByteReader r(Stream(kDict));
  const uint64_t nh = r.Varint(), nc = r.Varint();
  if (!r.ok() || nh != n_hot_ || nc != n_cold_) return Bad("dictionary header");
  ARK_RETURN_IF_ERROR(DecodeDictList(&r, nh, hot));
  return DecodeDictList(&r, nc, cold);
}

Status BlockView::ColdOrder(std::vector<uint32_t>* order) const {
  thread_local std::vector<uint32_t> keys;
  keys.resize(n_);
  uint32_t k = 0;
  for (uint32_t i = 0; i < n_; ++i) {
    if (codes_[i] != kEscape) {
      if (codes_[i] >= n_hot_) return Bad("code byte beyond the dictionary");
      keys[i] = codes_[i];
    } else {
      if (k >= n_exc_ || Exc(k) >= n_cold_) return Bad("escape beyond the dictionary");
      keys[i] = kMaxHot + Exc(k++);
    }
  }
  if (k != n_exc_) return Bad("escape count");
  StableOrderByKey(keys, kMaxHot + n_cold_, order);
  return Status::OK();
}

Status BlockView::DecodeTod(std::vector<int32_t>* sod) const {
  if (!has_tod_) {
    sod->assign(n_, 0);
    return Status::OK();
  }
  std::string raw;
  ARK_RETURN_IF_ERROR(Decompress(kTod, raw_tod_, &raw));
  return store::DecodeTod(raw, n_, sod);
}

Status BlockView::TodStream(std::string* raw) const {
  raw->clear();
  return has_tod_ ? Decompress(kTod, raw_tod_, raw) : Status::OK();
}

Status BlockView::DecodeDays(std::vector<int32_t>* days) const {
  days->resize(n_);
  if (PersonStart(0) != 0 || UnpackBits(offsets_, np_, off_bits_) != n_ || ExcStart(np_) != n_exc_ ||
      DayExcStart(np_) != n_dexc_) {
    return Bad("person offsets do not cover the block");
  }
  uint32_t dk = 0;
  for (uint32_t j = 0; j < np_; ++j) {
    const uint32_t s = PersonStart(j), e = PersonStart(j + 1);
    if (e < s || DayExcStart(j) != dk) return Bad("person offsets not increasing");
    int64_t d = FirstDay(j);
    for (uint32_t i = s; i < e; ++i) {
      if (i > s) d += ddays_[i] != kEscape ? ddays_[i] : (dk < n_dexc_ ? DayExc(dk++) : UINT32_MAX);
      if (d > max_day_) return Bad("day after the block's last day");
      (*days)[i] = static_cast<int32_t>(d);
    }
  }
  if (dk != n_dexc_) return Bad("day escape count");
  return Status::OK();
}

Status BlockView::DecodeEvents(std::vector<Event>* out, bool ids) const {
  thread_local std::vector<CodeId> hot, cold;
  thread_local std::vector<uint32_t> order;
  thread_local std::vector<int32_t> days, sod;
  thread_local std::string raw;
  ARK_RETURN_IF_ERROR(DecodeDict(&hot, &cold));
  ARK_RETURN_IF_ERROR(ColdOrder(&order));
  ARK_RETURN_IF_ERROR(DecodeDays(&days));
  if (has_tod_) {
    ARK_RETURN_IF_ERROR(Decompress(kTod, raw_tod_, &raw));
    ARK_RETURN_IF_ERROR(store::DecodeTod(raw, n_, &sod));
  } else {
    sod.assign(n_, 0);
  }
  out->resize(n_);  // every field of every event is written below or by DecodeCold
  uint32_t k = 0;
  for (uint32_t j = 0; j < np_; ++j) {
    const uint32_t s = PersonStart(j), e = PersonStart(j + 1);
    if (ExcStart(j) != k) return Bad("escape starts");
    for (uint32_t i = s; i < e; ++i) {
      Event& ev = (*out)[i];
      ev.person = first_person_ + j;
      ev.code = codes_[i] != kEscape ? hot[codes_[i]] : cold[Exc(k++)];  // checked by ColdOrder
      ev.time = static_cast<Seconds>(days[i]) * kSecondsPerDay + sod[i];
      ev.end = kNoTime;
      ev.value = kNoValue;
      ev.unit = 0;
      ev.source = 0;
      ev.encounter = kNoEncounter;
      if (i > s && ev.time < (*out)[i - 1].time) return Bad("events not in time order");
    }
  }
  ARK_RETURN_IF_ERROR(Decompress(kCold, raw_cold_, &raw));
  return DecodeCold(raw, order, *out, ids);
}

Status BlockView::DecodePersons(std::vector<Person>* out) const {
  out->assign(np_, Person{});
  std::string raw;
  ARK_RETURN_IF_ERROR(Decompress(kPersons, raw_persons_, &raw));
  ARK_RETURN_IF_ERROR(store::DecodePersons(raw, *out));
  for (uint32_t j = 0; j < np_; ++j) (*out)[j].key = first_person_ + j;
  return Status::OK();
}

}  // namespace ark::store
