// The one-pass core: DFG frequency and performance, variants, start/end activities, durations.
//
// Work is split into blocks of consecutive cases of about equal event counts; each worker keeps
// its own accumulators (dense edge table indexed by from * A + to, a log-scale histogram per
// edge when quantiles are approximate, an open-addressing variant table keyed by sequence hash),
// merged at the end. The inner loop touches two columns (activity, time) sequentially.
#include "pathways/analysis.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <memory>
#include <unordered_map>
#include <new>
#include <sys/mman.h>

#include "store/parallel.h"

namespace ark::pathways {
namespace {

// Log-scale histogram of non-negative ms values: exact below 64, then 32 buckets per power of two.
constexpr int kHistBuckets = 64 + 57 * 32;
inline int Bucket(int64_t d) {
  if (d < 64) return d < 0 ? 0 : static_cast<int>(d);
  const int e = 63 - std::countl_zero(static_cast<uint64_t>(d));
  const int m = static_cast<int>((d >> (e - 5)) & 31);
  return 64 + (e - 6) * 32 + m;
}
inline double BucketMid(int b) {
  if (b < 64) return b;
  const int e = (b - 64) / 32 + 6, m = (b - 64) % 32;
  const double lo = std::ldexp(32 + m, e - 5), hi = std::ldexp(33 + m, e - 5);
  return (lo + hi - 1) / 2;
}

double HistQuantile(const uint32_t* h, uint64_t n, double q) {
  const double rank = q * (n - 1);
  uint64_t seen = 0;
  for (int b = 0; b < kHistBuckets; ++b) {
    seen += h[b];
    if (seen > rank) return BucketMid(b);
  }
  return BucketMid(kHistBuckets - 1);
}

struct EdgeAcc {
  uint64_t count = 0;
  double sum = 0;
  int64_t min = INT64_MAX, max = INT64_MIN;
  uint64_t last_case = UINT64_MAX;
  uint64_t cases = 0;
  int32_t hist = -1;  // slot in the worker's histogram pool
};

struct VSlot {
  uint64_t hash = 0;
  uint64_t count = 0;  // 0 = empty
  uint64_t first_case = 0;
  double dur_sum = 0;
  uint32_t len = 0;
};

struct Worker {
  std::vector<EdgeAcc> edges;  // A * A
  std::vector<uint32_t> hist_pool;
  std::vector<uint64_t> act_events, act_cases, act_last, start, end;
  std::vector<uint32_t> dur_hist;
  std::vector<VSlot> vt;
  size_t vt_used = 0;
  uint64_t cases = 0, events = 0;
  double dur_sum = 0;
  int64_t dur_min = INT64_MAX, dur_max = INT64_MIN;

  void Init(size_t A, size_t num_edges, bool hist) {
    edges.assign(num_edges, EdgeAcc());
    act_events.assign(A, 0);
    act_cases.assign(A, 0);
    act_last.assign(A, UINT64_MAX);
    start.assign(A, 0);
    end.assign(A, 0);
    if (hist) dur_hist.assign(kHistBuckets, 0);
    vt.assign(1024, VSlot());
  }
  void AddVariant(uint64_t h, uint32_t len, uint64_t c, int64_t dur) {
    if (vt_used * 2 >= vt.size()) Grow();
    size_t mask = vt.size() - 1, i = h & mask;
    for (;;) {
      VSlot& s = vt[i];
      if (s.count == 0) {
        s = {h, 1, c, static_cast<double>(dur), len};
        ++vt_used;
        return;
      }
      if (s.hash == h && s.len == len) {
        ++s.count;
        s.dur_sum += dur;
        if (c < s.first_case) s.first_case = c;
        return;
      }
      i = (i + 1) & mask;
    }
  }
  void Grow() {
    std::vector<VSlot> old = std::move(vt);
    vt.assign(old.size() * 2, VSlot());
    const size_t mask = vt.size() - 1;
    for (const VSlot& s : old) {
      if (!s.count) continue;
      size_t i = s.hash & mask;
      while (vt[i].count) i = (i + 1) & mask;
      vt[i] = s;
    }
  }
};

inline uint64_t Mix(uint64_t h, uint32_t a) {
  h = (h ^ (a + 0x9E3779B97F4A7C15ULL)) * 0xBF58476D1CE4E5B9ULL;
  return h ^ (h >> 31);
}

struct PassIn {
  const uint32_t* act;
  const int64_t* tm;
  const uint64_t* cs;
  size_t A;
  const std::unordered_map<uint64_t, uint32_t>* sparse;
  const std::vector<bool>* keep;
  bool all;
  int64_t* dur_out;
  uint64_t* hash_out;
};

// The inner loop over the cases [c0, c1), specialised for dense edge ids and exact quantiles.
template <bool kDense, bool kExact>
void PassBlock(Worker& w, size_t c0, size_t c1, const PassIn& in) {
  const uint32_t* act = in.act;
  const int64_t* tm = in.tm;
  const uint64_t* cs = in.cs;
  const size_t A = in.A;
  EdgeAcc* E = w.edges.data();
  uint64_t* act_events = w.act_events.data();
  uint64_t* act_cases = w.act_cases.data();
  uint64_t* act_last = w.act_last.data();
  uint64_t cases = 0, events = 0;
  double dur_sum = 0;
  int64_t dur_min = w.dur_min, dur_max = w.dur_max;
  for (size_t c = c0; c < c1; ++c) {
    const uint64_t b = cs[c], e = cs[c + 1];
    if (b == e || (!in.all && !(*in.keep)[c])) {
      if (in.dur_out) in.dur_out[c] = 0;
      continue;
    }
    ++cases;
    events += e - b;
    uint32_t prev = act[b];
    int64_t pt = tm[b];
    ++w.start[prev];
    ++w.end[act[e - 1]];
    const int64_t dur = tm[e - 1] - pt;
    if (in.dur_out) in.dur_out[c] = dur;
    uint64_t h = Mix(0x12345678, prev);
    ++act_events[prev];
    if (act_last[prev] != c) { ++act_cases[prev]; act_last[prev] = c; }
    for (uint64_t i = b + 1; i < e; ++i) {
      const uint32_t a = act[i];
      const int64_t t = tm[i];
      const int64_t d = t - pt;
      size_t k;
      if constexpr (kDense) k = static_cast<size_t>(prev) * A + a;
      else k = in.sparse->find((static_cast<uint64_t>(prev) << 32) | a)->second;
      EdgeAcc& x = E[k];
      ++x.count;
      x.sum += static_cast<double>(d);
      x.min = d < x.min ? d : x.min;
      x.max = d > x.max ? d : x.max;
      if (x.last_case != c) { ++x.cases; x.last_case = c; }
      if constexpr (!kExact) {
        if (x.hist < 0) {
          x.hist = static_cast<int32_t>(w.hist_pool.size() / kHistBuckets);
          w.hist_pool.resize(w.hist_pool.size() + kHistBuckets, 0);
        }
        ++w.hist_pool[static_cast<size_t>(x.hist) * kHistBuckets + Bucket(d)];
      }
      ++act_events[a];
      if (act_last[a] != c) { ++act_cases[a]; act_last[a] = c; }
      h = Mix(h, a);
      prev = a;
      pt = t;
    }
    if constexpr (!kExact) ++w.dur_hist[Bucket(dur)];
    dur_sum += dur;
    dur_min = dur < dur_min ? dur : dur_min;
    dur_max = dur > dur_max ? dur : dur_max;
    if (in.hash_out) in.hash_out[c] = h;
    w.AddVariant(h, static_cast<uint32_t>(e - b), c, dur);
  }
  w.cases += cases;
  w.events += events;
  w.dur_sum += dur_sum;
  w.dur_min = dur_min;
  w.dur_max = dur_max;
}

Distribution FromHist(const std::vector<uint32_t>& h, uint64_t n, double sum_ms, int64_t mn, int64_t mx) {
  Distribution d;
  d.n = n;
  if (!n) return d;
  d.mean = sum_ms / n / 1000.0;
  d.min = mn / 1000.0;
  d.max = mx / 1000.0;
  d.median = HistQuantile(h.data(), n, 0.5) / 1000.0;
  d.p10 = HistQuantile(h.data(), n, 0.1) / 1000.0;
  d.p25 = HistQuantile(h.data(), n, 0.25) / 1000.0;
  d.p75 = HistQuantile(h.data(), n, 0.75) / 1000.0;
  d.p90 = HistQuantile(h.data(), n, 0.9) / 1000.0;
  return d;
}

}  // namespace

namespace {

// Summary of [b, e) (reordered): quantiles by successive nth_element on shrinking ranges.
Distribution SummariseRange(int64_t* b, int64_t* e) {
  Distribution d;
  const size_t n = e - b;
  d.n = n;
  if (!n) return d;
  double sum = 0;
  int64_t mn = INT64_MAX, mx = INT64_MIN;
  for (int64_t* p = b; p != e; ++p) {
    sum += *p;
    mn = std::min(mn, *p);
    mx = std::max(mx, *p);
  }
  d.mean = sum / n / 1000.0;
  d.min = mn / 1000.0;
  d.max = mx / 1000.0;
  const double qs[5] = {0.1, 0.25, 0.5, 0.75, 0.9};
  double* out[5] = {&d.p10, &d.p25, &d.median, &d.p75, &d.p90};
  size_t from = 0;
  for (int i = 0; i < 5; ++i) {
    const double pos = qs[i] * (n - 1);
    const size_t k = static_cast<size_t>(pos);
    if (k >= from) std::nth_element(b + from, b + k, e);
    double v = b[k];
    if (k + 1 < n && pos > k) {
      std::nth_element(b + k + 1, b + k + 1, e);
      v += (b[k + 1] - v) * (pos - k);
      from = k + 1;
    } else {
      from = k;
    }
    *out[i] = v / 1000.0;
  }
  return d;
}

}  // namespace

Distribution Summarise(std::vector<int64_t> v) { return SummariseRange(v.data(), v.data() + v.size()); }

Core AnalyseCases(const EventLog& log, const std::vector<bool>& keep, const AnalysisOptions& opts) {
  static const bool profile = std::getenv("ARK_PATHWAYS_PROFILE") != nullptr;
  auto tp = std::chrono::steady_clock::now();
  auto lap = [&](const char* what) {
    if (!profile) return;
    auto now = std::chrono::steady_clock::now();
    std::fprintf(stderr, "  %-12s %.3f s\n", what, std::chrono::duration<double>(now - tp).count());
    tp = now;
  };
  Core core;
  const size_t A = log.activities.size();
  const size_t C = log.num_cases();
  const bool exact = log.num_events() <= opts.exact_max_events;
  core.approximate_quantiles = !exact;
  const int threads = std::max(1, opts.threads);
  // Blocks of cases with about equal events.
  const size_t nblocks = std::min<size_t>(std::max<size_t>(C, 1), static_cast<size_t>(threads) * 16);
  std::vector<size_t> block_start{0};
  {
    const uint64_t per = log.num_events() / nblocks + 1;
    size_t c = 0;
    for (size_t b = 1; b < nblocks; ++b) {
      const uint64_t target = per * b;
      c = std::upper_bound(log.case_start.begin() + c, log.case_start.end() - 1, target) - log.case_start.begin();
      if (c > C) c = C;
      block_start.push_back(std::max(c, block_start.back()));
    }
    block_start.push_back(C);
  }
  // Edge ids: from * A + to for up to 1024 activities, else ids from a hash map built first.
  const bool dense = A <= 1024;
  std::unordered_map<uint64_t, uint32_t> sparse;
  std::vector<uint64_t> sparse_keys;
  if (!dense) {
    for (size_t c = 0; c < C; ++c)
      for (uint64_t i = log.case_start[c] + 1; i < log.case_start[c + 1]; ++i) {
        const uint64_t key = (static_cast<uint64_t>(log.activity[i - 1]) << 32) | log.activity[i];
        if (sparse.emplace(key, sparse_keys.size()).second) sparse_keys.push_back(key);
      }
  }
  const size_t NE = dense ? A * A : sparse_keys.size();
  auto eidx = [&](uint32_t p, uint32_t a) -> size_t {
    return dense ? static_cast<size_t>(p) * A + a : sparse.find((static_cast<uint64_t>(p) << 32) | a)->second;
  };
  std::vector<Worker> workers(threads);
  for (auto& w : workers) w.Init(A, NE, !exact);
  if (opts.per_case) core.case_duration_ms.resize(C);  // written by the pass
  // Written for every non-empty kept case.
  std::vector<uint64_t, NoInitAllocator<uint64_t>> case_hash(opts.per_case ? C : 0);
  lap("setup");
  const uint32_t* act = log.activity.data();
  const int64_t* tm = log.time_ms.data();
  const uint64_t* cs = log.case_start.data();
  const bool all = keep.empty();

  PassIn in{act, tm, cs, A, &sparse, &keep, all, opts.per_case ? core.case_duration_ms.data() : nullptr, opts.per_case ? case_hash.data() : nullptr};
  Status st = store::ParallelFor(block_start.size() - 1, threads, [&](size_t blk, int wi) -> Status {
    Worker& w = workers[wi];
    const size_t c0 = block_start[blk], c1 = block_start[blk + 1];
    if (dense && exact) PassBlock<true, true>(w, c0, c1, in);
    else if (dense) PassBlock<true, false>(w, c0, c1, in);
    else if (exact) PassBlock<false, true>(w, c0, c1, in);
    else PassBlock<false, false>(w, c0, c1, in);
    return Status::OK();
  });
  (void)st;
  lap("pass");

  // Merge.
  core.activity_events.assign(A, 0);
  core.activity_cases.assign(A, 0);
  core.start.assign(A, 0);
  core.end.assign(A, 0);
  std::vector<EdgeAcc> edges(NE);
  std::vector<std::vector<uint32_t>> hists;
  std::vector<int32_t> edge_hist(NE, -1);
  for (auto& w : workers) {
    core.cases += w.cases;
    core.events += w.events;
    for (size_t a = 0; a < A; ++a) {
      core.activity_events[a] += w.act_events[a];
      core.activity_cases[a] += w.act_cases[a];
      core.start[a] += w.start[a];
      core.end[a] += w.end[a];
    }
    for (size_t k = 0; k < NE; ++k) {
      const EdgeAcc& x = w.edges[k];
      if (!x.count) continue;
      EdgeAcc& y = edges[k];
      y.count += x.count;
      y.sum += x.sum;
      y.min = std::min(y.min, x.min);
      y.max = std::max(y.max, x.max);
      y.cases += x.cases;  // a case lies in one block, so per-worker case counts add up
      if (!exact) {
        if (edge_hist[k] < 0) {
          edge_hist[k] = static_cast<int32_t>(hists.size());
          hists.emplace_back(kHistBuckets, 0);
        }
        auto& hh = hists[edge_hist[k]];
        const uint32_t* src = &w.hist_pool[static_cast<size_t>(x.hist) * kHistBuckets];
        for (int i = 0; i < kHistBuckets; ++i) hh[i] += src[i];
      }
    }
  }
  lap("merge");
  // Exact edge quantiles: one more pass putting each edge's deltas together.
  std::vector<uint64_t> off;
  std::vector<int64_t> deltas;
  if (exact) {
    off.assign(NE + 1, 0);
    for (size_t k = 0; k < NE; ++k) off[k + 1] = off[k] + edges[k].count;
    deltas.resize(off.back());
    std::vector<uint64_t> pos(off.begin(), off.end() - 1);
    for (size_t c = 0; c < C; ++c) {
      if (!all && !keep[c]) continue;
      for (uint64_t i = cs[c] + 1; i < cs[c + 1]; ++i)
        deltas[pos[eidx(act[i - 1], act[i])]++] = tm[i] - tm[i - 1];
    }
  }
  for (size_t k = 0; k < NE; ++k) {
    const EdgeAcc& x = edges[k];
    if (!x.count) continue;
    Edge ed;
    ed.from = static_cast<uint32_t>(dense ? k / A : sparse_keys[k] >> 32);
    ed.to = static_cast<uint32_t>(dense ? k % A : sparse_keys[k] & 0xFFFFFFFFu);
    ed.count = x.count;
    ed.cases = x.cases;
    if (exact) {
      ed.time = SummariseRange(deltas.data() + off[k], deltas.data() + off[k + 1]);
    } else {
      ed.time = FromHist(hists[edge_hist[k]], x.count, x.sum, x.min, x.max);
    }
    core.edges.push_back(ed);
  }
  std::stable_sort(core.edges.begin(), core.edges.end(), [](const Edge& a, const Edge& b) { return a.count > b.count; });

  lap("edges");
  // Variants.
  struct Key {
    uint64_t h;
    uint32_t len;
    bool operator==(const Key& o) const { return h == o.h && len == o.len; }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return k.h ^ (k.len * 0x9E3779B97F4A7C15ULL); }
  };
  std::unordered_map<Key, size_t, KeyHash> vmap;
  std::vector<VSlot> merged;
  for (auto& w : workers) {
    for (const VSlot& s : w.vt) {
      if (!s.count) continue;
      auto [it, fresh] = vmap.emplace(Key{s.hash, s.len}, merged.size());
      if (fresh) {
        merged.push_back(s);
      } else {
        VSlot& m = merged[it->second];
        m.count += s.count;
        m.dur_sum += s.dur_sum;
        m.first_case = std::min(m.first_case, s.first_case);
      }
    }
  }
  std::vector<size_t> order(merged.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (merged[a].count != merged[b].count) return merged[a].count > merged[b].count;
    return merged[a].first_case < merged[b].first_case;
  });
  std::vector<uint32_t> rank(merged.size());
  for (size_t r = 0; r < order.size(); ++r) {
    const VSlot& s = merged[order[r]];
    rank[order[r]] = static_cast<uint32_t>(r);
    Variant v;
    v.count = s.count;
    v.share = core.cases ? static_cast<double>(s.count) / core.cases : 0;
    v.mean_duration_s = s.dur_sum / s.count / 1000.0;
    v.first_case = s.first_case;
    v.activities.assign(act + cs[s.first_case], act + cs[s.first_case + 1]);
    core.variants.push_back(std::move(v));
  }
  // Case -> variant rank, in parallel through a flat open-addressing table (hash, len) -> rank.
  if (opts.per_case) {
    size_t cap = 16;
    while (cap < merged.size() * 2) cap <<= 1;
    struct FSlot {
      uint64_t h;
      uint32_t len, rank;
    };
    std::vector<FSlot> flat(cap, FSlot{0, 0, UINT32_MAX});
    for (size_t i = 0; i < merged.size(); ++i) {
      size_t j = merged[i].hash & (cap - 1);
      while (flat[j].rank != UINT32_MAX) j = (j + 1) & (cap - 1);
      flat[j] = {merged[i].hash, merged[i].len, rank[i]};
    }
    core.case_variant.resize(C);
    uint32_t* cv = core.case_variant.data();
    const uint64_t* ch = case_hash.data();
    (void)store::ParallelFor(block_start.size() - 1, threads, [&](size_t blk, int) -> Status {
      for (size_t c = block_start[blk]; c < block_start[blk + 1]; ++c) {
        cv[c] = UINT32_MAX;
        if ((!all && !keep[c]) || cs[c] == cs[c + 1]) continue;
        const uint64_t h = ch[c];
        const uint32_t len = static_cast<uint32_t>(cs[c + 1] - cs[c]);
        size_t j = h & (cap - 1);
        while (flat[j].rank != UINT32_MAX && !(flat[j].h == h && flat[j].len == len)) j = (j + 1) & (cap - 1);
        cv[c] = flat[j].rank;
      }
      return Status::OK();
    });
  }

  lap("variants");
  // Case durations.
  if (exact) {
    std::vector<int64_t> d;
    d.reserve(core.cases);
    for (size_t c = 0; c < C; ++c)
      if ((all || keep[c]) && cs[c] != cs[c + 1]) d.push_back(tm[cs[c + 1] - 1] - tm[cs[c]]);
    core.duration = Summarise(std::move(d));
  } else {
    std::vector<uint32_t> h(kHistBuckets, 0);
    double sum = 0;
    int64_t mn = INT64_MAX, mx = INT64_MIN;
    for (auto& w : workers) {
      for (int i = 0; i < kHistBuckets; ++i) h[i] += w.dur_hist[i];
      sum += w.dur_sum;
      mn = std::min(mn, w.dur_min);
      mx = std::max(mx, w.dur_max);
    }
    core.duration = FromHist(h, core.cases, sum, mn, mx);
  }
  lap("durations");
  return core;
}

Core Analyse(const EventLog& log, const AnalysisOptions& opts) { return AnalyseCases(log, {}, opts); }

namespace {
constexpr size_t kLargeBytes = size_t{4} << 20;
}

void* AllocLarge(size_t bytes) {
  if (bytes < kLargeBytes) return ::operator new(bytes);
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  madvise(p, bytes, MADV_HUGEPAGE);
  return p;
}

void FreeLarge(void* p, size_t bytes) {
  if (!p) return;
  if (bytes < kLargeBytes) ::operator delete(p);
  else munmap(p, bytes);
}

std::string HumanDuration(double s) {
  char buf[64];
  const double a = std::fabs(s);
  if (a < 60) std::snprintf(buf, sizeof buf, "%.0f s", s);
  else if (a < 3600) std::snprintf(buf, sizeof buf, "%.0f min", s / 60);
  else if (a < 86400) std::snprintf(buf, sizeof buf, "%.1f h", s / 3600);
  else std::snprintf(buf, sizeof buf, "%.1f d", s / 86400);
  return buf;
}

}  // namespace ark::pathways
