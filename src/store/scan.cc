#include "store/scan.h"

#include <emmintrin.h>

#include <algorithm>
#include <cstring>

#include "store/parallel.h"
#include "store/store.h"
#include "store/store_state.h"

namespace ark::store {
namespace {
constexpr Seconds kTimeClamp = ((Seconds{1} << 31) - 2) * kSecondsPerDay;
}

ScanQuery::ScanQuery(const std::vector<CodeId>& codes, Seconds from, Seconds to) {
  from = std::max(from, -kTimeClamp);
  to = std::min(to, kTimeClamp);
  empty_ = from >= to || codes.empty();
  from_day = DayOf(from);
  to_day = DayOf(to);
  from_sod = static_cast<int32_t>(from - Seconds{from_day} * kSecondsPerDay);
  to_sod = static_cast<int32_t>(to - Seconds{to_day} * kSecondsPerDay);
  for (CodeId c : codes) limit_ = std::max<uint64_t>(limit_, uint64_t{c} + 1);
  bitmap_.assign((limit_ + 63) / 64, 0);
  for (CodeId c : codes) bitmap_[c >> 6] |= uint64_t{1} << (c & 63);
}

namespace {

inline uint64_t Load8(const uint8_t* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
// High bit of each byte of w that is 0xFF, exactly (no borrow between bytes).
inline uint64_t FFBytes(uint64_t w) {
  const uint64_t x = ~w;
  const uint64_t y = (x & 0x7f7f7f7f7f7f7f7full) + 0x7f7f7f7f7f7f7f7full;
  return ~(y | x | 0x7f7f7f7f7f7f7f7full);
}
// Sum of the 8 bytes of w.
inline uint32_t ByteSum(uint64_t w) {
  const uint64_t pairs = (w & 0x00ff00ff00ff00ffull) + ((w >> 8) & 0x00ff00ff00ff00ffull);
  return static_cast<uint32_t>((pairs * 0x0001000100010001ull) >> 48);
}
// Of the 8 day gaps in w (events i+1..i+8), how many leading events stay below `limit` days
// after the current one: the count of prefix sums < limit (prefix sums are non-decreasing).
inline int LeadingBelow(uint64_t w, int32_t limit) {
  __m128i v = _mm_unpacklo_epi8(_mm_cvtsi64_si128(static_cast<int64_t>(w)), _mm_setzero_si128());
  v = _mm_add_epi16(v, _mm_slli_si128(v, 2));
  v = _mm_add_epi16(v, _mm_slli_si128(v, 4));
  v = _mm_add_epi16(v, _mm_slli_si128(v, 8));  // prefix sums, at most 8 * 254
  const __m128i below = _mm_cmplt_epi16(v, _mm_set1_epi16(static_cast<int16_t>(std::min(limit, 32767))));
  return __builtin_popcount(static_cast<unsigned>(_mm_movemask_epi8(below))) / 2;
}
// Number of 0xFF bytes in p[0, n).
inline uint32_t CountEscapes(const uint8_t* p, uint32_t n) {
  uint32_t count = 0, i = 0;
  for (; i + 8 <= n; i += 8) count += static_cast<uint32_t>(__builtin_popcountll(FFBytes(Load8(p + i))));
  for (; i < n; ++i) count += p[i] == kEscape;
  return count;
}

}  // namespace

Status BlockMatcher::Prepare(const BlockView& b) {
  b_ = b;
  skip_ = true;
  tod_loaded_ = false;
  if (q_.empty() || b.num_events() == 0 || b.max_day() < q_.from_day || b.base_day() > q_.to_day) return Status::OK();
  ARK_RETURN_IF_ERROR(b.DecodeDict(&hot_, &cold_));
  bool any = false;
  std::fill(std::begin(lut_), std::end(lut_), 0);
  for (size_t l = 0; l < hot_.size(); ++l) {
    lut_[l] = q_.Has(hot_[l]) ? 1 : 0;
    any |= lut_[l] != 0;
  }
  any_cold_ = false;
  cold_match_.assign(cold_.size() + 1, 0);  // + 1: out-of-range ids (corrupt data) map there
  for (size_t l = 0; l < cold_.size(); ++l) {
    cold_match_[l] = q_.Has(cold_[l]) ? 1 : 0;
    any_cold_ |= cold_match_[l] != 0;
  }
  if (any_cold_) {
    const uint32_t n_exc = b.num_escapes();
    const uint32_t limit = static_cast<uint32_t>(cold_.size());
    esc_match_.assign(n_exc / 64 + 2, 0);
    const uint8_t* cm = cold_match_.data();
    auto build = [&](auto load) {
      for (uint32_t w = 0; w * 64 < n_exc; ++w) {
        uint64_t bits = 0;
        const uint32_t end = std::min(n_exc, w * 64 + 64);
        for (uint32_t k = w * 64; k < end; ++k) bits |= uint64_t{cm[std::min(load(k), limit)]} << (k & 63);
        esc_match_[w] = bits;
      }
    };
    if (b.escape_width() == 2) {
      build([&](uint32_t k) -> uint32_t { return LoadU16(b.escapes() + 2 * k); });
    } else {
      build([&](uint32_t k) -> uint32_t { return LoadU32(b.escapes() + 4 * k); });
    }
  }
  if (!any && !any_cold_) return Status::OK();
  skip_ = false;
  const bool starts_inside = b.base_day() > q_.from_day || (b.base_day() == q_.from_day && q_.from_sod == 0);
  open_end_ = b.max_day() < q_.to_day;
  full_window_ = starts_inside && open_end_;
  return Status::OK();
}

int32_t BlockMatcher::Tod(uint32_t i) {
  if (!b_.has_tod()) return 0;
  if (!tod_loaded_) {
    // A decoding error means corruption that Verify reports; the times then count as midnight.
    tod_ok_ = b_.TodStream(&tod_raw_).ok() && tod_.Init(tod_raw_, b_.num_events()).ok();
    tod_loaded_ = true;
  }
  return tod_ok_ ? tod_.Get(i) : 0;
}

bool BlockMatcher::EscapesMatch(uint32_t k, uint32_t count) const {
  if (count == 0) return false;
  const size_t word = k >> 6;
  if (word + 1 >= esc_match_.size()) return false;  // out of range: only with corrupt data
  const uint32_t shift = k & 63;
  uint64_t bits = esc_match_[word] >> shift;
  if (shift != 0) bits |= esc_match_[word + 1] << (64 - shift);
  return (bits & ((count >= 64 ? 0 : (uint64_t{1} << count)) - 1)) != 0;
}

bool BlockMatcher::AnyMatch(uint32_t j, uint32_t start, uint32_t lo, uint32_t hi) {
  const uint8_t* c = b_.codes();
  const uint8_t* lut = lut_;
  uint32_t i = lo;
  if (!any_cold_) {
    for (; i + 8 <= hi; i += 8) {
      if (lut[c[i]] | lut[c[i + 1]] | lut[c[i + 2]] | lut[c[i + 3]] | lut[c[i + 4]] | lut[c[i + 5]] |
          lut[c[i + 6]] | lut[c[i + 7]]) {
        return true;
      }
    }
    for (; i < hi; ++i) {
      if (lut[c[i]]) return true;
    }
    return false;
  }
  // Some cold codes are in the set: also follow the person's escapes, 8 bytes at a time.
  uint32_t k = b_.ExcStart(j) + CountEscapes(c + start, lo - start);
  for (; i + 8 <= hi; i += 8) {
    if (lut[c[i]] | lut[c[i + 1]] | lut[c[i + 2]] | lut[c[i + 3]] | lut[c[i + 4]] | lut[c[i + 5]] |
        lut[c[i + 6]] | lut[c[i + 7]]) {
      return true;
    }
    const uint64_t esc = FFBytes(Load8(c + i));
    if (esc != 0) {
      const uint32_t n = static_cast<uint32_t>(__builtin_popcountll(esc));
      if (EscapesMatch(k, n)) return true;
      k += n;
    }
  }
  for (; i < hi; ++i) {
    if (c[i] == kEscape) {
      if (EscapesMatch(k++, 1)) return true;
    } else if (lut[c[i]]) {
      return true;
    }
  }
  return false;
}

// Walks person j's events in time order from its first day, summing day gaps 8 at a time while
// no escape is among them, to find the slice [lo, hi) of events inside the window; then checks
// the slice's codes.
template <int kDayExcWidth>
bool BlockMatcher::WindowMatches(uint32_t j, uint32_t s, uint32_t e) {
  int32_t d = b_.FirstDay(j);
  if (d > q_.to_day) return false;
  const uint8_t* dd = b_.day_deltas();
  const char* dx = b_.day_exc();
  const uint32_t n_dexc = b_.num_day_exc();
  uint32_t dk = std::min(b_.DayExcStart(j), n_dexc);
  uint32_t i = s;
  auto step = [&]() __attribute__((always_inline)) {  // to event i (incremented) from i - 1
    const uint32_t x = dd[i];
    const uint32_t k = std::min(dk, n_dexc);  // stays inside the padded list even if corrupt
    const uint32_t ex = kDayExcWidth == 2 ? LoadU16(dx + 2 * k) : LoadU32(dx + 4 * k);
    const bool esc = x == kEscape;
    d += static_cast<int32_t>(esc ? ex : x);
    dk += esc;
  };
  // Moves to the first event whose day is >= target; false if there is none. Eight gaps at a
  // time: whole chunks are skipped with a byte sum, the chunk that reaches the target is
  // resolved with SIMD prefix sums; chunks with an escape go event by event.
  auto walk_to = [&](int32_t target) __attribute__((always_inline)) -> bool {
    while (d < target) {
      if (i + 8 < e) {
        const uint64_t w = Load8(dd + i + 1);
        if (FFBytes(w) == 0) {
          const int m = LeadingBelow(w, target - d);
          if (m == 8) {
            d += static_cast<int32_t>(ByteSum(w));
            i += 8;
            continue;
          }
          d += static_cast<int32_t>(ByteSum(w & (~uint64_t{0} >> (8 * (7 - m)))));
          i += static_cast<uint32_t>(m) + 1;
          return true;
        }
      }
      if (++i >= e) return false;
      step();
    }
    return true;
  };
  if (!walk_to(q_.from_day)) return false;
  if (q_.from_sod > 0) {
    while (d == q_.from_day && Tod(i) < q_.from_sod) {
      if (++i >= e) return false;
      step();
    }
  }
  const uint32_t lo = i;
  uint32_t hi = e;
  if (!open_end_) {
    hi = walk_to(q_.to_day) ? i : e;
    if (hi < e && q_.to_sod > 0) {
      while (d == q_.to_day && Tod(i) < q_.to_sod) {
        if (++i >= e) break;
        step();
      }
      hi = std::min(i, e);
    }
  }
  return lo < hi && AnyMatch(j, s, lo, hi);
}

bool BlockMatcher::PersonMatches(uint32_t j) {
  if (skip_) return false;
  const uint32_t s = b_.PersonStart(j), e = b_.PersonStart(j + 1);
  if (s >= e) return false;
  if (full_window_) return AnyMatch(j, s, s, e);
  return b_.day_exc_width() == 2 ? WindowMatches<2>(j, s, e) : WindowMatches<4>(j, s, e);
}

uint64_t BlockMatcher::CountPersons() {
  if (skip_) return 0;
  uint64_t n = 0;
  const uint32_t np = b_.num_persons();
  for (uint32_t j = 0; j < np; ++j) n += PersonMatches(j) ? 1 : 0;
  return n;
}

}  // namespace ark::store

namespace ark {

Result<uint64_t> Store::CountPersonsWithAnyCode(const std::vector<CodeId>& codes, Seconds from, Seconds to,
                                                int threads) const {
  const store::ScanQuery q(codes, from, to);
  if (q.empty()) return uint64_t{0};
  std::shared_ptr<const store::Version> v;
  std::vector<PersonKey> delta_hits;
  {
    std::shared_lock l(mu_);
    v = state_->version;
    for (const Event& e : state_->delta.events) {
      if (q.Has(e.code) && e.time >= from && e.time < to) delta_hits.push_back(e.person);
    }
  }
  std::sort(delta_hits.begin(), delta_hits.end());
  delta_hits.erase(std::unique(delta_hits.begin(), delta_hits.end()), delta_hits.end());

  const auto& blocks = v->blocks();
  std::vector<uint32_t> candidates;
  for (uint32_t i = 0; i < blocks.size(); ++i) {
    const store::BlockRef& b = blocks[i];
    if (b.num_events > 0 && b.max_day >= q.from_day && b.min_day <= q.to_day) candidates.push_back(i);
  }
  struct alignas(64) Worker {
    uint64_t count = 0;
    std::unique_ptr<store::BlockMatcher> matcher;
  };
  std::vector<Worker> workers(static_cast<size_t>(std::max(threads, 1)));
  for (Worker& w : workers) w.matcher = std::make_unique<store::BlockMatcher>(q);
  ARK_RETURN_IF_ERROR(store::ParallelFor(candidates.size(), threads, [&](size_t i, int w) -> Status {
    ARK_ASSIGN_OR_RETURN(store::BlockView view, v->Block(blocks[candidates[i]]));
    ARK_RETURN_IF_ERROR(workers[w].matcher->Prepare(view));
    workers[w].count += workers[w].matcher->CountPersons();
    return Status::OK();
  }));
  uint64_t total = 0;
  for (const Worker& w : workers) total += w.count;

  // Persons matched by the delta count unless the version already matched them.
  store::BlockMatcher m(q);
  int64_t prepared = -1;
  for (PersonKey p : delta_hits) {
    const int64_t b = v->FindBlock(p);
    if (b < 0) {
      ++total;
      continue;
    }
    const store::BlockRef& ref = blocks[static_cast<size_t>(b)];
    if (b != prepared) {
      ARK_ASSIGN_OR_RETURN(store::BlockView view, v->Block(ref));
      ARK_RETURN_IF_ERROR(m.Prepare(view));
      prepared = b;
    }
    if (!m.PersonMatches(p - ref.first_person)) ++total;
  }
  return total;
}

}  // namespace ark
