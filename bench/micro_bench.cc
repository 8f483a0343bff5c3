// ark_micro_bench: Google Benchmark micro-benchmarks of the timeline store's read paths (optional;
// built when libbenchmark-dev is installed; not part of run.sh's table).
//
//   ark_micro_bench                          builds a synthetic store (200k persons, ~60 events
//                                            each, Zipf-like codes over 2,000 codes, 2016-2025)
//                                            in a temporary directory, then benchmarks it
//   ARK_MICRO_ARK=/path/to/ark ark_micro_bench    benchmarks an existing Ark's store instead
//
// Counters: events/s is store events divided by the time of one call (the rate the brief's
// targets use). The code sets and the window are chosen as run.sh does: evenly spaced ranks by
// frequency; 4 calendar years centred on the year of the median event.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/time.h"
#include "store/store.h"
#include "store/timeline_writer.h"

namespace {

struct Fixture {
  std::string tmp;  // removed at exit when we made it
  std::unique_ptr<ark::Store> store;
  std::vector<ark::CodeId> by_frequency;  // code ids, most frequent first
  ark::Seconds from = 0, to = 0;

  ~Fixture() {
    store.reset();
    if (!tmp.empty()) std::filesystem::remove_all(tmp);
  }
};

[[noreturn]] void Die(const std::string& m) {
  std::fprintf(stderr, "ark_micro_bench: %s\n", m.c_str());
  std::exit(1);
}

void BuildSynthetic(const std::string& store_dir) {
  constexpr uint32_t kPersons = 200000, kCodes = 2000;
  ark::Dictionaries d;
  for (uint32_t c = 1; c <= kCodes; ++c) d.codes.push_back("TEST/C" + std::to_string(c));
  std::mt19937_64 rng(7);
  std::vector<double> w(kCodes);
  for (uint32_t c = 0; c < kCodes; ++c) w[c] = 1.0 / (c + 1);
  std::discrete_distribution<uint32_t> code(w.begin(), w.end());
  std::uniform_int_distribution<int> n_events(0, 120);
  const int32_t first = ark::DaysFromCivil(2016, 1, 1), last = ark::DaysFromCivil(2025, 12, 31);
  std::uniform_int_distribution<int32_t> day(first, last);
  auto w_or = ark::TimelineWriter::Create(store_dir);
  if (!w_or.ok()) Die(w_or.status().ToString());
  auto& writer = *w_or;
  std::vector<ark::Event> ev;
  for (uint32_t k = 0; k < kPersons; ++k) {
    ark::Person p;
    p.key = k;
    ev.resize(n_events(rng));
    for (auto& e : ev) {
      e = ark::Event{};
      e.person = k;
      e.time = int64_t{day(rng)} * ark::kSecondsPerDay;
      e.code = code(rng) + 1;
    }
    std::sort(ev.begin(), ev.end(),
              [](const ark::Event& a, const ark::Event& b) { return a.time < b.time; });
    if (auto s = writer->AddPerson(p, ev); !s.ok()) Die(s.ToString());
  }
  if (auto s = writer->Finish(d); !s.ok()) Die(s.ToString());
}

Fixture& Get() {
  static std::unique_ptr<Fixture> f = [] {
    auto owned = std::make_unique<Fixture>();
    Fixture& x = *owned;
    std::string ark_dir;
    if (const char* env = std::getenv("ARK_MICRO_ARK")) {
      ark_dir = env;
    } else {
      x.tmp = (std::filesystem::temp_directory_path() / ("ark_micro_" + std::to_string(::getpid())))
                  .string();
      ark_dir = x.tmp;
      BuildSynthetic(ark_dir + "/store");
    }
    auto s = ark::Store::Open(ark_dir + "/store");
    if (!s.ok()) Die(s.status().ToString());
    x.store = std::move(*s);
    // Code frequencies and events per calendar year, in one pass.
    std::vector<uint64_t> freq(x.store->dicts()->codes.size(), 0);
    std::map<int, uint64_t> by_year;
    uint64_t total = 0;
    (void)x.store->ForEachPerson([&](const ark::Person&, std::span<const ark::Event> events) {
      for (const auto& e : events) {
        if (e.code >= freq.size()) freq.resize(e.code + 1, 0);
        ++freq[e.code];
        ++by_year[ark::CivilFromDays(ark::DayOf(e.time)).year];
      }
      total += events.size();
      return ark::Status::OK();
    });
    for (ark::CodeId c = 1; c < freq.size(); ++c) {
      if (freq[c]) x.by_frequency.push_back(c);
    }
    std::sort(x.by_frequency.begin(), x.by_frequency.end(), [&](ark::CodeId a, ark::CodeId b) {
      return freq[a] != freq[b] ? freq[a] > freq[b] : a < b;
    });
    // The window run.sh uses: 4 calendar years centred on the year of the median event.
    int median_year = by_year.empty() ? 2020 : by_year.begin()->first;
    uint64_t acc = 0;
    for (auto& [y, n] : by_year) {
      acc += n;
      if (2 * acc >= total) {
        median_year = y;
        break;
      }
    }
    x.from = int64_t{ark::DaysFromCivil(median_year - 2, 1, 1)} * ark::kSecondsPerDay;
    x.to = int64_t{ark::DaysFromCivil(median_year + 2, 1, 1)} * ark::kSecondsPerDay;
    return owned;
  }();
  return *f;
}

std::vector<ark::CodeId> Spread(size_t n) {
  const auto& all = Get().by_frequency;
  std::vector<ark::CodeId> out;
  if (all.empty() || n == 0) return out;
  if (all.size() <= n) return all;
  for (size_t i = 0; i < n; ++i) out.push_back(all[i * (all.size() - 1) / (n > 1 ? n - 1 : 1)]);
  return out;
}

// CountPersonsWithAnyCode: args (codes in the set, threads). A window of 4 years, or all time
// when the third arg is 1.
void BM_CountPersons(benchmark::State& state) {
  Fixture& f = Get();
  const auto codes = Spread(static_cast<size_t>(state.range(0)));
  const int threads = static_cast<int>(state.range(1));
  const bool all_time = state.range(2) == 1;
  const ark::Seconds from = all_time ? INT64_MIN / 2 : f.from, to = all_time ? INT64_MAX / 2 : f.to;
  uint64_t n = 0;
  for (auto _ : state) {
    auto r = f.store->CountPersonsWithAnyCode(codes, from, to, threads);
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
    n = r.ok() ? *r : 0;
    benchmark::DoNotOptimize(n);
  }
  state.counters["persons"] = static_cast<double>(n);
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(f.store->num_events()),
                                                  benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_CountPersons)
    ->ArgNames({"codes", "threads", "all_time"})
    ->Args({1, 1, 0})
    ->Args({50, 1, 0})
    ->Args({50, 2, 0})
    ->Args({50, 2, 1})
    ->Args({500, 2, 0})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// ForEachPerson: full decode of every column and the person attributes (what an exporter or a
// general query pays).
void BM_ForEachPerson(benchmark::State& state) {
  Fixture& f = Get();
  const int threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    std::atomic<uint64_t> n{0};
    auto s = f.store->ForEachPerson(
        [&](const ark::Person&, std::span<const ark::Event> events) {
          n.fetch_add(events.size(), std::memory_order_relaxed);
          return ark::Status::OK();
        },
        threads);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(n.load());
  }
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(f.store->num_events()),
                                                  benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ForEachPerson)
    ->ArgNames({"threads"})
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
