// `ark append`, `ark compact`, `ark verify`, `ark scan`: the timeline store's own commands
// (docs/store-format.md). The store of an Ark lives in ARK/store.
#include <atomic>
#include <chrono>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "command.h"
#include "catalog/catalog.h"
#include "core/csv.h"
#include "core/fs.h"
#include "core/time.h"
#include "disclosure/opensafely.h"
#include "governance/gate.h"
#include "store/store.h"
#include "who.h"

namespace ark::cli {
namespace {

constexpr const char* kTimeFormat = "%Y-%m-%d %H:%M:%S";  // the time part may be omitted

// For the commands that read an existing store (verify, scan, compact): Store::Open takes a
// missing directory for an empty store, which would let `ark verify nosuch` report "ok".
// NotFound when `dir` does not exist, FailedPrecondition when it holds no store.
Status RequireStore(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return Status::NotFound(dir + ": no such directory");
  if (!std::filesystem::is_directory(dir, ec)) {
    return Status::InvalidArgument(dir + ": not a directory (expected an Ark)");
  }
  if (!std::filesystem::is_directory(dir + "/store", ec)) {
    return Status::FailedPrecondition(dir + " has no timeline store (" + dir + "/store): " +
                                      (PathExists(dir + "/catalog.db") ? "run 'ark build " + dir + "' first"
                                                                       : std::string("not an Ark")));
  }
  return Status::OK();
}

// Reads FILE (columns person,time,code[,value,unit,end,source,encounter]) into append records.
Result<std::vector<AppendEvent>> ReadAppendCsv(const std::string& path) {
  ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(path));
  const int person = f.ColumnIndex("person"), time = f.ColumnIndex("time"), code = f.ColumnIndex("code");
  if (person < 0 || time < 0 || code < 0) return f.Error(1, "needs columns person, time and code");
  const int value = f.ColumnIndex("value"), unit = f.ColumnIndex("unit"), end = f.ColumnIndex("end");
  const int source = f.ColumnIndex("source"), encounter = f.ColumnIndex("encounter");
  std::vector<AppendEvent> out;
  CsvParser p(f.body(), f.body_first_line());
  std::vector<std::string_view> row;
  auto field = [&](int col) { return col >= 0 && static_cast<size_t>(col) < row.size() ? row[col] : std::string_view(); };
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool more, p.Next(&row));
    if (!more) break;
    const int64_t line = p.line();
    AppendEvent e;
    char* stop = nullptr;
    const std::string key(field(person));
    const unsigned long long k = std::strtoull(key.c_str(), &stop, 10);
    if (key.empty() || *stop != '\0' || k >= UINT32_MAX) return f.Error(line, "person", "'" + key + "' is not a person key");
    e.person = static_cast<PersonKey>(k);
    auto t = ParseTime(field(time), kTimeFormat);
    if (!t.ok()) return f.Error(line, "time", t.status().message());
    e.time = *t;
    e.code = std::string(field(code));
    if (e.code.empty()) return f.Error(line, "code", "empty");
    if (!field(value).empty()) {
      const std::string v(field(value));
      e.value = std::strtod(v.c_str(), &stop);
      if (*stop != '\0') return f.Error(line, "value", "'" + v + "' is not a number");
    }
    e.unit = std::string(field(unit));
    if (!field(end).empty()) {
      auto t2 = ParseTime(field(end), kTimeFormat);
      if (!t2.ok()) return f.Error(line, "end", t2.status().message());
      e.end = *t2;
    }
    e.source = std::string(field(source));
    if (!field(encounter).empty()) {
      const std::string v(field(encounter));
      const unsigned long long n = std::strtoull(v.c_str(), &stop, 10);
      if (*stop != '\0' || n > UINT32_MAX) return f.Error(line, "encounter", "'" + v + "' is not an encounter id");
      e.encounter = static_cast<uint32_t>(n);
    }
    out.push_back(std::move(e));
  }
  return out;
}

// Before anything is appended: the catalog's next_person moves above every key in `events`, so
// that linkage never hands one of them to another person (a bare store without a catalog has no
// linkage to protect).
Status ReservePersonKeys(const std::string& dir, const std::vector<AppendEvent>& events) {
  if (events.empty() || !PathExists(dir + "/catalog.db")) return Status::OK();
  uint64_t top = 0;
  for (const AppendEvent& e : events) top = std::max<uint64_t>(top, uint64_t{e.person} + 1);
  ARK_ASSIGN_OR_RETURN(auto cat, Catalog::Open(dir));
  return cat->RaiseNextPerson(top);
}

int Append(int argc, char** argv) {
  CLI::App app("Append events durably to the timeline store (write-ahead log + group commit).\n"
               "FILE has columns person,time,code and optionally value,unit,end,source,encounter;\n"
               "times are 'YYYY-MM-DD[ HH:MM[:SS]]'. Prints 'acked N' each time the first N rows are durable.",
               "ark append");
  std::string dir, csv;
  size_t batch = 1000;
  int threads = 1;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("--csv", csv, "CSV file of events")->required();
  app.add_option("--batch", batch, "rows per append call")->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "concurrent appenders (their fsyncs are shared)")->check(CLI::Range(1, 64));
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto events = ReadAppendCsv(csv);
  if (!events.ok()) return ReportError(events.status());
  if (Status s = ReservePersonKeys(dir, *events); !s.ok()) return ReportError(s);
  auto store = Store::Open(dir + "/store");
  if (!store.ok()) return ReportError(store.status());
  const size_t n = events->size();
  const size_t batches = (n + batch - 1) / batch;
  // Batches are taken in order by the appenders; "acked N" reports the durable prefix.
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::vector<bool> done(batches, false);
  size_t acked_batches = 0;
  Status first_error;
  auto run = [&] {
    for (;;) {
      const size_t b = next.fetch_add(1);
      if (b >= batches) return;
      const size_t lo = b * batch, len = std::min(batch, n - lo);
      Status s = (*store)->Append(std::span<const AppendEvent>(events->data() + lo, len));
      std::lock_guard<std::mutex> l(mu);
      if (!s.ok()) {
        if (first_error.ok()) first_error = s;
        next = batches;
        return;
      }
      done[b] = true;
      const size_t before = acked_batches;
      while (acked_batches < batches && done[acked_batches]) ++acked_batches;
      if (acked_batches != before) {
        std::printf("acked %zu\n", std::min(n, acked_batches * batch));
        std::fflush(stdout);
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(run);
  run();
  for (auto& t : pool) t.join();
  return ReportError(first_error);
}

int Compact(int argc, char** argv) {
  CLI::App app("Fold the store's live delta (WAL) into a new immutable version.", "ark compact");
  std::string dir;
  app.add_option("ark", dir, "Ark directory")->required();
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  if (int rc = ReportError(RequireStore(dir))) return rc;
  auto store = Store::Open(dir + "/store");
  if (!store.ok()) return ReportError(store.status());
  const uint64_t delta = (*store)->Stats().delta_events;
  if (Status s = (*store)->Compact(); !s.ok()) return ReportError(s);
  const StoreStats st = (*store)->Stats();
  std::printf("compacted %llu events: version %llu, %llu persons, %llu events\n", (unsigned long long)delta,
              (unsigned long long)st.version, (unsigned long long)st.persons, (unsigned long long)st.events);
  return 0;
}

int Verify(int argc, char** argv) {
  CLI::App app("Check every block and WAL checksum of the timeline store.\n"
               "Exit 0 when every check passed; 1 when one failed or ARK is missing or holds no store.",
               "ark verify");
  std::string dir;
  app.add_option("ark", dir, "Ark directory")->required();
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  if (int rc = ReportError(RequireStore(dir))) return rc;
  auto store = Store::Open(dir + "/store");
  if (!store.ok()) return ReportError(store.status());
  if (Status s = (*store)->Verify(); !s.ok()) return ReportError(s);
  const StoreStats st = (*store)->Stats();
  std::printf("ok: version %llu, %llu segments, %llu blocks, %llu events (%llu in the WAL)\n",
              (unsigned long long)st.version, (unsigned long long)st.segments, (unsigned long long)st.blocks,
              (unsigned long long)st.events, (unsigned long long)st.delta_events);
  return 0;
}

// A scan in a project (gov::Admit passed): persons with a code in `set` in [from, to), opt-outs
// applied as the project's purpose requires, published under the disclosure rules (counts <= 7
// redacted, others rounded to 5) and put on the ledger before it is shown. Never the exact count.
// Only events of the feeds the project is approved for (access.datasets) are read.
Result<std::optional<int64_t>> GovernedScan(const std::string& dir, const Store& store, const gov::Access& access,
                                            const std::vector<CodeId>& set, Seconds from, Seconds to,
                                            const nlohmann::ordered_json& asked) {
  std::vector<bool> wanted;
  for (CodeId c : set) {
    if (c >= wanted.size()) wanted.resize(c + 1, false);
    wanted[c] = true;
  }
  const auto dicts = store.dicts();
  std::vector<bool> approved(dicts->sources.size(), false);
  for (size_t s = 0; s < dicts->sources.size(); ++s) {
    approved[s] = std::find(access.datasets.begin(), access.datasets.end(), dicts->sources[s]) != access.datasets.end();
  }
  std::vector<PersonKey> matched;
  ARK_RETURN_IF_ERROR(store.ForEachPerson([&](const Person& p, std::span<const Event> events) {
    for (const Event& e : events) {
      if (e.source >= approved.size() || !approved[e.source]) continue;
      if (e.code < wanted.size() && wanted[e.code] && e.time >= from && e.time < to) {
        matched.push_back(p.key);
        break;
      }
    }
    return Status::OK();
  }, 1, Store::Columns::kAll));
  ARK_ASSIGN_OR_RETURN(auto cat, Catalog::Open(dir));
  uint64_t excluded = 0;
  ARK_ASSIGN_OR_RETURN(auto kept, gov::FilterPopulation(*cat, store, access.project, matched, &excluded));
  ARK_ASSIGN_OR_RETURN(auto published, sdc::PublishCount(static_cast<int64_t>(kept.size())));
  nlohmann::ordered_json details = asked;
  details["persons_published"] = sdc::Show(published);
  ARK_RETURN_IF_ERROR(gov::RecordAccess(dir, access, std::move(details)));
  return published;
}

int Scan(int argc, char** argv) {
  CLI::App app("Count persons with any event whose code is in a set, within [--from, --to).", "ark scan");
  std::string dir, codes, from, to;
  int threads = 2, repeat = 1;
  bool json = false;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("--codes", codes, "comma-separated codes, e.g. SNOMED/44054006,ICD10/E11.9")->required();
  app.add_option("--from", from, "first date (or time) of the window, YYYY-MM-DD[ HH:MM[:SS]]")->required();
  app.add_option("--to", to, "end of the window, excluded; must be after --from")->required();
  app.add_option("--threads", threads, "threads")->check(CLI::Range(1, 256));
  app.add_option("--repeat", repeat, "run the scan this many times and report the fastest")->check(CLI::Range(1, 1000));
  app.add_flag("--json", json, "print as JSON");
  GateFlags gate;
  gate.Add(app);
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto t_from = ParseTime(from, kTimeFormat);
  if (!t_from.ok()) return ReportError(t_from.status().WithContext("--from"));
  auto t_to = ParseTime(to, kTimeFormat);
  if (!t_to.ok()) return ReportError(t_to.status().WithContext("--to"));
  if (*t_to <= *t_from) {
    return ReportError(Status::InvalidArgument("--to " + to + " is not after --from " + from +
                                               ": the window [--from, --to) would be empty"));
  }
  if (int rc = ReportError(RequireStore(dir))) return rc;
  auto access = gate.Admit(dir, "scan");
  if (!access.ok()) return ReportError(access.status());
  auto store = Store::Open(dir + "/store");
  if (!store.ok()) return ReportError(store.status());
  const auto dicts = (*store)->dicts();
  std::unordered_map<std::string_view, CodeId> ids;
  for (CodeId c = 1; c < dicts->codes.size(); ++c) ids.emplace(dicts->codes[c], c);
  std::vector<CodeId> set;
  std::vector<std::string> unknown;
  std::stringstream ss(codes);
  for (std::string c; std::getline(ss, c, ',');) {
    if (c.empty()) continue;
    auto it = ids.find(c);
    if (it == ids.end()) {
      unknown.push_back(c);
    } else {
      set.push_back(it->second);
    }
  }
  for (const auto& c : unknown) std::fprintf(stderr, "ark: code %s is not in the store (ignored)\n", c.c_str());
  if (access->governed) {
    nlohmann::ordered_json asked = {{"codes", codes}, {"from", from}, {"to", to}};
    auto n = GovernedScan(dir, **store, *access, set, *t_from, *t_to, asked);
    if (!n.ok()) return ReportError(n.status());
    if (json) {
      nlohmann::ordered_json j = {{"persons", *n ? nlohmann::ordered_json(**n) : nlohmann::ordered_json(nullptr)},
                                  {"persons_shown", sdc::Show(*n)}, {"project", access->project.id},
                                  {"disclosure", "opensafely: counts <= 7 redacted, others rounded to 5; opt-outs applied"},
                                  {"unknown_codes", unknown}};
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      std::printf("persons matched %s (project %s: opt-outs applied, counts <= 7 redacted, others rounded to 5)\n",
                  sdc::Show(*n).c_str(), access->project.id.c_str());
    }
    return 0;
  }
  uint64_t persons = 0;
  double best = 1e300;
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    auto n = (*store)->CountPersonsWithAnyCode(set, *t_from, *t_to, threads);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!n.ok()) return ReportError(n.status());
    persons = *n;
    best = std::min(best, secs);
  }
  const uint64_t events = (*store)->num_events();
  const double rate = best > 0 ? static_cast<double>(events) / best : 0.0;
  if (json) {
    nlohmann::ordered_json j = {{"persons", persons}, {"events_scanned", events}, {"seconds", best},
                                {"events_per_second", rate}, {"threads", threads}, {"codes", set.size()},
                                {"unknown_codes", unknown}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("persons matched %llu\nevents scanned  %llu\nseconds         %.4f\nevents/s        %.3g\n",
                (unsigned long long)persons, (unsigned long long)events, best, rate);
  }
  return 0;
}

ARK_COMMAND(kAppend, "append", "append events durably to the timeline store", Append);
ARK_COMMAND(kCompact, "compact", "fold the store's live delta into a new version", Compact);
ARK_COMMAND(kVerify, "verify", "check the timeline store's checksums", Verify);
ARK_COMMAND(kScan, "scan", "count persons with a code in a window (the fast path)", Scan);

}  // namespace
}  // namespace ark::cli
