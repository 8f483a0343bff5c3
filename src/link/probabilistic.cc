#include "link/probabilistic.h"

#include "core/fs.h"
#include "link/cluster.h"
#include "link/pair_spill.h"

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <numeric>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <xxhash.h>

namespace ark {
namespace {

constexpr uint8_t kNull = 255;

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<std::string> LevelLabels(FieldKind k, bool encoded) {
  if (encoded) {
    switch (k) {
      case FieldKind::kName:
      case FieldKind::kString: return {"dice>=0.9", "dice>=0.75", "dice>=0.6", "dice>=0.45", "else"};
      case FieldKind::kDate:
      case FieldKind::kPostcode: return {"dice>=0.93", "dice>=0.8", "dice>=0.6", "else"};
      case FieldKind::kExact: return {"equal", "else"};
    }
  }
  switch (k) {
    case FieldKind::kName:
    case FieldKind::kString: return {"exact", "jw>=0.92", "jw>=0.88", "jw>=0.7", "else"};
    case FieldKind::kDate: return {"exact", "one part differs or day/month swapped", "same year", "else"};
    case FieldKind::kPostcode: return {"exact", "one character differs", "same district", "else"};
    case FieldKind::kExact: return {"exact", "else"};
  }
  return {};
}

uint8_t PlainLevel(FieldKind k, const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return kNull;
  if (a == b) return 0;
  switch (k) {
    case FieldKind::kName:
    case FieldKind::kString: {
      double s = JaroWinkler(a, b);
      return s >= 0.92 ? 1 : s >= 0.88 ? 2 : s >= 0.7 ? 3 : 4;
    }
    case FieldKind::kDate: {
      if (a.size() != 8 || b.size() != 8) return 3;
      int diff = (a.compare(0, 4, b, 0, 4) != 0) + (a.compare(4, 2, b, 4, 2) != 0) + (a.compare(6, 2, b, 6, 2) != 0);
      bool swap = a.compare(0, 4, b, 0, 4) == 0 && a.compare(4, 2, b, 6, 2) == 0 && a.compare(6, 2, b, 4, 2) == 0;
      if (diff <= 1 || swap) return 1;
      return a.compare(0, 4, b, 0, 4) == 0 ? 2 : 3;
    }
    case FieldKind::kPostcode: {
      if (a.size() == b.size()) {
        int d = 0;
        for (size_t i = 0; i < a.size(); ++i) d += a[i] != b[i];
        if (d <= 1) return 1;
      }
      size_t pa = a.size() > 4 ? a.size() - 3 : a.size() > 2 ? a.size() - 2 : a.size();
      size_t pb = b.size() > 4 ? b.size() - 3 : b.size() > 2 ? b.size() - 2 : b.size();
      return pa == pb && a.compare(0, pa, b, 0, pb) == 0 ? 2 : 3;
    }
    case FieldKind::kExact: return 1;
  }
  return kNull;
}

uint8_t EncodedLevel(FieldKind k, const uint64_t* a, const uint64_t* b) {
  double d = Dice(a, b, kFieldWords);
  switch (k) {
    case FieldKind::kName:
    case FieldKind::kString: return d >= 0.9 ? 0 : d >= 0.75 ? 1 : d >= 0.6 ? 2 : d >= 0.45 ? 3 : 4;
    case FieldKind::kDate:
    case FieldKind::kPostcode: return d >= 0.93 ? 0 : d >= 0.8 ? 1 : d >= 0.6 ? 2 : 3;
    case FieldKind::kExact: return d >= 0.8 ? 0 : 1;
  }
  return kNull;
}

// Record i's CLK, from LinkInput::rows or LinkInput::clk. REQUIRES: HasClks(in).
class ClkView {
 public:
  explicit ClkView(const LinkInput& in)
      : rows_(in.rows && in.rows->has_clk() ? in.rows.get() : nullptr), clk_(in.clk.data()) {}
  const uint64_t* operator()(size_t i) const { return rows_ ? rows_->Clk(i) : clk_ + i * kClkWords; }
  // A random lookup (EncodedRows::Pace).
  const uint64_t* Lookup(size_t i) const {
    if (rows_) rows_->Pace();
    return (*this)(i);
  }
  void DropRows(size_t lo, size_t hi) const {
    if (rows_) rows_->DropRows(lo, hi);
  }
  void Drop() const {
    if (rows_) rows_->Drop();
  }

 private:
  const EncodedRows* rows_;
  const uint64_t* clk_;
};

// Calls fn(i, clk) for every record i in [lo, hi) in order, dropping the mapped pages of the CLKs
// behind it (a pass over every record keeps one block resident, not the file).
template <typename Fn>
void ScanClks(const ClkView& clks, size_t lo, size_t hi, Fn fn) {
  constexpr size_t kBlock = size_t{1} << 15;
  for (size_t b = lo; b < hi; b += kBlock) {
    const size_t e = std::min(hi, b + kBlock);
    for (size_t i = b; i < e; ++i) fn(i, clks(i));
    clks.DropRows(b, e);
  }
}

// Whether every record has a CLK (in LinkInput::rows or LinkInput::clk).
bool HasClks(const LinkInput& in) {
  return in.rows ? in.rows->has_clk() : in.n > 0 && in.clk.size() == in.n * kClkWords;
}

bool AnyBits(const uint64_t* w, int words) {
  for (int i = 0; i < words; ++i) if (w[i]) return true;
  return false;
}

// The fields compared on their own filters: those before the CLK fields (AddClkField appends them).
size_t FilterFields(const LinkInput& in) {
  size_t k = 0;
  while (k < in.fields.size() && (k >= in.clk_field.size() || in.clk_field[k] == 0)) ++k;
  return k;
}

class Comparer {
 public:
  // Encoded records are compared on their record-major rows (EncodedRows): LinkInput::rows when
  // the caller made them, else a copy of LinkInput::filters / present (and the CLKs, in a file)
  // that Build makes.
  explicit Comparer(const LinkInput& in) : in_(in) {
    for (size_t f = 0; f < in.fields.size() && name2_ < 0; ++f) {  // the first two name fields,
      if (in.fields[f].kind != FieldKind::kName) continue;          // also compared crossed
      (name1_ < 0 ? name1_ : name2_) = static_cast<int>(f);
    }
  }
  Comparer(const Comparer&) = delete;
  Comparer& operator=(const Comparer&) = delete;

  // Uses LinkInput::rows, or makes the copy: in memory when `dir` is empty (the CLKs are then
  // read from LinkInput::clk), else in a file in `dir` with the CLKs, its resident pages kept
  // under about `resident_budget` bytes for `threads` threads. Plaintext records are not copied.
  Status Build(const std::string& dir, size_t resident_budget, int threads) {
    if (!in_.encoded) return Status::OK();
    if (in_.rows) {
      rows_ = in_.rows.get();
    } else {
      const size_t n = in_.n, nf = FilterFields(in_);
      const bool with_clk = !dir.empty() && n > 0 && in_.clk.size() == n * kClkWords;
      ARK_ASSIGN_OR_RETURN(own_, EncodedRows::Create(nf, with_clk, dir));
      own_->Reserve(n);
      std::vector<uint64_t> filters(nf * kFieldWords);
      for (size_t i = 0; i < n; ++i) {
        uint64_t bits = 0;
        for (size_t f = 0; f < nf; ++f) {
          std::copy_n(&in_.filters[f][i * kFieldWords], kFieldWords, &filters[f * kFieldWords]);
          if (in_.present[f][i]) bits |= uint64_t{1} << f;
        }
        ARK_RETURN_IF_ERROR(own_->Append(filters.data(), bits, with_clk ? &in_.clk[i * kClkWords] : nullptr));
      }
      ARK_RETURN_IF_ERROR(own_->Finish(resident_budget, threads));
      rows_ = own_.get();
    }
    clk_in_rows_ = rows_->has_clk();
    has_clk_ = clk_in_rows_ || (in_.n > 0 && in_.clk.size() == in_.n * kClkWords);
    return Status::OK();
  }
  bool has_clk() const { return has_clk_; }
  // True when the CLKs are in the rows (LinkInput::clk is then no longer read).
  bool clk_in_rows() const { return clk_in_rows_; }
  // Drops the mapped pages from the process's resident memory (EncodedRows::Drop).
  void Drop() const {
    if (rows_) rows_->Drop();
  }
  void Prefetch(uint32_t b) const {
    if (!rows_ || rows_->in_file()) return;  // a prefetch of a page not mapped in does nothing
    const char* p = reinterpret_cast<const char*>(rows_->Row(b));
    for (size_t off = 0; off < rows_->stride_words() * 8; off += 64) __builtin_prefetch(p + off);
  }
  // Dice of the two records' whole CLKs. REQUIRES: has_clk().
  double ClkDice(uint32_t a, uint32_t b) const {
    Pace();
    return Dice(Clk(a), Clk(b), kClkWords);
  }
  // True when the rows are in a file larger than the resident budget (EncodedRows::paced).
  bool paced() const { return rows_ && rows_->paced(); }
  // Drops the mapped pages of rows [lo, hi) but those of rows [keep_lo, keep_hi).
  void DropRowsBut(size_t lo, size_t hi, size_t keep_lo, size_t keep_hi) const {
    if (!rows_) return;
    rows_->DropRows(lo, std::min(hi, keep_lo));
    rows_->DropRows(std::max(lo, keep_hi), hi);
  }
  // The comparison levels of the pair (a, b) into out[0, fields); `pace`: count it as a random
  // lookup (EncodedRows::Pace).
  void Levels(uint32_t a, uint32_t b, uint8_t* out, bool pace = true) const {
    if (pace) Pace();
    for (size_t f = 0; f < in_.fields.size(); ++f) out[f] = Level(f, f, a, b);
    if (name2_ >= 0) {
      // Swapped given and family names: take the crossed levels when both are better.
      uint8_t x = Level(name1_, name2_, a, b), y = Level(name2_, name1_, a, b);
      if (x != kNull && y != kNull && x < out[name1_] && y < out[name2_] && out[name1_] != kNull &&
          out[name2_] != kNull) {
        out[name1_] = std::max<uint8_t>(x, 1);
        out[name2_] = std::max<uint8_t>(y, 1);
      }
    }
    // The CLK fields only where a record has nothing else (LinkInput::clk_only).
    if (!in_.clk_only.empty() && !in_.clk_only[a] && !in_.clk_only[b]) {
      for (size_t f = 0; f < in_.clk_field.size(); ++f) if (in_.clk_field[f]) out[f] = kNull;
    }
  }

 private:
  void Pace() const {
    if (rows_) rows_->Pace();
  }
  const uint64_t* Clk(uint32_t a) const { return clk_in_rows_ ? rows_->Clk(a) : &in_.clk[size_t(a) * kClkWords]; }
  uint8_t Level(size_t fa, size_t fb, uint32_t a, uint32_t b) const {
    if (!in_.encoded) return PlainLevel(in_.fields[fa].kind, in_.values[fa][a], in_.values[fb][b]);
    const int part = fa < in_.clk_field.size() ? in_.clk_field[fa] : 0;
    if (part) {  // a CLK field: the Dice of its part of the CLKs, null where either part is empty
      const int words = kClkWords / kClkParts, off = (part - 1) * words;
      const uint64_t* ca = Clk(a) + off;
      const uint64_t* cb = Clk(b) + off;
      if (!AnyBits(ca, words) || !AnyBits(cb, words)) return kNull;
      return DiceLevel(fa, Dice(ca, cb, words));
    }
    if (!((rows_->PresentBits(a) >> fa) & 1) || !((rows_->PresentBits(b) >> fb) & 1)) return kNull;
    const uint64_t* fa_bits = rows_->Filter(a, fa);
    const uint64_t* fb_bits = rows_->Filter(b, fb);
    if (!in_.dice_cuts.empty() && in_.dice_cuts[fa][0] > 0) return DiceLevel(fa, Dice(fa_bits, fb_bits, kFieldWords));
    return EncodedLevel(in_.fields[fa].kind, fa_bits, fb_bits);
  }
  // Per-field cuts: levels >= c0 / c1 / c2 / else.
  uint8_t DiceLevel(size_t f, double d) const {
    const auto& c = in_.dice_cuts[f];
    return d >= c[0] ? 0 : d >= c[1] ? 1 : d >= c[2] ? 2 : 3;
  }

  const LinkInput& in_;
  int name1_ = -1, name2_ = -1;
  bool has_clk_ = false, clk_in_rows_ = false;
  const EncodedRows* rows_ = nullptr;  // in_.rows or own_
  std::unique_ptr<EncodedRows> own_;
};

template <typename Fn>
void ParallelFor(size_t n, int threads, Fn fn) {
  threads = std::max(1, threads);
  if (n < 10000 || threads == 1) { fn(0, n); return; }
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    size_t lo = n * t / threads, hi = n * (t + 1) / threads;
    ts.emplace_back([=] { fn(lo, hi); });
  }
  for (auto& t : ts) t.join();
}

template <typename Fn>
void ParallelForT(size_t n, int threads, Fn fn) {
  threads = std::max(1, threads);
  if (n < 10000 || threads == 1) {
    fn(0, size_t{0}, n);
    return;
  }
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    size_t lo = n * t / threads, hi = n * (t + 1) / threads;
    ts.emplace_back([=] { fn(t, lo, hi); });
  }
  for (auto& t : ts) t.join();
}

// Sorts with `threads` threads: equal slices sorted in parallel, then merged pairwise.
void ParallelSort(std::vector<uint64_t>& v, int threads) {
  const size_t parts = v.size() < 100000 ? 1 : static_cast<size_t>(std::max(1, threads));
  std::vector<size_t> cut;
  for (size_t i = 0; i <= parts; ++i) cut.push_back(v.size() * i / parts);
  ParallelForT(parts * 10000, static_cast<int>(parts), [&](int t, size_t, size_t) {
    std::sort(v.begin() + cut[t], v.begin() + cut[t + 1]);
  });
  for (size_t width = 1; width < parts; width *= 2)
    for (size_t i = 0; i + width < parts; i += 2 * width)
      std::inplace_merge(v.begin() + cut[i], v.begin() + cut[i + width], v.begin() + cut[std::min(parts, i + 2 * width)]);
}

// A level pattern in 4 bits per field (kNull as 0xf): at most 16 fields with < 15 levels.
uint64_t PackPattern(const uint8_t* lv, size_t nf) {
  uint64_t p = 0;
  for (size_t f = 0; f < nf; ++f) p |= uint64_t{lv[f] == kNull ? 0xfu : lv[f] & 0xfu} << (4 * f);
  return p;
}

std::vector<uint8_t> UnpackPattern(uint64_t p, size_t nf) {
  std::vector<uint8_t> lv(nf);
  for (size_t f = 0; f < nf; ++f) {
    const uint8_t x = (p >> (4 * f)) & 0xf;
    lv[f] = x == 0xf ? kNull : x;
  }
  return lv;
}

// Candidate pairs one blocking rule may produce: lsh_pairs_per_record per record, but never
// less than min_rule_pairs (small inputs keep every pair their rules give).
double RuleBudget(const LinkOptions& opt, size_t n) {
  return std::max(opt.lsh_pairs_per_record * static_cast<double>(n), opt.min_rule_pairs);
}

// Candidate pairs blocking on `keys` gives (0 = no key; blocks over max_block are skipped).
double PairsWithin(std::vector<uint64_t> keys, size_t max_block) {
  std::sort(keys.begin(), keys.end());
  double pairs = 0;
  for (size_t lo = 0; lo < keys.size();) {
    size_t hi = lo;
    while (hi < keys.size() && keys[hi] == keys[lo]) ++hi;
    const double c = static_cast<double>(hi - lo);
    if (keys[lo] && hi - lo <= max_block) pairs += c * (c - 1) / 2;
    lo = hi;
  }
  return pairs;
}

// Fills `pos` with distinct CLK bit positions drawn by xorshift from *state.
template <size_t N>
void SampleBitPositions(uint64_t* state, std::array<uint16_t, N>* pos) {
  for (size_t j = 0; j < N; ++j) {
    uint16_t p;
    do {
      *state ^= *state << 13;
      *state ^= *state >> 7;
      *state ^= *state << 17;
      p = static_cast<uint16_t>(*state % kClkBits);
    } while (std::find(pos->begin(), pos->begin() + j, p) != pos->begin() + j);
    (*pos)[j] = p;
  }
}

// LSH bands recomputed inside the Ark from the record-level CLKs, with as many sampled bits per
// band as keep a band's candidate pairs within opt.lsh_pairs_per_record per record: the bands
// made at source have a fixed width, so their blocks (and pairs) grow with the square of the
// number of records. Bit positions are fixed by the seed (the CLKs are already inside the Ark,
// so nothing is learned from them). One band at a time, so that one band's keys are in memory.
class AdaptiveLsh {
 public:
  static constexpr int kMaxBits = 48;
  AdaptiveLsh(const LinkInput& in, const LinkOptions& opt) : in_(in), opt_(opt), pos_(kLshBands) {
    uint64_t s = opt.seed * 0x2545F4914F6CDD1DULL + 777;
    for (auto& band : pos_) SampleBitPositions(&s, &band);
  }
  // Band b's keys (0 = a record without CLK bits) at the width that keeps the band within the
  // budget; *bits gets the width.
  std::vector<uint64_t> BandKeys(int b, int* bits_out) const {
    const size_t n = in_.n;
    // Each record's kMaxBits sampled bits, the first in the highest place, with bit kMaxBits set
    // (0: no CLK bits): the key at any width is a hash of its leading bits.
    std::vector<uint64_t> sampled(n);
    const ClkView clks(in_);
    const auto& pos = pos_[b];
    ParallelFor(n, opt_.threads, [&](size_t lo, size_t hi) {
      ScanClks(clks, lo, hi, [&](size_t i, const uint64_t* clk) {
        if (!AnyBits(clk, kClkWords)) {
          sampled[i] = 0;
          return;
        }
        uint64_t v = 0;
        for (int j = 0; j < kMaxBits; ++j) v = (v << 1) | ((clk[pos[j] >> 6] >> (pos[j] & 63)) & 1);
        sampled[i] = v | uint64_t{1} << kMaxBits;
      });
    });
    auto keys = [&](int bits) {
      std::vector<uint64_t> k(n);
      ParallelFor(n, opt_.threads, [&](size_t lo, size_t hi) {
        for (size_t i = lo; i < hi; ++i) k[i] = Key(b, bits, sampled[i]);
      });
      return k;
    };
    // Each band gets its own width: bits differ in how often they are set.
    int bits = kLshBits;
    for (;;) {
      const double pairs = PairsWithin(keys(bits), opt_.max_block);
      const double budget = RuleBudget(opt_, n);
      if (bits >= kMaxBits || pairs <= budget) break;
      // A bit at best halves the pairs: step by the bits that would take to reach the budget.
      bits = std::min(kMaxBits, bits + std::clamp(static_cast<int>(std::ceil(std::log2(pairs / budget))), 1, 6));
    }
    *bits_out = bits;
    return keys(bits);
  }

 private:
  static uint64_t Key(int b, int bits, uint64_t sampled) {
    if (!sampled) return 0;
    const uint64_t v = (sampled & ((uint64_t{1} << kMaxBits) - 1)) >> (kMaxBits - bits);
    const uint64_t h = XXH3_64bits_withSeed(&v, 8, b + 1);
    return h ? h : 1;
  }
  const LinkInput& in_;
  const LinkOptions& opt_;
  std::vector<std::array<uint16_t, kMaxBits>> pos_;
};

// Blocking rules made at source (keyed hashes) cannot be narrowed inside the Ark, and a rule such
// as "same date of birth" gives candidate pairs growing with the square of the records. A rule
// over its budget (opt.lsh_pairs_per_record pairs per record) is refined with 2, 4, ... sampled
// CLK bits (a pair must then also agree on them) until it fits. Returns the bits used (0 = none).
int RefineRuleKeys(const LinkInput& in, const LinkOptions& opt, int rule, std::vector<uint64_t>* keys) {
  const size_t n = in.n;
  const double budget = RuleBudget(opt, n);
  if (PairsWithin(*keys, opt.max_block) <= budget) return 0;
  constexpr int kMaxBits = 16;
  std::array<uint16_t, kMaxBits> pos{};
  uint64_t s = opt.seed * 0x9E3779B97F4A7C15ULL + 1000 + rule;
  SampleBitPositions(&s, &pos);
  // Each keyed record's kMaxBits sampled bits, the first in the highest place.
  std::vector<uint16_t> sampled(n, 0);
  const ClkView clks(in);
  ParallelFor(n, opt.threads, [&](size_t lo, size_t hi) {
    ScanClks(clks, lo, hi, [&](size_t i, const uint64_t* clk) {
      if (!(*keys)[i]) return;
      uint16_t v = 0;
      for (int j = 0; j < kMaxBits; ++j) v = static_cast<uint16_t>((v << 1) | ((clk[pos[j] >> 6] >> (pos[j] & 63)) & 1));
      sampled[i] = v;
    });
  });
  const std::vector<uint64_t> base = *keys;
  int bits = 0;
  do {
    bits += 2;
    for (size_t i = 0; i < n; ++i) {
      if (!base[i]) continue;
      uint64_t v[2] = {base[i], static_cast<uint64_t>(sampled[i] >> (kMaxBits - bits))};
      const uint64_t h = XXH3_64bits(v, sizeof v);
      (*keys)[i] = h ? h : 1;
    }
  } while (bits < kMaxBits && PairsWithin(*keys, opt.max_block) > budget);
  return bits;
}

// EM with u fixed: updates m (fields with data) and *lambda; returns iterations run.
int RunEm(const std::map<std::vector<uint8_t>, double>& pat_map, std::vector<FieldModel>* model, double* lambda,
          int max_iter) {
  const size_t nf = model->size();
  std::vector<const std::vector<uint8_t>*> pats;
  std::vector<double> counts;
  for (auto& [k, c] : pat_map) {
    pats.push_back(&k);
    counts.push_back(c);
  }
  std::vector<double> post(pats.size());
  int it = 0;
  for (; it < max_iter && !pats.empty(); ++it) {
    for (size_t q = 0; q < pats.size(); ++q) {
      double lw = std::log(*lambda) - std::log1p(-*lambda);
      for (size_t f = 0; f < nf; ++f) {
        uint8_t l = (*pats[q])[f];
        if (l != kNull) lw += std::log((*model)[f].m[l]) - std::log((*model)[f].u[l]);
      }
      post[q] = 1.0 / (1.0 + std::exp(-lw));
    }
    double change = 0, tot = 0, match = 0;
    for (size_t f = 0; f < nf; ++f) {
      std::vector<double> acc((*model)[f].m.size(), 0.0);
      double den = 0;
      for (size_t q = 0; q < pats.size(); ++q) {
        uint8_t l = (*pats[q])[f];
        if (l == kNull) continue;
        acc[l] += counts[q] * post[q];
        den += counts[q] * post[q];
      }
      if (den <= 0) continue;
      for (size_t l = 0; l < acc.size(); ++l) {
        double v = std::max(acc[l] / den, 1e-6);
        change = std::max(change, std::fabs(v - (*model)[f].m[l]));
        (*model)[f].m[l] = v;
      }
    }
    for (size_t q = 0; q < pats.size(); ++q) {
      tot += counts[q];
      match += counts[q] * post[q];
    }
    double nl = std::clamp(match / tot, 1e-9, 1 - 1e-9);
    change = std::max(change, std::fabs(nl - *lambda));
    *lambda = nl;
    if (change < 1e-7) break;
  }
  return it;
}

// Term-frequency adjustments (Splink's), plaintext only: an exact match on a name or postcode
// value v is worth log2(m/tf(v)) instead of log2(m/u), i.e. the level weight plus
// log2(u_exact / tf(v)), where tf(v) is v's share of the records with a value. tf is floored at
// u_exact / 16 (a rare value gains at most 4 bits).
struct TermFrequencies {
  std::vector<size_t> fields;               // fields adjusted
  std::vector<std::vector<float>> adjust;   // [field][record]: log2(u_exact / tf(value))
};

// log2(u_exact / share), share floored at u_exact / 16 (a rare value gains at most 4 bits).
float TfAdjust(double u, double share) { return static_cast<float>(std::log2(u / std::max(share, u / 16))); }

TermFrequencies TermFrequencyAdjustments(const LinkInput& in, const std::vector<FieldModel>& model) {
  TermFrequencies t;
  t.adjust.resize(in.fields.size());
  for (size_t f = 0; f < in.fields.size(); ++f) {
    const FieldKind k = in.fields[f].kind;
    if (k != FieldKind::kName && k != FieldKind::kPostcode) continue;
    const double u = model[f].u[0];
    if (in.encoded) {  // coarsened bands from the custodians, never values or exact counts
      if (f >= in.tf_band.size() || in.tf_band[f].size() != in.n) continue;
      const std::vector<uint8_t>& band = in.tf_band[f];
      const size_t present = in.n - std::count(band.begin(), band.end(), kNoBand);
      if (present == 0) continue;
      t.fields.push_back(f);
      t.adjust[f].assign(in.n, 0);
      for (size_t i = 0; i < in.n; ++i) {
        if (band[i] != kNoBand) t.adjust[f][i] = TfAdjust(u, BandShare(band[i], in.tf_band_k, present));
      }
      continue;
    }
    std::unordered_map<std::string_view, uint32_t> count;
    size_t present = 0;
    for (const std::string& v : in.values[f])
      if (!v.empty()) ++count[v], ++present;
    if (present == 0) continue;
    t.fields.push_back(f);
    t.adjust[f].assign(in.n, 0);
    for (size_t i = 0; i < in.n; ++i) {
      const std::string& v = in.values[f][i];
      if (!v.empty()) t.adjust[f][i] = TfAdjust(u, static_cast<double>(count[v]) / present);
    }
  }
  return t;
}

}  // namespace

std::vector<uint8_t> FrequencyBands(const std::vector<std::string>& values, uint32_t k) {
  k = std::max<uint32_t>(k, 1);
  std::unordered_map<std::string_view, uint32_t> count;
  for (const std::string& v : values) if (!v.empty()) ++count[v];
  std::vector<uint8_t> band(values.size(), kNoBand);
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i].empty()) continue;
    uint64_t c = count[values[i]], lo = k;
    uint8_t b = 0;
    while (c >= lo && b < kFrequencyBands - 1) ++b, lo *= 4;
    band[i] = b;
  }
  return band;
}

double BandShare(uint8_t band, uint32_t k, size_t present) {
  const double kk = std::max<uint32_t>(k, 1);
  const double mid = band == 0 ? std::sqrt(kk) : kk * std::pow(4.0, band - 1) * 2;
  return mid / std::max<size_t>(present, 1);
}

double JaroWinkler(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return 0;
  if (a == b) return 1;
  const int la = static_cast<int>(a.size()), lb = static_cast<int>(b.size());
  const int range = std::max(0, std::max(la, lb) / 2 - 1);
  uint64_t ma_small[4] = {0}, mb_small[4] = {0};
  std::vector<char> ma_v, mb_v;
  char* ma;
  char* mb;
  if (la <= 32 && lb <= 32) {
    ma = reinterpret_cast<char*>(ma_small);
    mb = reinterpret_cast<char*>(mb_small);
  } else {
    ma_v.assign(la, 0);
    mb_v.assign(lb, 0);
    ma = ma_v.data();
    mb = mb_v.data();
  }
  int m = 0;
  for (int i = 0; i < la; ++i) {
    int lo = std::max(0, i - range), hi = std::min(lb - 1, i + range);
    for (int j = lo; j <= hi; ++j) {
      if (!mb[j] && a[i] == b[j]) {
        ma[i] = mb[j] = 1;
        ++m;
        break;
      }
    }
  }
  if (m == 0) return 0;
  int t = 0, k = 0;
  for (int i = 0; i < la; ++i) {
    if (!ma[i]) continue;
    while (!mb[k]) ++k;
    if (a[i] != b[k]) ++t;
    ++k;
  }
  double jaro = (static_cast<double>(m) / la + static_cast<double>(m) / lb + (m - t / 2.0) / m) / 3.0;
  int prefix = 0;
  while (prefix < 4 && prefix < la && prefix < lb && a[prefix] == b[prefix]) ++prefix;
  return jaro + prefix * 0.1 * (1 - jaro);
}

std::string ExplainPair(const LinkOutcome& o, const ScoredPair& p) {
  std::string s;
  double level_sum = 0;
  char buf[64];
  for (size_t f = 0; f < o.model.size(); ++f) {
    const FieldModel& fm = o.model[f];
    if (!s.empty()) s += "; ";
    s += fm.name + ": ";
    if (p.levels[f] == kNull) {
      s += "missing (0)";
      continue;
    }
    double w = std::log2(fm.m[p.levels[f]] / fm.u[p.levels[f]]);
    std::snprintf(buf, sizeof buf, " (%+.1f)", w);
    s += fm.levels[p.levels[f]] + buf;
    level_sum += w;
  }
  if (!o.tf_fields.empty() && std::fabs(p.weight - level_sum) >= 0.05) {
    std::snprintf(buf, sizeof buf, "; term frequency (%+.1f)", p.weight - level_sum);
    s += buf;
  }
  return s;
}

std::array<float, 3> ClkDiceCuts(const LinkInput& in, int part, int parts) {
  const size_t n = in.n;
  const int words = kClkWords / parts, off = part * words;
  const ClkView clks(in);
  uint64_t s = 0x9e3779b97f4a7c15ULL;
  auto rnd = [&]() { return s ^= s << 13, s ^= s >> 7, s ^= s << 17, s; };
  double sum = 0;
  int got = 0;
  for (int k = 0; k < 20000 && n > 0; ++k) {
    const size_t a = rnd() % n, b = rnd() % n;
    if (a == b) continue;
    const uint64_t* ca = clks.Lookup(a) + off;
    const uint64_t* cb = clks.Lookup(b) + off;
    if (!AnyBits(ca, words) || !AnyBits(cb, words)) continue;
    sum += Dice(ca, cb, words);
    ++got;
  }
  clks.Drop();
  const double mu = got ? sum / got : 0.5;
  return {static_cast<float>(mu + 0.8 * (1 - mu)), static_cast<float>(mu + 0.6 * (1 - mu)),
          static_cast<float>(mu + 0.4 * (1 - mu))};
}

void AddClkField(LinkInput* in, std::vector<uint8_t> clk_only) {
  const size_t n = in->n;
  in->dice_cuts.assign(in->fields.size(), {0, 0, 0});
  in->clk_field.assign(in->fields.size(), 0);
  const int words = kClkWords / kClkParts;
  for (int p = 0; p < kClkParts; ++p) {
    in->fields.push_back({"clk_" + std::to_string(p), FieldKind::kString});
    in->clk_field.push_back(static_cast<uint8_t>(p + 1));
    in->dice_cuts.push_back(ClkDiceCuts(*in, p, kClkParts));
    if (in->rows) continue;  // the rows hold the fields before the CLK fields only
    std::vector<uint8_t> present(n, 0);
    for (size_t r = 0; r < n; ++r) present[r] = AnyBits(&in->clk[r * kClkWords + p * words], words);
    in->filters.emplace_back(n * kFieldWords, 0);
    in->present.push_back(std::move(present));
  }
  if (!in->tf_band.empty()) in->tf_band.resize(in->fields.size());
  in->clk_only = std::move(clk_only);
}

namespace {

// LinkProbabilistic; with `release` (== &in), frees in.blocking once the candidate pairs are made
// and in.filters once the comparer holds its record-major copy of them.
Result<LinkOutcome> LinkImpl(const LinkInput& in, LinkInput* release, const LinkOptions& opt) {
  auto t0 = std::chrono::steady_clock::now();
  LinkOutcome o;
  const size_t n = in.n, nf = in.fields.size();
  if (nf == 0) return Status::InvalidArgument("no fields to compare");
  if (nf > kMaxLinkFields) {
    return Status::InvalidArgument("at most " + std::to_string(kMaxLinkFields) + " fields can be compared, not " +
                                   std::to_string(nf));
  }
  if (n >= (size_t{1} << 28)) return Status::InvalidArgument("too many records (at most 2^28)");
  if (in.rows && (!in.encoded || in.rows->size() != n || in.rows->fields() != FilterFields(in) || !in.filters.empty() ||
                  !in.present.empty() || !in.clk.empty())) {
    return Status::InvalidArgument("encoded rows need one row per record, a row field per filter field, and no "
                                   "filters, presence or CLK columns beside them");
  }
  if (!in.clk_only.empty() && (in.clk_only.size() != n || !HasClks(in) || in.clk_field.size() != nf)) {
    return Status::InvalidArgument("clk_only records need a CLK each and the CLK fields (AddClkField)");
  }
  if (!in.clk_field.empty() && (in.clk_field.size() != nf || !HasClks(in) || !in.encoded)) {
    return Status::InvalidArgument("CLK fields need encoded records with a CLK each (AddClkField)");
  }
  if (opt.review_band) {
    const auto [lo, hi] = *opt.review_band;
    if (!(lo >= opt.keep_min_probability && lo < hi && hi <= 1)) {
      return Status::InvalidArgument("review band [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                     "): need " + std::to_string(opt.keep_min_probability) + " <= LOW < HIGH <= 1");
    }
  }
  std::unordered_set<uint64_t> decided;  // (min << 32 | max) of the decided pairs
  for (const auto& d : in.decisions) {
    if (d.a >= n || d.b >= n || d.a == d.b) return Status::InvalidArgument("a review decision names a record out of range");
    decided.insert(uint64_t{std::min(d.a, d.b)} << 32 | std::max(d.a, d.b));
  }
  auto src = [&](uint32_t i) { return in.source.empty() ? 0u : in.source[i]; };
  auto grp = [&](uint32_t i) { return in.group.empty() ? LinkInput::kNoGroup : in.group[i]; };

  // 1. Candidate pairs from the union of the blocking rules. A pair is packed with the rule that
  // produced it (a: 28 bits, b: 28 bits, rule: 8 bits), sorted, and merged into one entry per
  // pair with a bit mask of its rules: 8 bytes per generated pair, 12 per distinct pair.
  const size_t nrules = std::min<size_t>(in.blocking.size(), 32);
  const bool has_clks = HasClks(in);
  std::optional<AdaptiveLsh> lsh;  // the LSH bands recomputed from the CLKs, a band at a time
  if (opt.adaptive_lsh && has_clks && in.blocking.size() == static_cast<size_t>(kNameRules + kLshBands)) lsh.emplace(in, opt);
  o.rule_refine_bits.assign(in.blocking.size(), 0);
  o.pairs_per_rule.assign(in.blocking.size(), 0);
  // Each rule's blocks of 2..max_block records (members in record order), in a BlockStream (a
  // file beside the other spills, when there is a spill folder), read back in order as often as
  // the pairs are made: counted first, so that each chunk's `packed` is allocated once, at its
  // exact size (growing it by doubling held up to three times the pairs at the moment it grew).
  // One rule's keys at a time are in memory (released from *release as they are used, or read
  // from in.blocking_columns).
  if (in.blocking_columns && in.blocking_columns->size() != n) {
    return Status::InvalidArgument("the blocking key columns hold " + std::to_string(in.blocking_columns->size()) +
                                   " records, not " + std::to_string(n));
  }
  ARK_ASSIGN_OR_RETURN(std::unique_ptr<BlockStream> blocks, BlockStream::Create(opt.spill_dir));
  for (size_t r = 0; r < nrules; ++r) {
    std::vector<uint64_t> own;  // the rule's keys when they are not in.blocking[r] as given
    const std::vector<uint64_t>* rule_keys = &in.blocking[r];
    if (lsh && r >= static_cast<size_t>(kNameRules)) {
      int bits = 0;
      own = lsh->BandKeys(static_cast<int>(r) - kNameRules, &bits);
      o.lsh_bits = std::max(o.lsh_bits, bits);
      rule_keys = &own;
    } else {
      if (in.blocking_columns && r < in.blocking_columns->columns() && rule_keys->empty()) {
        ARK_RETURN_IF_ERROR(in.blocking_columns->Read(r, &own));
        rule_keys = &own;
      }
      if (opt.adaptive_lsh && has_clks && r < static_cast<size_t>(kNameRules) && rule_keys->size() == n) {
        if (rule_keys != &own) own = *rule_keys;
        o.rule_refine_bits[r] = RefineRuleKeys(in, opt, static_cast<int>(r), &own);
        if (o.rule_refine_bits[r]) rule_keys = &own;
      }
    }
    if (rule_keys->size() != n) {
      return Status::InvalidArgument("blocking rule " + std::to_string(r) + " has " + std::to_string(rule_keys->size()) +
                                     " keys for " + std::to_string(n) + " records");
    }
    const auto& keys = *rule_keys;
    std::vector<std::pair<uint64_t, uint32_t>> kv;
    kv.reserve(n);
    for (uint32_t i = 0; i < n; ++i) if (keys[i]) kv.emplace_back(keys[i], i);
    std::vector<uint64_t>().swap(own);
    if (release) std::vector<uint64_t>().swap(release->blocking[r]);
    std::sort(kv.begin(), kv.end());
    std::vector<uint32_t> members;
    for (size_t lo = 0; lo < kv.size();) {
      size_t hi = lo;
      while (hi < kv.size() && kv[hi].first == kv[lo].first) ++hi;
      if (hi - lo > opt.max_block) {
        ++o.skipped_blocks;
        o.skipped_block_records += hi - lo;
      } else if (hi - lo >= 2) {
        members.clear();
        for (size_t x = lo; x < hi; ++x) members.push_back(kv[x].second);
        ARK_RETURN_IF_ERROR(blocks->Add(static_cast<uint32_t>(r), members));
      }
      lo = hi;
    }
  }
  ARK_RETURN_IF_ERROR(blocks->Finish());
  if (release) {
    std::vector<std::vector<uint64_t>>().swap(release->blocking);
    release->blocking_columns.reset();
  }
  // Small inputs: every pair is a candidate too (scored, not used to train m: its rule index is
  // past the blocking rules), so that the clustering sees the cross pairs blocking would miss.
  o.all_pairs = n >= 2 && static_cast<double>(n) * (n - 1) / 2 <= opt.all_pairs_up_to;
  // Calls emit(a, b, rule) for every generated pair (a < b) whose first record a is in [lo, hi).
  // A block's members are in record order, so a pair's first record is its earlier member.
  auto each_pair = [&](uint32_t lo, uint32_t hi, auto&& emit) -> Status {
    ARK_RETURN_IF_ERROR(blocks->ForEach([&](uint32_t r, std::span<const uint32_t> block) {
      const uint32_t* mem = block.data();
      const size_t bhi = block.size();
      if (mem[bhi - 1] < lo || mem[0] >= hi) return;
      for (size_t x = std::lower_bound(mem, mem + bhi, lo) - mem; x < bhi && mem[x] < hi; ++x) {
        for (size_t y = x + 1; y < bhi; ++y) {
          uint32_t a = mem[x], b = mem[y];
          if (opt.cross_source_only && src(a) == src(b)) continue;
          if (opt.skip_grouped_pairs && grp(a) != LinkInput::kNoGroup && grp(b) != LinkInput::kNoGroup) continue;
          emit(a, b, r);
        }
      }
    }));
    if (o.all_pairs) {
      for (uint32_t a = lo; a < hi; ++a)
        for (uint32_t b = a + 1; b < n; ++b) {
          if (opt.cross_source_only && src(a) == src(b)) continue;
          if (opt.skip_grouped_pairs && grp(a) != LinkInput::kNoGroup && grp(b) != LinkInput::kNoGroup) continue;
          emit(a, b, nrules);
        }
    }
    // Decided pairs are always scored (not used to train m), whatever the blocking found.
    for (uint64_t d : decided) {
      const uint32_t a = static_cast<uint32_t>(d >> 32);
      if (a >= lo && a < hi) emit(a, static_cast<uint32_t>(d), nrules);
    }
    return Status::OK();
  };
  // Chunks of records [cut[c], cut[c + 1]) by the pairs they are the first record of: each makes
  // at most opt.chunk_pairs generated pairs (unless one record alone makes more).
  std::vector<uint32_t> cut{0};
  std::vector<size_t> chunk_generated;
  {
    std::vector<uint32_t> first_of(n, 0);
    ARK_RETURN_IF_ERROR(each_pair(0, static_cast<uint32_t>(n), [&](uint32_t a, uint32_t, size_t) { ++first_of[a]; }));
    size_t acc = 0;
    for (uint32_t a = 0; a < n; ++a) {
      if (acc > 0 && acc + first_of[a] > std::max<size_t>(opt.chunk_pairs, 1)) {
        cut.push_back(a);
        chunk_generated.push_back(acc);
        acc = 0;
      }
      acc += first_of[a];
    }
    cut.push_back(static_cast<uint32_t>(n));
    chunk_generated.push_back(acc);
  }

  // 2. Per chunk: the pairs packed with the rule that produced them (a: 28 bits, b: 28 bits,
  // rule: 8 bits), sorted and merged into one entry per pair with a bit mask of its rules, their
  // comparison levels, and their level patterns counted for the EM sessions (per rule and over
  // all pairs; counts are whole numbers, so their sums do not depend on the chunks). The chunks
  // follow each other in record order, so the pairs come out in (a, b) order as one sort gives.
  Comparer cmp(in);
  ARK_RETURN_IF_ERROR(cmp.Build(opt.spill_dir, opt.comparer_resident_bytes, opt.threads));
  if (release) {
    std::vector<std::vector<uint64_t>>().swap(release->filters);
    if (cmp.clk_in_rows()) std::vector<uint64_t>().swap(release->clk);
  }
  const auto rule_fields = BlockingRuleFields(in.fields);
  std::vector<uint64_t> rule_null(nrules, 0);  // nibbles of the fields a rule's session ignores
  for (size_t r = 0; r < nrules && r < rule_fields.size(); ++r)
    for (int f : rule_fields[r]) rule_null[r] |= uint64_t{0xf} << (4 * f);
  using PatternCounts = std::unordered_map<uint64_t, double>;
  std::vector<PatternCounts> all_patterns(std::max(1, opt.threads));
  std::vector<std::vector<PatternCounts>> rule_patterns(std::max(1, opt.threads), std::vector<PatternCounts>(nrules));
  PairSpill spill(nf);
  if (cut.size() > 2) {
    ARK_RETURN_IF_ERROR(spill.SpillTo(opt.spill_dir.empty() ? std::filesystem::temp_directory_path().string()
                                                            : opt.spill_dir));
  }
  for (size_t c = 0; c + 1 < cut.size(); ++c) {
    std::vector<uint64_t> packed;
    packed.reserve(chunk_generated[c]);
    ARK_RETURN_IF_ERROR(each_pair(cut[c], cut[c + 1], [&](uint32_t a, uint32_t b, size_t r) {
      packed.push_back(uint64_t(a) << 36 | uint64_t(b) << 8 | r);
      if (r < nrules) ++o.pairs_per_rule[r];
    }));
    ParallelSort(packed, opt.threads);
    size_t distinct = 0;
    for (size_t i = 0; i < packed.size(); ++i) distinct += i == 0 || (packed[i] >> 8) != (packed[i - 1] >> 8);
    std::vector<uint32_t> rule_mask;
    rule_mask.reserve(distinct);
    size_t np = 0;
    for (size_t i = 0; i < packed.size(); ++i) {
      const uint64_t key = packed[i] >> 8;
      const uint32_t bit = 1u << (packed[i] & 0xff);
      if (np > 0 && (packed[np - 1] == ((key >> 28) << 32 | (key & 0xfffffff)))) {
        rule_mask[np - 1] |= bit;
        continue;
      }
      packed[np++] = (key >> 28) << 32 | (key & 0xfffffff);
      rule_mask.push_back(bit);
    }
    packed.resize(np);
    const std::vector<uint64_t>& pairs = packed;
    std::vector<uint8_t> levels(pairs.size() * nf);
    if (cmp.paced() && pairs.size() < (size_t{1} << 32)) {
      // The rows are in a file larger than the resident budget, so that a lookup in pair order
      // (second records all over the file) would fault nearly every time. The pairs are compared
      // in the order of their second records instead: those are then read in one sweep through
      // the file, whose pages are dropped behind it, while the first records all lie in this
      // chunk's own rows, which stay mapped until the chunk ends. The levels are the same.
      std::vector<uint64_t> order(pairs.size());  // second record << 32 | pair index
      for (size_t p = 0; p < pairs.size(); ++p) order[p] = (pairs[p] & 0xffffffffu) << 32 | p;
      ParallelSort(order, opt.threads);
      ParallelFor(order.size(), opt.threads, [&](size_t lo, size_t hi) {
        constexpr size_t kBlock = size_t{1} << 14;
        for (size_t s = lo; s < hi; s += kBlock) {
          const size_t e = std::min(hi, s + kBlock);
          for (size_t k = s; k < e; ++k) {
            const size_t p = static_cast<uint32_t>(order[k]);
            cmp.Levels(pairs[p] >> 32, static_cast<uint32_t>(pairs[p]), &levels[p * nf], /*pace=*/false);
          }
          cmp.DropRowsBut(order[s] >> 32, (order[e - 1] >> 32) + 1, cut[c], cut[c + 1]);
        }
      });
    } else {
      ParallelFor(pairs.size(), opt.threads, [&](size_t lo, size_t hi) {
        for (size_t p = lo; p < hi; ++p) {
          if (p + 16 < hi) cmp.Prefetch(static_cast<uint32_t>(pairs[p + 16]));
          cmp.Levels(pairs[p] >> 32, static_cast<uint32_t>(pairs[p]), &levels[p * nf]);
        }
      });
    }
    ParallelForT(pairs.size(), opt.threads, [&](int t, size_t lo, size_t hi) {
      for (size_t p = lo; p < hi; ++p) {
        const uint64_t pat = PackPattern(&levels[p * nf], nf);
        all_patterns[t][pat] += 1;
        for (uint32_t m = rule_mask[p]; m; m &= m - 1) {
          const int r = std::countr_zero(m);
          if (r < static_cast<int>(nrules) && r < static_cast<int>(rule_fields.size()))
            rule_patterns[t][r][pat | rule_null[r]] += 1;
        }
      }
    });
    ARK_RETURN_IF_ERROR(spill.Append(&packed, &levels));
    cmp.Drop();
  }
  blocks.reset();
  const size_t npairs = spill.size();
  o.candidate_pairs = npairs;
  o.seconds_blocking = Seconds(t0);

  // 3. u from random pairs.
  o.model.resize(nf);
  for (size_t f = 0; f < nf; ++f) {
    o.model[f].name = in.fields[f].name;
    o.model[f].levels = LevelLabels(in.fields[f].kind, in.encoded);
    if (!in.dice_cuts.empty() && in.dice_cuts[f][0] > 0) {
      o.model[f].levels.clear();
      char buf[32];
      for (float c : in.dice_cuts[f]) {
        std::snprintf(buf, sizeof buf, "dice>=%.3f", c);
        o.model[f].levels.push_back(buf);
      }
      o.model[f].levels.push_back("else");
    }
    o.model[f].m.assign(o.model[f].levels.size(), 0);
    o.model[f].u.assign(o.model[f].levels.size(), 0);
  }
  {
    uint64_t s = opt.seed * 0x9e3779b97f4a7c15ULL + 12345;
    auto rnd = [&]() {
      s ^= s << 13;
      s ^= s >> 7;
      s ^= s << 17;
      return s;
    };
    const double total = n < 2 ? 0 : static_cast<double>(n) * (n - 1) / 2;
    const size_t samples = static_cast<size_t>(std::min<double>(opt.u_samples, std::max(total, 1.0) * 2));
    std::vector<std::vector<double>> cnt(nf);
    for (size_t f = 0; f < nf; ++f) cnt[f].assign(o.model[f].levels.size(), 0);
    std::vector<uint8_t> lv(nf);
    size_t got = 0;
    for (size_t k = 0; k < samples * 4 && got < samples && n >= 2; ++k) {
      uint32_t a = rnd() % n, b = rnd() % n;
      if (a == b || (opt.cross_source_only && src(a) == src(b))) continue;
      ++got;
      cmp.Levels(a, b, lv.data());
      for (size_t f = 0; f < nf; ++f) if (lv[f] != kNull) cnt[f][lv[f]] += 1;
    }
    cmp.Drop();
    for (size_t f = 0; f < nf; ++f) {
      double tot = 0;
      for (double c : cnt[f]) tot += c;
      const size_t L = cnt[f].size();
      for (size_t l = 0; l < L; ++l) o.model[f].u[l] = (cnt[f][l] + 0.5) / (tot + 0.5 * L);
    }
  }

  // 4. m-probabilities by EM, one training session per blocking rule (as Splink does): a
  // session uses the pairs its rule produced, keeps u fixed, and does not estimate the fields
  // the rule depends on (those agree by construction). Each field's m is the mean over the
  // sessions that estimated it; a field no session could estimate is estimated on all pairs.
  // The sessions see level patterns with counts, gathered in one pass over the pairs.
  auto te = std::chrono::steady_clock::now();
  for (size_t f = 0; f < nf; ++f) {
    const size_t L = o.model[f].m.size();
    for (size_t l = 0; l < L; ++l) o.model[f].m[l] = l == 0 ? 0.9 : 0.1 / (L - 1);
  }
  auto as_map = [&](std::vector<PatternCounts*> parts) {
    std::map<std::vector<uint8_t>, double> m;
    for (auto* part : parts)
      for (auto& [pat, c] : *part) m[UnpackPattern(pat, nf)] += c;
    return m;
  };
  auto session = [&](const std::map<std::vector<uint8_t>, double>& pat_map) {
    std::vector<FieldModel> model = o.model;
    double lam = 0.5;
    o.em_iterations += RunEm(pat_map, &model, &lam, opt.em_iterations);
    return model;
  };
  std::vector<std::vector<double>> m_sum(nf);
  std::vector<int> m_n(nf, 0);
  for (size_t f = 0; f < nf; ++f) m_sum[f].assign(o.model[f].m.size(), 0.0);
  for (size_t r = 0; r < nrules && r < rule_fields.size(); ++r) {
    if (o.pairs_per_rule[r] == 0) continue;
    std::vector<PatternCounts*> parts;
    for (auto& per_thread : rule_patterns) parts.push_back(&per_thread[r]);
    auto model = session(as_map(parts));
    for (size_t f = 0; f < nf; ++f) {
      if (std::find(rule_fields[r].begin(), rule_fields[r].end(), static_cast<int>(f)) != rule_fields[r].end()) continue;
      if (f < in.clk_field.size() && in.clk_field[f]) continue;  // estimated on all pairs
      for (size_t l = 0; l < model[f].m.size(); ++l) m_sum[f][l] += model[f].m[l];
      ++m_n[f];
    }
  }
  std::vector<PatternCounts*> all_parts;
  for (auto& part : all_patterns) all_parts.push_back(&part);
  const auto all_map = as_map(all_parts);
  bool need_all = false;
  for (size_t f = 0; f < nf; ++f) need_all |= m_n[f] == 0;
  std::vector<FieldModel> all_model;
  if (need_all) all_model = session(all_map);
  for (size_t f = 0; f < nf; ++f) {
    for (size_t l = 0; l < o.model[f].m.size(); ++l) {
      o.model[f].m[l] = m_n[f] ? m_sum[f][l] / m_n[f] : all_model[f].m[l];
    }
  }
  // λ: the share of matches among all record pairs, by a fixed point over the candidates
  // (pairs outside them are taken as non-matches): λ = Σ posterior(λ) / all pairs.
  std::vector<std::vector<double>> w(nf);
  for (size_t f = 0; f < nf; ++f) {
    for (size_t l = 0; l < o.model[f].m.size(); ++l) w[f].push_back(std::log2(o.model[f].m[l] / o.model[f].u[l]));
  }
  std::vector<std::pair<double, double>> pattern_weights;  // (weight, count)
  for (auto& [pat, c] : all_map) {
    double ws = 0;
    for (size_t f = 0; f < nf; ++f) if (pat[f] != kNull) ws += w[f][pat[f]];
    pattern_weights.emplace_back(ws, c);
  }
  double all_pairs = 0;
  if (opt.cross_source_only) {
    std::unordered_map<uint32_t, double> per;
    for (uint32_t i = 0; i < n; ++i) per[src(i)] += 1;
    double sum = 0, sq = 0;
    for (auto& [k, c] : per) sum += c, sq += c * c;
    all_pairs = (sum * sum - sq) / 2;
  } else {
    all_pairs = static_cast<double>(n) * (n - 1) / 2;
  }
  double lambda = std::clamp(static_cast<double>(npairs) / std::max(all_pairs, 1.0) / 2, 1e-12, 0.5);
  for (int it = 0; it < 200 && npairs > 0; ++it) {
    const double prior = std::log2(lambda / (1 - lambda));
    double sum = 0;
    for (auto& [x, c] : pattern_weights) sum += c / (1.0 + std::exp2(-(x + prior)));
    double nl = std::clamp(sum / std::max(all_pairs, 1.0), 1e-12, 0.5);
    if (std::fabs(nl - lambda) < 1e-9 * lambda) {
      lambda = nl;
      break;
    }
    lambda = nl;
  }
  o.lambda = lambda;
  o.seconds_em = Seconds(te);
  const double prior = std::log2(lambda / (1 - lambda));
  const TermFrequencies tf = opt.term_frequencies ? TermFrequencyAdjustments(in, o.model) : TermFrequencies{};
  for (size_t f : tf.fields) o.tf_fields.push_back(in.fields[f].name);
  o.threshold_probability = opt.threshold_probability.value_or(0.5);
  o.threshold_weight = std::log2(o.threshold_probability / (1 - o.threshold_probability)) - prior;

  // Weights of every pair: expected false and missed matches and the group consistency are
  // summed over all of them; only pairs above keep_min_probability (and every accepted pair)
  // are kept, in pair order. Memory: the first pass counts what each thread's slice keeps; the
  // second copies the kept pairs and their levels (13 bytes each with 5 fields) to their place,
  // so that the candidate pairs and levels are freed before o.pairs (36 bytes per pair) is made
  // at its exact size and filled. (Collecting ScoredPairs per thread and concatenating them, as
  // before, held them up to three times over on top of every candidate pair.) The weights are
  // recomputed from the same levels, so they are the same.
  struct Weighed {
    double ws, prob;
    bool match, keep, strong;  // strong: kept in o.pairs even without opt.keep_weak_pairs
  };
  auto weigh = [&](uint64_t pair, const uint8_t* lv) {
    const uint32_t a = pair >> 32, b = static_cast<uint32_t>(pair);
    Weighed x;
    x.ws = 0;
    for (size_t f = 0; f < nf; ++f) if (lv[f] != kNull) x.ws += w[f][lv[f]];
    for (size_t f : tf.fields) if (lv[f] == 0) x.ws += std::min(tf.adjust[f][a], tf.adjust[f][b]);
    x.prob = 1.0 / (1.0 + std::exp2(-(x.ws + prior)));
    x.match = static_cast<float>(x.ws) >= o.threshold_weight;
    const bool is_decided = !decided.empty() && decided.count(pair);
    x.keep = x.match || x.prob >= opt.keep_min_probability || is_decided;
    const float pf = static_cast<float>(x.prob);
    const bool in_band = x.keep && opt.review_band && pf >= (*opt.review_band)[0] && pf < (*opt.review_band)[1];
    // A pair of two grouped records is decided by their groups: the clustering never links it nor
    // lists it for review, and reads it only for its coherence sums, as it reads the weak pairs.
    const bool grouped = grp(a) != LinkInput::kNoGroup && grp(b) != LinkInput::kNoGroup;
    x.strong = is_decided || (!grouped && (x.match || in_band));
    return x;
  };
  // The pairs of [lo, hi), read back from the spill a piece at a time: fn(index, pair, levels).
  const size_t piece = std::clamp<size_t>(opt.chunk_pairs / 4, 1, size_t{1} << 20);
  auto each_spilled = [&](size_t lo, size_t hi, auto&& fn) -> Status {
    std::vector<uint64_t> pp;
    std::vector<uint8_t> lv;
    for (size_t from = lo; from < hi; from += piece) {
      const size_t m = std::min(piece, hi - from);
      ARK_RETURN_IF_ERROR(spill.Read(from, m, &pp, &lv));
      for (size_t i = 0; i < m; ++i) fn(from + i, pp[i], &lv[i * nf]);
    }
    return Status::OK();
  };
  const int T = std::max(1, opt.threads);
  std::vector<Status> read_status(T);
  std::vector<size_t> kept(T + 1, 0);  // pairs kept per slice, then the slices' offsets
  std::vector<double> exp_false(T, 0), exp_missed(T, 0);
  std::vector<LinkOutcome::GroupConsistency> gc(T);
  ParallelForT(npairs, opt.threads, [&](int t, size_t lo, size_t hi) {
    read_status[t] = each_spilled(lo, hi, [&](size_t, uint64_t pair, const uint8_t* lv) {
      const uint32_t a = pair >> 32, b = static_cast<uint32_t>(pair);
      const Weighed x = weigh(pair, lv);
      if (x.match) exp_false[t] += 1 - static_cast<float>(x.prob);
      else exp_missed[t] += static_cast<float>(x.prob);
      const uint32_t ga = grp(a), gb = grp(b);
      if (ga != LinkInput::kNoGroup && gb != LinkInput::kNoGroup) {
        ++gc[t].both_grouped;
        if (ga == gb) (x.match ? gc[t].same_group_match : gc[t].same_group_nonmatch)++;
        else if (x.match) ++gc[t].different_group_match;
      } else if (x.match) {
        ++gc[t].ungrouped_accepted;
      }
      kept[t + 1] += opt.keep_weak_pairs ? x.keep : x.strong;
    });
  });
  for (const Status& st : read_status) ARK_RETURN_IF_ERROR(st);
  for (int t = 0; t < T; ++t) kept[t + 1] += kept[t];
  o.pairs.resize(kept[T]);
  ParallelForT(npairs, opt.threads, [&](int t, size_t lo, size_t hi) {
    size_t at = kept[t];
    read_status[t] = each_spilled(lo, hi, [&](size_t, uint64_t pair, const uint8_t* lv) {
      const Weighed x = weigh(pair, lv);
      if (!(opt.keep_weak_pairs ? x.keep : x.strong)) return;
      const uint32_t a = pair >> 32, b = static_cast<uint32_t>(pair);
      ScoredPair& sp = o.pairs[at++];
      sp.a = a;
      sp.b = b;
      sp.levels.fill(kNull);
      std::copy(lv, lv + nf, sp.levels.begin());
      sp.weight = static_cast<float>(x.ws);
      sp.probability = static_cast<float>(x.prob);
      sp.clk_dice = cmp.has_clk() ? static_cast<float>(cmp.ClkDice(a, b)) : -1.0f;
    });
  });
  for (const Status& st : read_status) ARK_RETURN_IF_ERROR(st);
  cmp.Drop();
  // The weak kept pairs, per record, to a file for the clustering (memory: 8 bytes a record).
  WeakPairFile weak;
  if (!opt.keep_weak_pairs) {
    auto scan = [&](auto&& fn) -> Status {
      return each_spilled(0, npairs, [&](size_t, uint64_t pair, const uint8_t* lv) {
        const Weighed x = weigh(pair, lv);
        if (x.keep && !x.strong) fn(static_cast<uint32_t>(pair >> 32), static_cast<uint32_t>(pair), static_cast<float>(x.prob));
      });
    };
    ARK_RETURN_IF_ERROR(weak.Build(opt.spill_dir.empty() ? std::filesystem::temp_directory_path().string() : opt.spill_dir,
                                   n, std::max<size_t>(opt.chunk_pairs, 1) * 2, scan));
  }
  spill.Release();
  for (int t = 0; t < T; ++t) {
    o.expected_false_matches += exp_false[t];
    o.expected_missed_matches += exp_missed[t];
    o.groups.both_grouped += gc[t].both_grouped;
    o.groups.same_group_match += gc[t].same_group_match;
    o.groups.same_group_nonmatch += gc[t].same_group_nonmatch;
    o.groups.different_group_match += gc[t].different_group_match;
    o.groups.ungrouped_accepted += gc[t].ungrouped_accepted;
  }

  // 5. Clustering (link/cluster.h).
  const PairScorer score = [&](uint32_t a, uint32_t b) {
    std::array<uint8_t, kMaxLinkFields> lv;
    cmp.Levels(std::min(a, b), std::max(a, b), lv.data());
    double ws = 0;
    for (size_t f = 0; f < nf; ++f) if (lv[f] != kNull) ws += w[f][lv[f]];
    for (size_t f : tf.fields) if (lv[f] == 0) ws += std::min(tf.adjust[f][a], tf.adjust[f][b]);
    return static_cast<double>(static_cast<float>(1.0 / (1.0 + std::exp2(-(ws + prior)))));
  };
  ClusterAcceptedPairs(in, opt, &o, &score, opt.keep_weak_pairs ? nullptr : &weak);
  ARK_RETURN_IF_ERROR(weak.status());
  o.seconds_total = Seconds(t0);
  return o;
}

}  // namespace

Result<LinkOutcome> LinkProbabilistic(const LinkInput& in, const LinkOptions& opt) { return LinkImpl(in, nullptr, opt); }

Result<LinkOutcome> LinkProbabilisticReleasing(LinkInput* in, const LinkOptions& opt) { return LinkImpl(*in, in, opt); }

}  // namespace ark
