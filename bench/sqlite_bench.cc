// sqlite_bench: the SQLite peer of bench/run.sh, on libsqlite3 directly (no CLI overhead).
//
//   load  DB CSV              creates table events(person, time, code) and inserts every row of
//                             the CSV (header person,time,code) in one transaction with a
//                             prepared statement; bulk-load settings (no journal, no sync).
//   query DB QUERY.json RUNS  runs SELECT COUNT(DISTINCT person) ... once to warm up, then RUNS
//                             timed times.
//
// Prints one JSON object on stdout; errors to stderr, exit code 1.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

// CPU time of the whole process, in seconds.
double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "sqlite_bench: %s\n", msg.c_str());
  std::exit(1);
}

void Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "?";
    sqlite3_free(err);
    Die(sql + ": " + m);
  }
}

sqlite3* OpenDb(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) Die("open " + path);
  Exec(db,
       "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE;"
       "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-1048576; PRAGMA mmap_size=0;");
  return db;
}

int Load(const std::string& db_path, const std::string& csv_path) {
  std::remove(db_path.c_str());
  const double c0 = CpuSeconds();
  const auto t0 = Clock::now();
  sqlite3* db = OpenDb(db_path);
  Exec(
      db,
      "CREATE TABLE events(person INTEGER NOT NULL, time INTEGER NOT NULL, code INTEGER NOT NULL)");
  Exec(db, "BEGIN");
  sqlite3_stmt* ins = nullptr;
  if (sqlite3_prepare_v2(db, "INSERT INTO events VALUES(?,?,?)", -1, &ins, nullptr) != SQLITE_OK)
    Die("prepare");

  std::FILE* f = std::fopen(csv_path.c_str(), "rb");
  if (!f) Die("cannot open " + csv_path);
  std::vector<char> buf(8 << 20);
  size_t have = 0;
  bool header = true;
  uint64_t rows = 0, line = 0;
  for (;;) {
    const size_t got = std::fread(buf.data() + have, 1, buf.size() - have, f);
    const bool eof = got == 0;
    have += got;
    size_t pos = 0;
    for (;;) {
      const char* nl = static_cast<const char*>(std::memchr(buf.data() + pos, '\n', have - pos));
      if (!nl) break;
      const char* p = buf.data() + pos;
      const char* end = nl;
      pos = nl - buf.data() + 1;
      ++line;
      if (header) {
        header = false;
        continue;
      }
      int64_t v[3];
      for (int k = 0; k < 3; ++k) {
        bool neg = false;
        if (p < end && *p == '-') neg = true, ++p;
        int64_t x = 0;
        const char* s = p;
        while (p < end && *p >= '0' && *p <= '9') x = x * 10 + (*p++ - '0');
        if (p == s || (k < 2 && (p == end || *p != ',')) || (k == 2 && p != end)) {
          Die(csv_path + ": line " + std::to_string(line) + ": bad row");
        }
        ++p;
        v[k] = neg ? -x : x;
      }
      sqlite3_bind_int64(ins, 1, v[0]);
      sqlite3_bind_int64(ins, 2, v[1]);
      sqlite3_bind_int64(ins, 3, v[2]);
      if (sqlite3_step(ins) != SQLITE_DONE) Die(std::string("insert: ") + sqlite3_errmsg(db));
      sqlite3_reset(ins);
      ++rows;
    }
    std::memmove(buf.data(), buf.data() + pos, have - pos);
    have -= pos;
    if (eof) break;
  }
  std::fclose(f);
  if (have) Die(csv_path + ": last line has no newline");
  sqlite3_finalize(ins);
  Exec(db, "COMMIT");
  sqlite3_close(db);
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  Json r = {{"rows", rows},
            {"seconds", s},
            {"rows_per_second", rows / s},
            {"cpu_seconds", CpuSeconds() - c0},
            {"sqlite_version", sqlite3_libversion()}};
  std::printf("%s\n", r.dump().c_str());
  return 0;
}

int Query(const std::string& db_path, const std::string& query_path, int runs) {
  std::FILE* f = std::fopen(query_path.c_str(), "rb");
  if (!f) Die("cannot open " + query_path);
  std::string text;
  char b[65536];
  size_t n;
  while ((n = std::fread(b, 1, sizeof b, f)) > 0) text.append(b, n);
  std::fclose(f);
  const Json q = Json::parse(text);
  std::string in;
  for (auto& c : q["codes"])
    in += (in.empty() ? "" : ",") + std::to_string(c["id"].get<uint64_t>());
  const std::string sql = "SELECT COUNT(DISTINCT person) FROM events WHERE code IN (" + in +
                          ") AND time >= " + std::to_string(q["from_seconds"].get<int64_t>()) +
                          " AND time < " + std::to_string(q["to_seconds"].get<int64_t>());
  sqlite3* db = OpenDb(db_path);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
    Die(std::string("prepare: ") + sqlite3_errmsg(db));
  auto run = [&]() -> int64_t {
    if (sqlite3_step(st) != SQLITE_ROW) Die(std::string("query: ") + sqlite3_errmsg(db));
    const int64_t c = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return c;
  };
  const int64_t count = run();  // warm-up
  std::vector<double> times, cpu;
  for (int i = 0; i < runs; ++i) {
    const double c0 = CpuSeconds();
    const auto t0 = Clock::now();
    const int64_t c = run();
    times.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    cpu.push_back(CpuSeconds() - c0);
    if (c != count) Die("runs disagree");
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty()      ? 0.0
           : v.size() % 2 ? v[v.size() / 2]
                          : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  };
  Json r = {{"persons_matched", count},          {"seconds", times},
            {"median_seconds", median(times)},   {"cpu_seconds", cpu},
            {"median_cpu_seconds", median(cpu)}, {"sql", sql}};
  std::printf("%s\n", r.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 4 && std::strcmp(argv[1], "load") == 0) return Load(argv[2], argv[3]);
    if (argc == 5 && std::strcmp(argv[1], "query") == 0)
      return Query(argv[2], argv[3], std::atoi(argv[4]));
  } catch (const std::exception& e) {
    Die(e.what());
  }
  std::fprintf(stderr, "usage: sqlite_bench load DB CSV | sqlite_bench query DB QUERY.json RUNS\n");
  return 2;
}
