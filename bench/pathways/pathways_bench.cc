// Pathways benchmark: graph + variants + durations over a large event log, and XES import.
//
// The large log replicates the public hospital_billing log (eventdataR, 49,951 events) R times:
// replica r has case ids "<case>#r" and every timestamp shifted by r seconds, so the
// directly-follows counts are R times the original's (checked). bench/pathways/duckdb_dfg.mjs
// builds the same log inside DuckDB and computes the same counts with window functions.
//
// Usage: pathways_bench [--events N] [--threads T] [--xes-events N] [--log FILE] [--json OUT]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "pathways/analysis.h"
#include "pathways/log_io.h"

using namespace ark;
using namespace ark::pathways;

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

EventLog Replicate(const EventLog& base, uint64_t target_events) {
  const uint64_t R = std::max<uint64_t>(1, (target_events + base.num_events() - 1) / base.num_events());
  EventLog log;
  log.activities = base.activities;
  const size_t C = base.num_cases();
  log.case_ids.reserve(C * R);
  log.case_start.reserve(C * R + 1);
  log.activity.reserve(base.num_events() * R);
  log.time_ms.reserve(base.num_events() * R);
  log.case_start.push_back(0);
  for (uint64_t r = 0; r < R; ++r) {
    for (size_t c = 0; c < C; ++c) {
      log.case_ids.push_back(base.case_ids[c] + "#" + std::to_string(r));
      for (uint64_t i = base.case_start[c]; i < base.case_start[c + 1]; ++i) {
        log.activity.push_back(base.activity[i]);
        log.time_ms.push_back(base.time_ms[i] + static_cast<int64_t>(r) * 1000);
      }
      log.case_start.push_back(log.activity.size());
    }
  }
  return log;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t events = 100000000, xes_events = 2000000;
  int threads = 2, reps = 3;
  std::string path = std::string(ARK_SOURCE_DIR) + "/../shared/data/pathways/eventdataR/hospital_billing.csv";
  std::string json_out;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--events") events = std::strtoull(next().c_str(), nullptr, 10);
    else if (a == "--threads") threads = std::atoi(next().c_str());
    else if (a == "--xes-events") xes_events = std::strtoull(next().c_str(), nullptr, 10);
    else if (a == "--log") path = next();
    else if (a == "--json") json_out = next();
    else if (a == "--reps") reps = std::atoi(next().c_str());
    else {
      std::fprintf(stderr, "usage: pathways_bench [--events N] [--threads T] [--xes-events N] [--log FILE] [--json OUT]\n");
      return 2;
    }
  }
  CsvLogOptions o;
  o.timestamp_col = "timestamp_posixct_as_utc";
  auto base = ReadCsvLog(path, o);
  if (!base.ok()) {
    std::fprintf(stderr, "%s\n", base.status().ToString().c_str());
    return 1;
  }
  Core base_core = Analyse(*base);
  double t0 = Now();
  EventLog big = Replicate(*base, events);
  const double build_s = Now() - t0;
  const uint64_t R = big.num_events() / base->num_events();
  std::fprintf(stderr, "log: %zu events, %zu cases (%llu replicas), built in %.1f s\n", big.num_events(), big.num_cases(),
               (unsigned long long)R, build_s);

  // Graph + variants + durations: best of `reps`.
  AnalysisOptions opts;
  opts.threads = threads;
  double best = 1e300;
  Core core;
  for (int r = 0; r < reps; ++r) {
    t0 = Now();
    core = Analyse(big, opts);
    best = std::min(best, Now() - t0);
  }
  // The same without per-case output arrays (durations.csv, per-case variant ids).
  AnalysisOptions lean = opts;
  lean.per_case = false;
  double best_lean = 1e300;
  for (int r = 0; r < reps; ++r) {
    t0 = Now();
    Core c2 = Analyse(big, lean);
    best_lean = std::min(best_lean, Now() - t0);
  }
  // Check: counts are R times the original's.
  bool ok = core.variants.size() == base_core.variants.size() && core.edges.size() == base_core.edges.size();
  uint64_t dfg_total = 0;
  for (size_t i = 0; i < core.edges.size() && ok; ++i) {
    ok = core.edges[i].count == base_core.edges[i].count * R;
    dfg_total += core.edges[i].count;
  }
  const double eps = big.num_events() / best;
  std::printf("analyse (graph+variants+durations): %zu events in %.3f s = %.0f M events/s on %d threads; %zu edges, "
              "%zu variants, directly-follows pairs %llu; check %s\n",
              big.num_events(), best, eps / 1e6, threads, core.edges.size(), core.variants.size(),
              (unsigned long long)dfg_total, ok ? "ok" : "FAILED");
  std::printf("analyse without per-case arrays: %.3f s = %.0f M events/s\n", best_lean, big.num_events() / best_lean / 1e6);

  // XES import.
  EventLog xl = Replicate(*base, xes_events);
  const std::string xes = "/tmp/ark_pathways_bench.xes";
  Status s = WriteXesLog(xl, xes);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  double xbest = 1e300;
  for (int r = 0; r < reps; ++r) {
    t0 = Now();
    auto back = ReadXesLog(xes);
    xbest = std::min(xbest, Now() - t0);
    if (!back.ok() || back->num_events() != xl.num_events()) {
      std::fprintf(stderr, "XES read failed\n");
      return 1;
    }
  }
  const double xes_mb = static_cast<double>(DiskUsage(xes)) / 1e6;
  std::printf("XES import: %zu events (%.0f MB) in %.3f s = %.2f M events/s\n", xl.num_events(), xes_mb, xbest,
              xl.num_events() / xbest / 1e6);
  const std::string xgz = xes + ".gz";
  s = WriteXesLog(xl, xgz);
  double gbest = 1e300;
  if (s.ok()) {
    for (int r = 0; r < reps; ++r) {
      t0 = Now();
      auto back = ReadXesLog(xgz);
      gbest = std::min(gbest, Now() - t0);
      if (!back.ok()) return 1;
    }
    std::printf("XES.gz import: %zu events in %.3f s = %.2f M events/s\n", xl.num_events(), gbest,
                xl.num_events() / gbest / 1e6);
  }
  std::remove(xes.c_str());
  std::remove(xgz.c_str());
  if (!json_out.empty()) {
    nlohmann::ordered_json j = {{"events", big.num_events()},
                                {"cases", big.num_cases()},
                                {"replicas", R},
                                {"threads", threads},
                                {"analyse_seconds", best},
                                {"analyse_events_per_second", eps},
                                {"analyse_no_per_case_seconds", best_lean},
                                {"analyse_no_per_case_events_per_second", big.num_events() / best_lean},
                                {"edges", core.edges.size()},
                                {"variants", core.variants.size()},
                                {"dfg_pairs", dfg_total},
                                {"check", ok},
                                {"xes_events", xl.num_events()},
                                {"xes_seconds", xbest},
                                {"xes_events_per_second", xl.num_events() / xbest},
                                {"xes_gz_seconds", gbest},
                                {"pm4py_published_xes_events_per_second", 262200 / 13.0}};
    if (!WriteFileAtomic(json_out, j.dump(2) + "\n").ok()) return 1;
  }
  return ok ? 0 : 1;
}
