// The study-definition benchmark (bench/study/run.sh): one definition on one Ark, timed on the
// native engine, SQLite, PostgreSQL (a private server, indexed, after ANALYZE) and DuckDB (the SQL
// Ark generates, run by duckdb_study.mjs through @duckdb/node-api). Checks that the engines agree
// and prints every time and the ratios; --json FILE also writes them as JSON.
//
//   study_bench --ark ARK --definition DEF.yaml --work DIR [--runs 3] [--sql-runs 1] [--threads 2]
//               [--engines native,sqlite,postgres,duckdb] [--node node] [--json FILE]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/fs.h"
#include "sql/connection.h"
#include "sql/export.h"
#include "store/store.h"
#include "study/native.h"
#include "study/output.h"
#include "study/run.h"
#include "study/sql_compile.h"
#include "study/sql_run.h"

using namespace ark;
using namespace ark::study;
using Json = nlohmann::ordered_json;

namespace {

double Now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}
int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "study_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  return 1;
}

// What must agree across engines: dataset rows, and per measure the sums of numerators and
// denominators over all cells.
struct Summary {
  uint64_t rows = 0;
  std::vector<std::pair<int64_t, int64_t>> sums;
  bool operator==(const Summary& o) const { return rows == o.rows && sums == o.sums; }
  std::string ToString() const {
    std::string s = std::to_string(rows) + " rows";
    for (auto& [n, d] : sums) s += ", " + std::to_string(n) + "/" + std::to_string(d);
    return s;
  }
};
Summary Summarise(const EngineResult& r) {
  Summary s;
  s.rows = r.num_rows();
  for (auto& m : r.measures) {
    int64_t n = 0, d = 0;
    for (auto& [k, c] : m) n += c.first, d += c.second;
    s.sums.push_back({n, d});
  }
  return s;
}

// Writes the store as CSV for DuckDB: the Ark schema's ark_person and the ark_event columns the
// compiled SQL reads (person_id, time, end_time, code, value, seq).
Status WriteCsv(const Store& store, const std::string& dir) {
  auto dicts = store.dicts();
  std::ofstream persons(dir + "/person.csv"), events(dir + "/event.csv");
  persons << "person_id,birth_year,birth_month,sex,death_day,lsoa,imd_decile,practice,optout_known,optout_national,optout_type1\n";
  events << "person_id,time,end_time,code,value,seq\n";
  std::string buf;
  char num[64];
  Status st = store.ForEachPerson(
      [&](const Person& p, std::span<const Event> ev) -> Status {
        buf.clear();
        buf += std::to_string(p.key) + ",";
        if (p.birth_year) buf += std::to_string(p.birth_year);
        buf += ",";
        if (p.birth_month) buf += std::to_string(p.birth_month);
        buf += std::string(",") + p.sex + ",";
        if (p.has_death()) buf += std::to_string(p.death_day);
        buf += ",";
        if (p.lsoa && p.lsoa < dicts->areas.size()) AppendCsvField(&buf, dicts->areas[p.lsoa]);
        buf += ",";
        if (p.imd_decile) buf += std::to_string(p.imd_decile);
        buf += ",";
        if (p.practice && p.practice < dicts->practices.size()) AppendCsvField(&buf, dicts->practices[p.practice]);
        buf += std::string(",") + ((p.flags & kOptOutKnown) ? "1" : "0") + "," + ((p.flags & kOptedOutNational) ? "1" : "0") + "," +
               ((p.flags & kOptedOutType1) ? "1" : "0") + "\n";
        persons << buf;
        buf.clear();
        for (size_t i = 0; i < ev.size(); ++i) {
          const Event& e = ev[i];
          buf += std::to_string(e.person) + "," + std::to_string(e.time) + ",";
          if (e.end != kNoTime) buf += std::to_string(e.end);
          buf += ",";
          AppendCsvField(&buf, dicts->codes[e.code]);
          buf += ",";
          if (e.has_value()) {
            snprintf(num, sizeof num, "%.17g", e.value);
            buf += num;
          }
          buf += "," + std::to_string(i) + "\n";
        }
        events << buf;
        return Status::OK();
      },
      1);
  ARK_RETURN_IF_ERROR(st);
  persons.close();
  events.close();
  if (!persons || !events) return Status::IOError("cannot write the CSV files in " + dir);
  return Status::OK();
}

long MaxRssMb() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

}  // namespace

int main(int argc, char** argv) {
  std::string ark_dir, def_path, work, engines_arg = "native,sqlite,postgres,duckdb", node = "node", json_out;
  int runs = 3, sql_runs = 1, threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--ark") ark_dir = v;
    else if (k == "--definition") def_path = v;
    else if (k == "--work") work = v;
    else if (k == "--runs") runs = std::stoi(v);
    else if (k == "--sql-runs") sql_runs = std::stoi(v);
    else if (k == "--threads") threads = std::stoi(v);
    else if (k == "--engines") engines_arg = v;
    else if (k == "--node") node = v;
    else if (k == "--json") json_out = v;
    else {
      std::fprintf(stderr, "study_bench: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (ark_dir.empty() || def_path.empty() || work.empty()) {
    std::fprintf(stderr, "usage: study_bench --ark ARK --definition DEF.yaml --work DIR [--runs N] [--sql-runs N] [--threads T] [--engines ...] [--json FILE]\n");
    return 2;
  }
  std::set<std::string> engines;
  {
    std::stringstream ss(engines_arg);
    std::string e;
    while (std::getline(ss, e, ',')) engines.insert(e);
  }
  if (Status s = MakeDirs(work); !s.ok()) return Fail("work dir", s);
  auto def = ParseDefinitionFile(def_path);
  if (!def.ok()) return Fail("definition", def.status());
  auto store = Store::Open(ark_dir + "/store");
  if (!store.ok()) return Fail("store", store.status());
  Json out;
  out["ark"] = ark_dir;
  out["definition"] = def_path;
  out["persons"] = (*store)->num_persons();
  out["events"] = (*store)->num_events();
  out["variables"] = def->variables.size();
  out["measures"] = def->measures.size();
  out["intervals"] = def->measures.empty() ? 0 : def->measures[0].intervals.size();
  out["threads"] = threads;
  std::printf("study bench: %llu persons, %llu events; %zu variables, %zu measures x %zu intervals\n",
              static_cast<unsigned long long>((*store)->num_persons()), static_cast<unsigned long long>((*store)->num_events()),
              def->variables.size(), def->measures.size(), def->measures.empty() ? size_t{0} : def->measures[0].intervals.size());
  std::map<std::string, double> engine_seconds;
  std::optional<Summary> reference;
  auto check = [&](const std::string& name, const Summary& s) {
    if (!reference) reference = s;
    bool same = *reference == s;
    out["engines"][name]["agrees"] = same;
    std::printf("  %-9s result: %s%s\n", name.c_str(), s.ToString().c_str(), same ? "" : "   <-- DIFFERS");
    return same;
  };
  bool all_agree = true;

  if (engines.count("native")) {
    NativeOptions o;
    o.threads = threads;
    std::vector<double> t_engine, t_run;
    EngineResult last;
    for (int r = 0; r <= runs; ++r) {  // run 0 warms the page cache
      double t0 = Now();
      auto res = RunNative(*def, **store, Purpose::kResearch, o);
      if (!res.ok()) return Fail("native", res.status());
      if (r) t_engine.push_back(Now() - t0);
      last = std::move(*res);
    }
    for (int r = 0; r < runs; ++r) {
      RunOptions ro;
      ro.ark_dir = ark_dir;
      ro.definition = def_path;
      ro.out_dir = work + "/native-out";
      ro.threads = threads;
      double t0 = Now();
      auto rep = RunStudy(ro);
      if (!rep.ok()) return Fail("ark run", rep.status());
      t_run.push_back(Now() - t0);
    }
    engine_seconds["native"] = Median(t_engine);
    out["engines"]["native"] = {{"seconds", Median(t_engine)}, {"runs", t_engine}, {"ark_run_seconds", Median(t_run)}, {"max_rss_mb", MaxRssMb()}};
    std::printf("  native    engine %.3f s (median of %d), whole `ark run` with outputs %.3f s, max RSS %ld MB\n", Median(t_engine), runs,
                Median(t_run), MaxRssMb());
    all_agree &= check("native", Summarise(last));
  }

  auto run_sql = [&](const std::string& name, sql::Connection& conn, double export_s) -> int {
    std::vector<double> t;
    EngineResult last;
    for (int r = 0; r < sql_runs; ++r) {
      double t0 = Now();
      auto res = RunSql(*def, conn, Purpose::kResearch);
      if (!res.ok()) return Fail(name, res.status());
      t.push_back(Now() - t0);
      last = std::move(*res);
    }
    engine_seconds[name] = Median(t);
    out["engines"][name] = {{"seconds", Median(t)}, {"runs", t}, {"export_seconds", export_s}};
    std::printf("  %-9s %.3f s (median of %d; export, indexes and ANALYZE before: %.1f s)\n", name.c_str(), Median(t), sql_runs, export_s);
    all_agree &= check(name, Summarise(last));
    return 0;
  };

  if (engines.count("sqlite")) {
    const std::string db = work + "/ark.sqlite";
    (void)RemoveAll(db);
    auto conn = sql::Connection::Open("sqlite:" + db);
    if (!conn.ok()) return Fail("sqlite", conn.status());
    double t0 = Now();
    if (Status s = sql::ExportArk(ark_dir, **conn, sql::Schema::kArk); !s.ok()) return Fail("sqlite export", s);
    if (int rc = run_sql("sqlite", **conn, Now() - t0)) return rc;
    conn->reset();
    (void)RemoveAll(db);  // large on a whole region: do not keep it
  }

  if (engines.count("postgres")) {
    const std::string pgdir = "/tmp/ark_study_bench_pg_" + std::to_string(getpid());
    (void)RemoveAll(pgdir);
    auto cluster = sql::PgCluster::Start(pgdir);
    if (!cluster.ok()) return Fail("postgres", cluster.status());
    int rc = 0;
    {
      auto conn = sql::Connection::Open((*cluster)->url());
      if (!conn.ok()) rc = Fail("postgres", conn.status());
      double t0 = Now();
      if (!rc) {
        if (Status s = sql::ExportArk(ark_dir, **conn, sql::Schema::kArk); !s.ok()) rc = Fail("postgres export", s);
      }
      if (!rc) rc = run_sql("postgres", **conn, Now() - t0);
    }
    (void)(*cluster)->Stop();
    (void)RemoveAll(pgdir);
    if (rc) return rc;
  }

  if (engines.count("duckdb")) {
    const std::string dir = work + "/duckdb";
    (void)RemoveAll(dir);
    if (Status s = MakeDirs(dir); !s.ok()) return Fail("duckdb", s);
    double t0 = Now();
    if (Status s = WriteCsv(**store, dir); !s.ok()) return Fail("duckdb csv", s);
    double csv_s = Now() - t0;
    auto script = CompileSql(*def, Purpose::kResearch);
    if (!script.ok()) return Fail("compile", script.status());
    Json sj;
    sj["setup"] = script->setup;
    sj["dataset"] = script->dataset;
    sj["measures"] = script->measures;
    if (Status s = WriteFileAtomic(dir + "/script.json", sj.dump()); !s.ok()) return Fail("duckdb", s);
    const std::string here = std::string(ARK_BENCH_STUDY_DIR);
    std::string cmd = node + " " + here + "/duckdb_study.mjs --dir " + dir + " --threads " + std::to_string(threads) + " --runs " +
                      std::to_string(std::max(sql_runs, 1)) + " > " + dir + "/result.json";
    if (std::system(cmd.c_str()) != 0) {
      std::fprintf(stderr, "study_bench: duckdb: '%s' failed\n", cmd.c_str());
      return 1;
    }
    auto text = ReadFile(dir + "/result.json");
    if (!text.ok()) return Fail("duckdb", text.status());
    Json r = Json::parse(*text, nullptr, false);
    if (r.is_discarded()) {
      std::fprintf(stderr, "study_bench: duckdb: bad output %s\n", text->c_str());
      return 1;
    }
    double secs = r["median_seconds"].get<double>();
    engine_seconds["duckdb"] = secs;
    out["engines"]["duckdb"] = {{"seconds", secs}, {"runs", r["seconds"]}, {"load_seconds", r["load_seconds"]}, {"csv_seconds", csv_s},
                                {"version", r["duckdb_version"]}};
    std::printf("  duckdb    %.3f s (median of %d; CSV written in %.1f s, loaded in %.1f s; %s)\n", secs, std::max(sql_runs, 1), csv_s,
                r["load_seconds"].get<double>(), r["duckdb_version"].get<std::string>().c_str());
    Summary s;
    s.rows = r["dataset_rows"].get<uint64_t>();
    for (auto& m : r["measure_sums"]) s.sums.push_back({m[0].get<int64_t>(), m[1].get<int64_t>()});
    all_agree &= check("duckdb", s);
    (void)RemoveAll(dir);
  }

  if (engine_seconds.count("native")) {
    const double n = engine_seconds["native"];
    for (auto& [name, t] : engine_seconds) {
      if (name == "native") continue;
      out["ratios"][name + "_over_native"] = t / n;
      std::printf("  native is %.1fx faster than %s\n", t / n, name.c_str());
    }
  }
  out["engines_agree"] = all_agree;
  if (!json_out.empty()) (void)WriteFileAtomic(json_out, out.dump(2) + "\n");
  if (!all_agree) {
    std::fprintf(stderr, "study_bench: the engines disagree\n");
    return 3;
  }
  return 0;
}
