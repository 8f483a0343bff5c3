// Process-mining analyses over an EventLog: the directly-follows graph (frequency and
// performance), variants, start and end activities, case durations (Analyse, one parallel pass),
// and the slower, smaller analyses built on it: waiting time between two activities, loops and
// rework, two groups compared, conformance to a reference pathway.
//
// Times are reported in seconds (doubles). Quantiles: median and p90 use linear interpolation
// between order statistics (numpy's default, as pm4py). They are exact up to
// AnalysisOptions::exact_max_events; above it they come from a log-scale histogram (relative
// error below 1.6%) and Core::approximate_quantiles is set.
//
// Variants are identified by a 64-bit hash of the activity sequence plus its length (a collision
// among 10^6 variants has probability ~10^-8); each variant keeps its first case, so sequences
// are exact.
//
// Thread safety: all functions are pure; Analyse runs on opts.threads threads.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <string>
#include <vector>

#include "ark/status.h"
#include "pathways/event_log.h"

namespace ark::pathways {

struct AnalysisOptions {
  int threads = 2;                        // worker threads. Default: 2.
  uint64_t exact_max_events = 20000000;   // exact quantiles up to this many events. Default: 20M.
  // Fill Core::case_duration_ms and Core::case_variant (per-case outputs: durations.csv, the
  // report's duration charts). false saves three arrays of one entry per case. Default: true.
  bool per_case = true;
};

// Summary of a distribution of durations (seconds).
struct Distribution {
  uint64_t n = 0;
  double mean = 0, median = 0, min = 0, max = 0, p10 = 0, p25 = 0, p75 = 0, p90 = 0;
};

struct Edge {
  uint32_t from = 0, to = 0;
  uint64_t count = 0;     // directly-follows occurrences
  uint64_t cases = 0;     // cases with at least one occurrence (exact below exact_max_events, else 0)
  Distribution time;      // time between the two events
};

struct Variant {
  std::vector<uint32_t> activities;
  uint64_t count = 0;
  double share = 0;              // count / cases
  double mean_duration_s = 0;    // mean case duration of the variant's cases
  uint64_t first_case = 0;       // index of the first case with this variant
};

// Large per-case arrays: memory from mmap, advised to use transparent huge pages (a 20M-case
// array otherwise costs ~100k page faults, more than the pass that fills it). Small ones: new.
void* AllocLarge(size_t bytes);
void FreeLarge(void* p, size_t bytes);

// An allocator that leaves new elements uninitialised (resize without a zero-fill pass), for
// per-case arrays that the parallel pass writes in full. Backed by AllocLarge.
template <typename T>
struct NoInitAllocator : std::allocator<T> {
  using value_type = T;
  NoInitAllocator() = default;
  template <typename U>
  NoInitAllocator(const NoInitAllocator<U>&) {}
  template <typename U>
  struct rebind {
    using other = NoInitAllocator<U>;
  };
  T* allocate(size_t n) { return static_cast<T*>(AllocLarge(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { FreeLarge(p, n * sizeof(T)); }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    if constexpr (sizeof...(Args) == 0) ::new (static_cast<void*>(p)) U;
    else ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

struct Core {
  uint64_t cases = 0, events = 0;
  std::vector<uint64_t> activity_events;  // per activity id: events
  std::vector<uint64_t> activity_cases;   // per activity id: cases containing it
  std::vector<uint64_t> start, end;       // per activity id: cases starting / ending with it
  std::vector<Edge> edges;                // by count descending
  std::vector<Variant> variants;          // by count descending, then first case
  std::vector<int64_t, NoInitAllocator<int64_t>> case_duration_ms;  // per case (empty unless AnalysisOptions::per_case)
  std::vector<uint32_t, NoInitAllocator<uint32_t>> case_variant;  // per case: index into variants, UINT32_MAX for cases
                                          // left out (empty unless AnalysisOptions::per_case)
  Distribution duration;                  // case durations
  bool approximate_quantiles = false;
};

// One pass over every case (parallel by blocks of cases).
Core Analyse(const EventLog& log, const AnalysisOptions& opts = {});
// Analyse restricted to the cases where keep[c] is true.
Core AnalyseCases(const EventLog& log, const std::vector<bool>& keep, const AnalysisOptions& opts = {});

// Exact summary of durations in ms (values are copied and partially sorted).
Distribution Summarise(std::vector<int64_t> ms);

// Time from the first `from` in a case to the first `to` after it.
struct Waiting {
  std::string from, to;
  uint64_t cases_with_from = 0, cases_with_both = 0;
  Distribution time;
  std::vector<int64_t> samples_ms;  // one per case with both
};
Result<Waiting> WaitingTime(const EventLog& log, const std::string& from, const std::string& to);

// Loops and rework per activity.
struct Rework {
  uint32_t activity = 0;
  uint64_t cases_repeated = 0;   // cases where the activity occurs more than once
  uint64_t extra_events = 0;     // occurrences beyond the first, summed over cases
  uint64_t self_loops = 0;       // a -> a directly
  uint64_t short_loops = 0;      // a -> b -> a (b != a)
};
std::vector<Rework> FindRework(const EventLog& log);  // activities with any rework, most first

// Two groups of cases compared: prevalence of activities and edges, durations, edge times.
struct Difference {
  std::string what;        // "activity X" or "X -> Y" or "case duration (median)"
  double a = 0, b = 0;     // share of cases (0..1) or seconds
  double diff = 0;         // a - b (share points or seconds)
  double z = 0;            // two-proportion z statistic (shares), 0 otherwise
  bool highlight = false;  // |z| >= 3 and |diff| >= 0.02 for shares; ratio >= 1.25 for times
};
struct Comparison {
  std::string attribute, label_a, label_b;
  Core a, b;
  std::vector<Difference> differences;  // highlighted first, then by |z|
};
// Splits cases by case attribute `attr`: group A = values in `a`, group B = values in `b`.
Result<Comparison> Compare(const EventLog& log, const std::string& attr, const std::vector<std::string>& a,
                           const std::vector<std::string>& b, const std::string& label_a,
                           const std::string& label_b, const AnalysisOptions& opts = {});

// Conformance of cases to a reference pathway (a sequence of activities), by an optimal
// alignment on the sequence (longest common subsequence): moves on log (extra activities) and
// moves on model (missing activities). fitness = 1 - moves / (case length + reference length).
struct Conformance {
  std::vector<std::string> reference;
  uint64_t cases = 0;
  uint64_t fitting = 0;          // cases whose sequence equals the reference
  uint64_t contains = 0;         // cases that contain the reference as a subsequence
  double mean_fitness = 0;
  struct Deviation {
    std::string what;  // "missing X", "extra X"
    uint64_t cases = 0;
  };
  std::vector<Deviation> deviations;  // by cases, most first
};
Result<Conformance> CheckConformance(const EventLog& log, const Core& core, const std::vector<std::string>& reference);

// "3 d 4 h", "5 h 12 min", "42 s".
std::string HumanDuration(double seconds);

}  // namespace ark::pathways
