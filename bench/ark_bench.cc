// ark_bench: the benchmark suite's helper (bench/run.sh drives it). It reads an Ark's timeline
// store through the engine library and
//
//   export   writes every event of the store to one CSV (person,time,code) for the peers, and
//            writes the benchmark's query (50 codes chosen deterministically from the store's own
//            code frequencies, and a 4-year window around the median event time) as JSON;
//   scan     runs the query in process on Store::CountPersonsWithAnyCode, warm, several times;
//   kernel   measures the reference figure quoted in the brief: a bitmap lookup of dictionary
//            codes over an in-memory 32-bit column, on 1 and on N threads.
//
// Every subcommand prints one JSON object on stdout; errors go to stderr with exit code 1.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/event.h"
#include "core/time.h"
#include "store/store.h"

namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// CPU time of the whole process (all threads), in seconds.
double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "ark_bench: %s\n", msg.c_str());
  std::exit(1);
}

std::string Arg(int argc, char** argv, const char* name, const char* def = nullptr) {
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  if (!def) Die(std::string("missing ") + name);
  return def;
}

std::unique_ptr<ark::Store> OpenStore(const std::string& ark_dir) {
  auto s = ark::Store::Open(ark_dir + "/store");
  if (!s.ok()) Die("open " + ark_dir + "/store: " + s.status().ToString());
  return std::move(*s);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0.0 : (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

// A buffered CSV writer: std::to_chars into a 4 MiB buffer.
class CsvOut {
 public:
  explicit CsvOut(const std::string& path) : f_(std::fopen(path.c_str(), "wb")), buf_(4 << 20) {
    if (!f_) Die("cannot create " + path);
  }
  ~CsvOut() { Close(); }
  void Row(uint32_t person, int64_t time, uint32_t code) {
    if (n_ + 64 > buf_.size()) Flush();
    char* p = buf_.data() + n_;
    char* end = buf_.data() + buf_.size();
    p = std::to_chars(p, end, person).ptr;
    *p++ = ',';
    p = std::to_chars(p, end, time).ptr;
    *p++ = ',';
    p = std::to_chars(p, end, code).ptr;
    *p++ = '\n';
    n_ = p - buf_.data();
  }
  void Text(const std::string& s) {
    if (n_ + s.size() > buf_.size()) Flush();
    std::memcpy(buf_.data() + n_, s.data(), s.size());
    n_ += s.size();
  }
  void Close() {
    if (!f_) return;
    Flush();
    if (std::fclose(f_) != 0) Die("write failed");
    f_ = nullptr;
  }

 private:
  void Flush() {
    if (n_ && std::fwrite(buf_.data(), 1, n_, f_) != n_) Die("write failed");
    n_ = 0;
  }
  std::FILE* f_;
  std::vector<char> buf_;
  size_t n_ = 0;
};

// Jan 1 of `year`, in seconds.
int64_t YearStart(int year) {
  return int64_t{ark::DaysFromCivil(year, 1, 1)} * ark::kSecondsPerDay;
}

// export --ark ARK --csv OUT.csv --query OUT.json [--codes 50] [--window-years 4]
int Export(int argc, char** argv) {
  const std::string ark_dir = Arg(argc, argv, "--ark");
  const std::string csv_path = Arg(argc, argv, "--csv");
  const std::string query_path = Arg(argc, argv, "--query");
  const size_t n_codes = std::stoul(Arg(argc, argv, "--codes", "50"));
  const int window_years = std::stoi(Arg(argc, argv, "--window-years", "4"));

  auto store = OpenStore(ark_dir);
  auto dicts = store->dicts();
  const auto t0 = Clock::now();
  CsvOut out(csv_path);
  out.Text("person,time,code\n");
  std::vector<uint64_t> code_events(dicts->codes.size(), 0);
  // Event counts per calendar year, for the median event time.
  std::map<int, uint64_t> by_year;
  uint64_t rows = 0;
  ark::Status st = store->ForEachPerson(
      [&](const ark::Person& p, std::span<const ark::Event> events) -> ark::Status {
        int last_day = INT32_MIN, last_year = 0;
        for (const ark::Event& e : events) {
          out.Row(p.key, e.time, e.code);
          if (e.code >= code_events.size()) code_events.resize(e.code + 1, 0);
          ++code_events[e.code];
          const int32_t day = ark::DayOf(e.time);
          if (day != last_day) {
            last_day = day;
            last_year = ark::CivilFromDays(day).year;
          }
          ++by_year[last_year];
        }
        rows += events.size();
        return ark::Status::OK();
      },
      1);
  if (!st.ok()) Die("export: " + st.ToString());
  out.Close();
  const double seconds = SecondsSince(t0);

  // The codes: rank every code that occurs by its number of events (descending, ties by string)
  // and take n_codes at evenly spaced ranks, from the most frequent to the rarest, so the set mixes
  // frequent, middling and rare codes the same way on every region.
  std::vector<ark::CodeId> present;
  for (ark::CodeId c = 1; c < code_events.size(); ++c) {
    if (code_events[c] > 0) present.push_back(c);
  }
  if (present.empty()) Die("the store has no events");
  std::sort(present.begin(), present.end(), [&](ark::CodeId a, ark::CodeId b) {
    if (code_events[a] != code_events[b]) return code_events[a] > code_events[b];
    return dicts->codes[a] < dicts->codes[b];
  });
  std::vector<size_t> ranks;
  const size_t k = present.size();
  if (k <= n_codes) {
    for (size_t i = 0; i < k; ++i) ranks.push_back(i);
  } else {
    for (size_t i = 0; i < n_codes; ++i) ranks.push_back(i * (k - 1) / (n_codes - 1));
  }
  Json codes = Json::array();
  uint64_t selected_events = 0;
  for (size_t r : ranks) {
    const ark::CodeId c = present[r];
    selected_events += code_events[c];
    codes.push_back(
        {{"id", c}, {"code", dicts->codes[c]}, {"rank", r + 1}, {"events", code_events[c]}});
  }

  // The window: window_years whole calendar years centred on the year of the median event.
  uint64_t acc = 0;
  int median_year = by_year.begin()->first;
  for (auto& [y, n] : by_year) {
    acc += n;
    if (2 * acc >= rows) {
      median_year = y;
      break;
    }
  }
  const int from_year = median_year - window_years / 2;
  const int to_year = from_year + window_years;
  Json q = {{"codes", codes},
            {"distinct_codes_in_store", k},
            {"selected_code_events", selected_events},
            {"from", ark::FormatDate(ark::DaysFromCivil(from_year, 1, 1))},
            {"to", ark::FormatDate(ark::DaysFromCivil(to_year, 1, 1))},
            {"from_seconds", YearStart(from_year)},
            {"to_seconds", YearStart(to_year)},
            {"events", rows},
            {"persons", store->num_persons()}};
  std::FILE* f = std::fopen(query_path.c_str(), "wb");
  if (!f) Die("cannot create " + query_path);
  const std::string text = q.dump(2) + "\n";
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);

  Json r = {{"rows", rows}, {"seconds", seconds}, {"persons", store->num_persons()}};
  std::printf("%s\n", r.dump().c_str());
  return 0;
}

Json ReadJson(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) Die("cannot open " + path);
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  std::fclose(f);
  return Json::parse(text);
}

// scan --ark ARK --query Q.json [--runs 5] [--threads 2]: one warm-up run, then `runs` timed runs.
int Scan(int argc, char** argv) {
  const std::string ark_dir = Arg(argc, argv, "--ark");
  const Json q = ReadJson(Arg(argc, argv, "--query"));
  const int runs = std::stoi(Arg(argc, argv, "--runs", "5"));
  const int threads = std::stoi(Arg(argc, argv, "--threads", "2"));
  std::vector<ark::CodeId> codes;
  for (auto& c : q["codes"]) codes.push_back(c["id"].get<ark::CodeId>());
  const int64_t from = q["from_seconds"], to = q["to_seconds"];

  auto store = OpenStore(ark_dir);
  auto count = store->CountPersonsWithAnyCode(codes, from, to, threads);  // warm-up
  if (!count.ok()) Die("scan: " + count.status().ToString());
  std::vector<double> times, cpu;
  for (int i = 0; i < runs; ++i) {
    const double c0 = CpuSeconds();
    const auto t0 = Clock::now();
    auto c = store->CountPersonsWithAnyCode(codes, from, to, threads);
    times.push_back(SecondsSince(t0));
    cpu.push_back(CpuSeconds() - c0);
    if (!c.ok()) Die("scan: " + c.status().ToString());
    if (*c != *count) Die("scan: runs disagree");
  }
  const double med = Median(times);
  Json r = {{"persons_matched", *count},
            {"events", store->num_events()},
            {"threads", threads},
            {"seconds", times},
            {"median_seconds", med},
            {"cpu_seconds", cpu},
            {"median_cpu_seconds", Median(cpu)},
            {"events_per_second", med > 0 ? store->num_events() / med : 0.0}};
  std::printf("%s\n", r.dump().c_str());
  return 0;
}

// kernel [--events 200000000] [--codes 4096] [--set 50] [--threads 2] [--runs 5]: the reference
// ceiling — for each event of an in-memory uint32 code column, test a bit in a bitmap over code
// ids and count hits. Codes are drawn from a skewed (Zipf-like) distribution.
int Kernel(int argc, char** argv) {
  const size_t n = std::stoull(Arg(argc, argv, "--events", "200000000"));
  const uint32_t n_codes = std::stoul(Arg(argc, argv, "--codes", "4096"));
  const uint32_t set = std::stoul(Arg(argc, argv, "--set", "50"));
  const int threads = std::stoi(Arg(argc, argv, "--threads", "2"));
  const int runs = std::stoi(Arg(argc, argv, "--runs", "5"));
  std::vector<uint32_t> col(n);
  {
    std::mt19937_64 rng(42);
    std::vector<double> w(n_codes);
    for (uint32_t i = 0; i < n_codes; ++i) w[i] = 1.0 / (i + 1);
    std::discrete_distribution<uint32_t> dist(w.begin(), w.end());
    std::vector<uint32_t> sample(1 << 20);
    for (auto& s : sample) s = dist(rng);
    for (size_t i = 0; i < n; ++i) col[i] = sample[(i * 2654435761u) & ((1 << 20) - 1)];
  }
  std::vector<uint64_t> bitmap((n_codes + 63) / 64, 0);
  for (uint32_t i = 0; i < set; ++i) {
    const uint32_t c =
        static_cast<uint32_t>((uint64_t{i} * (n_codes - 1)) / (set > 1 ? set - 1 : 1));
    bitmap[c >> 6] |= uint64_t{1} << (c & 63);
  }
  auto run = [&](int t) {
    std::vector<uint64_t> hits(t, 0);
    std::vector<std::thread> ts;
    const auto t0 = Clock::now();
    for (int k = 0; k < t; ++k) {
      ts.emplace_back([&, k] {
        const size_t b = n * k / t, e = n * (k + 1) / t;
        const uint32_t* p = col.data();
        const uint64_t* bm = bitmap.data();
        uint64_t h = 0;
        for (size_t i = b; i < e; ++i) h += (bm[p[i] >> 6] >> (p[i] & 63)) & 1;
        hits[k] = h;
      });
    }
    for (auto& th : ts) th.join();
    const double s = SecondsSince(t0);
    uint64_t total = 0;
    for (uint64_t h : hits) total += h;
    return std::make_pair(s, total);
  };
  Json r = {{"events", n}, {"distinct_codes", n_codes}, {"set", set}};
  for (int t : {1, threads}) {
    run(t);  // warm-up
    std::vector<double> times;
    uint64_t hits = 0;
    for (int i = 0; i < runs; ++i) {
      auto [s, h] = run(t);
      times.push_back(s);
      hits = h;
    }
    const double med = Median(times);
    r["threads_" + std::to_string(t)] = {
        {"median_seconds", med}, {"events_per_second", n / med}, {"hits", hits}};
    if (t == threads) break;
  }
  std::printf("%s\n", r.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  try {
    if (cmd == "export") return Export(argc, argv);
    if (cmd == "scan") return Scan(argc, argv);
    if (cmd == "kernel") return Kernel(argc, argv);
  } catch (const std::exception& e) {
    Die(e.what());
  }
  std::fprintf(
      stderr,
      "usage: ark_bench export --ark ARK --csv OUT.csv --query OUT.json [--codes 50] "
      "[--window-years 4]\n"
      "       ark_bench scan --ark ARK --query Q.json [--runs 5] [--threads 2]\n"
      "       ark_bench kernel [--events N] [--codes K] [--set 50] [--threads 2] [--runs 5]\n");
  return 2;
}
