// Live feed benchmarks: `ark serve` (a child process) driven over loopback MLLP by the same client
// as `ark send-hl7` (live/sender.h). Prints figures; `--json` prints them as one JSON object.
//
//   live_bench [--suite throughput,single,latency,crash,soak,restart] [--full] [--soak-minutes M]
//              [--restarts R] [--restart-sizes N,N] [--restart-persons P] [--ark-binary PATH]
//              [--dir DIR] [--json]
//
// Suites (short by default; --full gives the sizes of the issue's proof):
//   throughput  ADT messages from 64 connections (window 8 each), durable ACKs: messages/s
//   single      one connection waiting for each ACK before the next: messages/s
//   latency     5,000 messages/s (ADT + creatinine results that raise AKI alerts): data-action
//               latency receipt → alert emitted (from the alerts' own timestamps, via SSE)
//   crash       R restarts with kill -9 under load (default 5; --full 50): ACKed vs stored
//   soak        RSS of `ark serve` over time at 2,000 messages/s (default 20 s; --soak-minutes)
//   restart     start → /healthz after N acknowledged messages (default 100k and 300k;
//               --restart-sizes): after kill -9 (snapshot + the log after it), after a clean stop,
//               and without the snapshot (the whole log replayed); persons N/10, or P for every N
//               (--restart-persons), with the server's own account of its start-up time
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "core/net.h"
#include "live/mllp.h"
#include "live/sender.h"
#include "server/serve_process.h"
#include "privacy/nhs_number.h"

namespace {

using namespace ark;
using namespace ark::live;
using namespace ark::server;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

std::string g_ark_binary = ARK_BINARY;
std::string g_root;
json g_out = json::object();
int g_counter = 0;

// ConnectLocal and HttpGetLocal come from core/net.h.
// The body of a GET, or "" when the server did not answer.
std::string HttpGet(uint16_t port, const std::string& path, const std::string& token = "") {
  auto r = HttpGetLocal(port, path, token);
  return r.ok() ? r->body : "";
}

struct Serve {
  pid_t pid = -1;
  uint16_t mllp = 0, http = 0;
  std::string ark, token;
};

std::string NewArk(const std::string& name) {
  const std::string dir = g_root + "/" + name + "_" + std::to_string(g_counter++);
  (void)RemoveAll(dir);
  auto c = Catalog::Create(dir);
  if (!c.ok()) {
    std::fprintf(stderr, "live_bench: %s\n", c.status().ToString().c_str());
    std::exit(1);
  }
  return dir;
}

// Bytes of the WAL files in ARK/store (not yet compacted).
uint64_t StoreWalBytes(const std::string& ark) {
  uint64_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(ark + "/store", ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("wal-", 0) == 0 && e.is_regular_file(ec)) n += e.file_size(ec);
  }
  return n;
}

// Up to 2 minutes to come up: a start replays the records logged after the last snapshot (and
// all of them when the restart suite deletes the snapshot).
Serve Start(const std::string& ark) {
  Serve s;
  s.ark = ark;
  auto p = StartServe(g_ark_binary, ark, ark + ".serve.log", {}, /*wait_ms=*/120000);
  if (!p.ok()) {
    std::fprintf(stderr, "live_bench: %s\n", p.status().ToString().c_str());
    std::exit(1);
  }
  s.pid = p->pid;
  s.mllp = p->mllp;
  s.http = p->http;
  auto t = ReadFile(ark + "/live/api.token");
  if (t.ok()) {
    s.token = *t;
    while (!s.token.empty() && s.token.back() == '\n') s.token.pop_back();
  }
  return s;
}

void Stop(Serve& s, int sig = SIGTERM) { StopServe(ServeProcess{s.pid, s.mllp, s.http}, sig); }

uint64_t Records(const Serve& s) {
  try {
    return json::parse(HttpGet(s.http, "/healthz"))["records"].get<uint64_t>();
  } catch (...) {
    return 0;
  }
}

// VmRSS, RssAnon (heap: the one that must stay flat) and RssFile (the store's memory-mapped
// segments, which grow with the data and are reclaimable page cache), in kB.
long RssKb(pid_t pid, const char* field = "VmRSS:") {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  const size_t n = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, n, field) == 0) return std::atol(line.c_str() + n);
  }
  return 0;
}

// Valid NHS numbers in the test range 999 000 0000 – 999 999 9999.
std::vector<std::string> NhsNumbers(size_t n) {
  std::vector<std::string> out;
  for (uint64_t i = 0; out.size() < n; ++i) {
    char nine[16];
    std::snprintf(nine, sizeof nine, "999%06llu", static_cast<unsigned long long>(i));
    const int c = NhsCheckDigit(nine);
    if (c >= 0) out.push_back(std::string(nine) + static_cast<char>('0' + c));
  }
  return out;
}

std::string Ts(int64_t minute) {  // minutes after 2025-01-01 00:00
  const int64_t day = minute / 1440, m = minute % 1440;
  char b[32];
  std::snprintf(b, sizeof b, "202501%02lld%02lld%02lld00", static_cast<long long>(1 + day % 28),
                static_cast<long long>(m / 60), static_cast<long long>(m % 60));
  return b;
}

std::string Adt(const std::string& id, const std::string& nhs, int trigger, int64_t minute,
                int ward) {
  static const char* kTrig[] = {"A01", "A02", "A03", "A08"};
  const std::string t = kTrig[trigger % 4], ts = Ts(minute);
  return "MSH|^~\\&|PAS|RXX01|HUB|REG|" + ts + "||ADT^" + t + "^ADT_A01|" + id + "|P|2.4\r" +
         "EVN|" + t + "|" + ts + "||||" + ts + "\r" + "PID|1||" + nhs + "^^^NHS^NH~RXX" +
         nhs.substr(3) + "^^^RXX^MR||DOE^JOHN||19600101|M\r" + "PV1|1|I|WARD" +
         std::to_string(ward) + "^BED" + std::to_string(ward * 3 % 20) +
         "^^RXX01|EM||||||180||||19|||||V" + id + "^^^RXX^VN" + std::string(25, '|') + ts + "\r";
}

std::string Oru(const std::string& id, const std::string& nhs, int64_t minute, double creat) {
  const std::string ts = Ts(minute);
  char v[32];
  std::snprintf(v, sizeof v, "%g", creat);
  return "MSH|^~\\&|LIMS|RXX01|HUB|REG|" + ts + "||ORU^R01^ORU_R01|" + id + "|P|2.4\r" + "PID|1||" +
         nhs + "^^^NHS^NH||DOE^JOHN||19600101|M\r" + "OBR|1|||U&E|||" + ts + "\r" +
         "OBX|1|NM|14682-9^Creatinine^LN||" + v + "|umol/L|||||F|||" + ts + "\r";
}

std::vector<std::string> AdtBatch(const std::string& prefix, size_t n,
                                  const std::vector<std::string>& nhs, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(Adt(prefix + std::to_string(i), nhs[rng() % nhs.size()],
                      static_cast<int>(rng() % 4), static_cast<int64_t>(i / 10),
                      static_cast<int>(rng() % 12)));
  }
  return out;
}

void Print(const char* fmt_line) { std::printf("%s\n", fmt_line), std::fflush(stdout); }

json MetricsSummary(const Serve& s) {
  const std::string m = HttpGet(s.http, "/metrics", s.token);
  json j;
  std::istringstream in(m);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("ark_live_commit_groups_total ", 0) == 0)
      j["commit_groups"] = std::stoull(line.substr(29));
    if (line.rfind("ark_live_commit_seconds_sum ", 0) == 0)
      j["commit_seconds_sum"] = std::stod(line.substr(28));
    if (line.rfind("ark_live_snapshot_encode_seconds_sum ", 0) == 0)
      j["snapshot_encode_sum"] = std::stod(line.substr(37));
    if (line.rfind("ark_live_snapshot_encode_seconds_count ", 0) == 0)
      j["snapshot_encode_count"] = std::stod(line.substr(39));
    if (line.rfind("ark_live_snapshot_stall_seconds_sum ", 0) == 0)
      j["snapshot_stall_sum"] = std::stod(line.substr(36));
  }
  return j;
}

void Throughput(bool full) {
  const size_t n = full ? 400000 : 60000;
  auto nhs = NhsNumbers(10000);
  auto msgs = AdtBatch("T", n, nhs, 1);
  Serve s = Start(NewArk("throughput"));
  SendOptions o;
  o.port = s.mllp;
  o.connections = 64;
  o.window = 8;
  auto r = SendMessages(msgs, o);
  json m = MetricsSummary(s);
  Stop(s);
  if (!r.ok()) {
    std::printf("throughput: %s\n", r.status().ToString().c_str());
    return;
  }
  const double groups = m.value("commit_groups", 0.0);
  std::printf(
      "throughput: %llu ADT messages, 64 connections x window 8, durable ACKs: %.0f msgs/s; ACK "
      "p50 %.1f ms p99 %.1f ms; "
      "AA %llu; %.0f group commits (%.1f msgs per fdatasync, %.2f ms per commit)\n",
      (unsigned long long)r->sent, r->rate, r->p50_ms, r->p99_ms,
      (unsigned long long)r->acknowledged, groups, groups > 0 ? r->acknowledged / groups : 0.0,
      groups > 0 ? m.value("commit_seconds_sum", 0.0) * 1000 / groups : 0.0);
  std::fflush(stdout);
  g_out["throughput"] = {{"messages", r->sent},     {"acknowledged", r->acknowledged},
                         {"connections", 64},       {"window", 8},
                         {"msgs_per_s", r->rate},   {"ack_p50_ms", r->p50_ms},
                         {"ack_p99_ms", r->p99_ms}, {"commit_groups", groups}};
}

void Single(bool full) {
  const size_t n = full ? 10000 : 1500;
  auto nhs = NhsNumbers(1000);
  auto msgs = AdtBatch("S", n, nhs, 2);
  Serve s = Start(NewArk("single"));
  SendOptions o;
  o.port = s.mllp;
  auto r = SendMessages(msgs, o);
  json m = MetricsSummary(s);
  Stop(s);
  if (!r.ok()) return;
  const double groups = m.value("commit_groups", 0.0);
  std::printf(
      "single connection, waiting for each ACK: %llu messages, %.0f msgs/s; ACK p50 %.2f ms p99 "
      "%.2f ms; "
      "fdatasync per commit %.2f ms\n",
      (unsigned long long)r->sent, r->rate, r->p50_ms, r->p99_ms,
      groups > 0 ? m.value("commit_seconds_sum", 0.0) * 1000 / groups : 0.0);
  std::fflush(stdout);
  g_out["single"] = {
      {"messages", r->sent},
      {"msgs_per_s", r->rate},
      {"ack_p50_ms", r->p50_ms},
      {"ack_p99_ms", r->p99_ms},
      {"commit_ms", groups > 0 ? m.value("commit_seconds_sum", 0.0) * 1000 / groups : 0.0}};
}

double Pct(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5))];
}

void Latency(bool full) {
  const int seconds = full ? 60 : 8;
  const double rate = 5000;
  const size_t n = static_cast<size_t>(rate * seconds);
  auto nhs = NhsNumbers(5000);
  Serve s = Start(NewArk("latency"));
  // Baselines: one creatinine result of 80 per person, so later results of 250 are AKI stage 3.
  std::vector<std::string> base;
  for (size_t i = 0; i < nhs.size(); ++i)
    base.push_back(Oru("B" + std::to_string(i), nhs[i], 0, 80));
  SendOptions bo;
  bo.port = s.mllp;
  bo.connections = 16;
  bo.window = 8;
  (void)SendMessages(base, bo);
  // Alerts via SSE.
  std::vector<double> receipt_ms;
  std::atomic<bool> done{false};
  int fd = ConnectLocal(s.http);
  const std::string req =
      "GET /api/live/alerts/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.token +
      "\r\n\r\n";
  (void)!write(fd, req.data(), req.size());
  std::thread reader([&] {
    std::string buf;
    char b[65536];
    while (!done) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      const ssize_t k = read(fd, b, sizeof b);
      if (k <= 0) break;
      buf.append(b, static_cast<size_t>(k));
      size_t pos;
      while ((pos = buf.find("\n\n")) != std::string::npos) {
        const std::string ev = buf.substr(0, pos);
        buf.erase(0, pos + 2);
        const size_t d = ev.find("data: ");
        if (d == std::string::npos) continue;
        try {
          json a = json::parse(ev.substr(d + 6));
          receipt_ms.push_back((a["emitted_us"].get<int64_t>() - a["received_us"].get<int64_t>()) /
                               1000.0);
        } catch (...) {
        }
      }
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::mt19937_64 rng(3);
  std::vector<std::string> msgs;
  msgs.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string& who = nhs[rng() % nhs.size()];
    if (i % 5 == 0)
      msgs.push_back(Oru("L" + std::to_string(i), who, 60 + static_cast<int64_t>(i / 100), 250));
    else
      msgs.push_back(Adt("A" + std::to_string(i), who, static_cast<int>(rng() % 4),
                         60 + static_cast<int64_t>(i / 100), static_cast<int>(rng() % 12)));
  }
  SendOptions o;
  o.port = s.mllp;
  o.connections = 16;
  o.window = 4;
  o.rate = rate;
  auto r = SendMessages(msgs, o);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  done = true;
  reader.join();
  close(fd);
  Stop(s);
  if (!r.ok()) return;
  std::printf(
      "latency at %.0f msgs/s offered (%.0f achieved, %llu messages, %zu alerts): data-action "
      "latency receipt → alert "
      "p50 %.2f ms p99 %.2f ms max %.2f ms; ACK p50 %.2f ms p99 %.2f ms\n",
      rate, r->rate, (unsigned long long)r->sent, receipt_ms.size(), Pct(receipt_ms, 0.5),
      Pct(receipt_ms, 0.99), Pct(receipt_ms, 1.0), r->p50_ms, r->p99_ms);
  std::fflush(stdout);
  g_out["latency"] = {{"offered_msgs_per_s", rate},
                      {"achieved_msgs_per_s", r->rate},
                      {"alerts", receipt_ms.size()},
                      {"action_p50_ms", Pct(receipt_ms, 0.5)},
                      {"action_p99_ms", Pct(receipt_ms, 0.99)},
                      {"ack_p50_ms", r->p50_ms},
                      {"ack_p99_ms", r->p99_ms}};
}

// Sends on `conns` connections, pipelined, until the server dies or all are sent; returns the
// control ids ACKed AA.
std::set<std::string> Stream(uint16_t port, const std::vector<std::string>& msgs, int conns) {
  std::mutex mu;
  std::set<std::string> acked;
  std::vector<std::thread> ts;
  for (int c = 0; c < conns; ++c) {
    ts.emplace_back([&, c] {
      int fd = ConnectLocal(port);
      if (fd < 0) return;
      std::thread reader([&] {
        MllpDecoder dec;
        char buf[65536];
        for (;;) {
          pollfd p{fd, POLLIN, 0};
          if (poll(&p, 1, 2000) <= 0) break;
          const ssize_t k = read(fd, buf, sizeof buf);
          if (k <= 0) break;
          (void)dec.Feed(std::string_view(buf, static_cast<size_t>(k)), [&](std::string_view ack) {
            if (AckCode(ack) != "AA") return;
            std::lock_guard<std::mutex> l(mu);
            acked.insert(AckControlId(ack));
          });
        }
      });
      for (size_t i = c; i < msgs.size(); i += conns * 20) {
        std::string chunk;
        for (size_t j = i; j < std::min(msgs.size(), i + conns * 20); j += conns)
          AppendMllpFrame(msgs[j], &chunk);
        if (send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) !=
            static_cast<ssize_t>(chunk.size()))
          break;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      reader.join();
      close(fd);
    });
  }
  for (auto& t : ts) t.join();
  return acked;
}

void Crash(int restarts) {
  const std::string ark = NewArk("crash");
  auto nhs = NhsNumbers(2000);
  std::mt19937_64 rng(4);
  std::map<std::string, std::string> acked_msgs;  // control id -> message
  uint64_t lost = 0, acked_total = 0;
  for (int round = 0; round < restarts; ++round) {
    Serve s = Start(ark);
    const uint64_t have = Records(s);
    if (have < acked_msgs.size())
      lost += acked_msgs.size() - have;  // fewer records than ACKed messages
    auto msgs = AdtBatch("K" + std::to_string(round) + "_", 20000, nhs, 100 + round);
    std::set<std::string> acked;
    std::thread sender([&] { acked = Stream(s.mllp, msgs, 8); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 500));
    Stop(s, SIGKILL);
    sender.join();
    for (const auto& m : msgs) {
      const size_t a = m.find("ADT_A01|") + 8;
      const std::string id = m.substr(a, m.find('|', a) - a);
      if (acked.count(id)) acked_msgs[id] = m;
    }
    acked_total += acked.size();
  }
  // Final check: every ACKed message is stored — a retransmit of each adds no record.
  Serve s = Start(ark);
  const uint64_t before = Records(s);
  std::vector<std::string> again;
  for (auto& [id, m] : acked_msgs) again.push_back(m);
  SendOptions o;
  o.port = s.mllp;
  o.connections = 8;
  o.window = 16;
  auto r = SendMessages(again, o);
  const uint64_t after = Records(s);
  Stop(s);
  lost += after - before;
  std::printf(
      "crash: %d kill -9 restarts under load (8 connections): %llu messages ACKed, %llu records "
      "stored, "
      "%llu ACKed messages missing after restart (retransmits applied anew: %llu)\n",
      restarts, (unsigned long long)acked_total, (unsigned long long)before,
      (unsigned long long)lost, (unsigned long long)(after - before));
  std::fflush(stdout);
  g_out["crash"] = {{"restarts", restarts},
                    {"acked", acked_total},
                    {"stored", before},
                    {"lost", lost},
                    {"resend_acked", r.ok() ? r->acknowledged : 0}};
}

void Soak(int seconds) {
  auto nhs = NhsNumbers(20000);
  Serve s = Start(NewArk("soak"));
  const auto start = Clock::now();
  json samples = json::array();
  std::atomic<bool> done{false};
  std::thread sampler([&] {
    const int every = seconds >= 600 ? 60 : std::max(1, seconds / 10);
    while (!done) {
      const double t = std::chrono::duration<double>(Clock::now() - start).count();
      const long rss = RssKb(s.pid), anon = RssKb(s.pid, "RssAnon:"),
                 file = RssKb(s.pid, "RssFile:");
      samples.push_back({{"t", t}, {"rss_kb", rss}, {"anon_kb", anon}, {"file_kb", file}});
      std::printf("soak: t=%6.0f s  RSS %7.1f MB (anonymous %7.1f MB, mapped files %7.1f MB)\n", t,
                  rss / 1024.0, anon / 1024.0, file / 1024.0);
      std::fflush(stdout);
      for (int i = 0; i < every * 10 && !done; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  uint64_t sent = 0;
  for (int chunk = 0; std::chrono::duration<double>(Clock::now() - start).count() < seconds;
       ++chunk) {
    auto msgs = AdtBatch("Z" + std::to_string(chunk) + "_", 4000, nhs, 1000 + chunk);
    SendOptions o;
    o.port = s.mllp;
    o.connections = 8;
    o.window = 4;
    o.rate = 2000;
    auto r = SendMessages(msgs, o);
    if (r.ok()) sent += r->acknowledged;
  }
  done = true;
  sampler.join();
  Stop(s);
  const long first = samples.size() > 1 ? samples[1]["anon_kb"].get<long>() : 0;
  long peak = 0;
  for (const auto& x : samples) peak = std::max(peak, x["anon_kb"].get<long>());
  const long last = samples.empty() ? 0 : samples.back()["anon_kb"].get<long>();
  const long last_rss = samples.empty() ? 0 : samples.back()["rss_kb"].get<long>();
  std::printf(
      "soak: %d s at 2,000 msgs/s, %llu messages: anonymous memory %.1f MB after warm-up, peak "
      "%.1f MB, %.1f MB at "
      "the end (RSS with mapped store files %.1f MB)\n",
      seconds, (unsigned long long)sent, first / 1024.0, peak / 1024.0, last / 1024.0,
      last_rss / 1024.0);
  g_out["soak"] = {{"seconds", seconds}, {"messages", sent}, {"rss_kb", samples}};
}

// Milliseconds from fork to the first 200 from /healthz (StartServe polls every few ms).
double TimedStart(const std::string& ark, Serve* s) {
  const auto t0 = Clock::now();
  *s = Start(ark);
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// The last "ark serve: open ..." line of the server's log: where its start-up time went.
std::string OpenPhases(const std::string& ark) {
  auto text = ReadFile(ark + ".serve.log");
  if (!text.ok()) return "";
  const size_t at = text->rfind("ark serve: open ");
  if (at == std::string::npos) return "";
  const size_t end = text->find('\n', at);
  return text->substr(at + 11, end == std::string::npos ? std::string::npos : end - at - 11);
}

// persons = 0: N/10 (1,000 to 200,000), as in the first figures; else that many for every N,
// so that the sizes differ only in history.
void Restart(const std::vector<size_t>& sizes, size_t persons) {
  json out = json::array();
  for (size_t n : sizes) {
    const std::string ark = NewArk("restart");
    auto nhs = NhsNumbers(persons > 0 ? persons
                                      : std::min<size_t>(200000, std::max<size_t>(1000, n / 10)));
    Serve s = Start(ark);
    uint64_t acked = 0;
    double p99_max = 0, secs = 0;
    constexpr size_t kChunk = 100000;
    for (size_t sent = 0, chunk = 0; sent < n; sent += kChunk, ++chunk) {
      auto msgs = AdtBatch("R" + std::to_string(chunk) + "_", std::min(kChunk, n - sent), nhs,
                           7000 + chunk);
      SendOptions o;
      o.port = s.mllp;
      o.connections = 64;
      o.window = 8;
      auto r = SendMessages(msgs, o);
      if (!r.ok()) {
        std::printf("restart: %s\n", r.status().ToString().c_str());
        Stop(s, SIGKILL);
        return;
      }
      acked += r->acknowledged;
      p99_max = std::max(p99_max, r->p99_ms);
      secs += r->seconds;
    }
    json m = MetricsSummary(s);
    const double encodes = m.value("snapshot_encode_count", 0.0);
    const double encode_ms = encodes > 0 ? m.value("snapshot_encode_sum", 0.0) * 1000 / encodes : 0;
    const double stall_ms = encodes > 0 ? m.value("snapshot_stall_sum", 0.0) * 1000 / encodes : 0;
    Stop(s, SIGKILL);
    Serve a, b, c;
    const double kill_ms = TimedStart(ark, &a);
    const std::string kill_phases = OpenPhases(ark);
    const uint64_t records = Records(a);
    Stop(a);
    const double clean_ms = TimedStart(ark, &b);
    const std::string clean_phases = OpenPhases(ark);
    Stop(b);
    const uint64_t snapshot_bytes = DiskUsage(ark + "/live/snapshot");
    const uint64_t log_bytes = DiskUsage(ark + "/store/appended") + StoreWalBytes(ark);
    (void)RemoveAll(ark + "/live/snapshot");
    const double full_ms = TimedStart(ark, &c);
    const std::string full_phases = OpenPhases(ark);
    Stop(c);
    std::printf(
        "restart: %llu messages ACKed (%zu persons; %.0f msgs/s, 64 connections; worst ACK p99 of "
        "a 100k chunk %.1f ms; %.0f snapshots, each holding ACKs %.1f ms and encoded in %.1f ms "
        "on the snapshot thread), %llu records; start to "
        "/healthz: after kill -9 %.0f ms, after a clean stop %.0f ms, without the snapshot (whole "
        "log) %.0f ms; snapshot %.1f MB, store WAL (records and events) %.1f MB\n",
        (unsigned long long)acked, nhs.size(), secs > 0 ? acked / secs : 0.0, p99_max, encodes,
        stall_ms, encode_ms, (unsigned long long)records, kill_ms, clean_ms, full_ms,
        snapshot_bytes / 1048576.0, log_bytes / 1048576.0);
    std::printf("restart:   after kill -9:     %s\nrestart:   after a clean stop: %s\n"
                "restart:   whole log:         %s\n",
                kill_phases.c_str(), clean_phases.c_str(), full_phases.c_str());
    std::fflush(stdout);
    out.push_back({{"messages", n},
                   {"persons", nhs.size()},
                   {"open_after_kill", kill_phases},
                   {"open_after_clean_stop", clean_phases},
                   {"open_whole_log", full_phases},
                   {"acked", acked},
                   {"records", records},
                   {"ack_p99_ms_worst_chunk", p99_max},
                   {"snapshots", encodes},
                   {"snapshot_encode_ms", encode_ms},
                   {"snapshot_stall_ms", stall_ms},
                   {"start_after_kill_ms", kill_ms},
                   {"start_after_clean_stop_ms", clean_ms},
                   {"start_without_snapshot_ms", full_ms},
                   {"snapshot_bytes", snapshot_bytes},
                   {"log_bytes", log_bytes}});
  }
  g_out["restart"] = out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string suites = "throughput,single,latency,crash,soak,restart";
  bool full = false, as_json = false;
  int restarts = -1, soak_minutes = -1;
  std::string dir;
  std::vector<size_t> restart_sizes;
  size_t restart_persons = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--suite")
      suites = next();
    else if (a == "--full")
      full = true;
    else if (a == "--json")
      as_json = true;
    else if (a == "--restarts")
      restarts = std::atoi(next().c_str());
    else if (a == "--restart-sizes") {
      std::stringstream in(next());
      for (std::string x; std::getline(in, x, ',');) restart_sizes.push_back(std::stoull(x));
    } else if (a == "--restart-persons")
      restart_persons = std::stoull(next());
    else if (a == "--soak-minutes")
      soak_minutes = std::atoi(next().c_str());
    else if (a == "--ark-binary")
      g_ark_binary = next();
    else if (a == "--dir")
      dir = next();
    else {
      std::fprintf(stderr,
                   "usage: live_bench [--suite LIST] [--full] [--restarts N] [--soak-minutes M] "
                   "[--restart-sizes N,N] [--restart-persons P] [--ark-binary P] [--dir D] "
                   "[--json]\n");
      return 2;
    }
  }
  g_root = dir.empty() ? "/tmp/ark_live_bench_" + std::to_string(getpid()) : dir;
  (void)MakeDirs(g_root);
  signal(SIGPIPE, SIG_IGN);
  auto has = [&](const char* s) {
    return ("," + suites + ",").find(std::string(",") + s + ",") != std::string::npos;
  };
  if (has("throughput")) Throughput(full);
  if (has("single")) Single(full);
  if (has("latency")) Latency(full);
  if (has("crash")) Crash(restarts > 0 ? restarts : full ? 50 : 5);
  if (has("restart"))
    Restart(!restart_sizes.empty() ? restart_sizes
            : full                  ? std::vector<size_t>{1000000, 3000000}
                                    : std::vector<size_t>{100000, 300000},
            restart_persons);
  if (has("soak")) Soak(soak_minutes > 0 ? soak_minutes * 60 : full ? 1800 : 20);
  if (as_json) std::printf("%s\n", g_out.dump(2).c_str());
  if (dir.empty()) (void)RemoveAll(g_root);
  return 0;
}
