#include "live/sender.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "live/mllp.h"

namespace ark::live {
namespace {

using Clock = std::chrono::steady_clock;

Result<int> Connect(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string ps = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), ps.c_str(), &hints, &res); rc != 0) {
    return Status::IOError("cannot resolve " + host + ": " + gai_strerror(rc));
  }
  int fd = -1;
  std::string err = "no address";
  for (addrinfo* a = res; a; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    err = std::strerror(errno);
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) return Status::IOError("cannot connect to " + host + ":" + ps + ": " + err);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

struct ConnResult {
  uint64_t sent = 0, aa = 0, ae = 0, ar = 0, lost = 0;
  std::vector<double> latencies_ms;
  std::vector<std::string> problems;
};

std::string ErrText(std::string_view ack) {
  const size_t p = ack.find("ERR|");
  if (p == std::string_view::npos) return "";
  size_t e = ack.find('\r', p);
  return std::string(ack.substr(p, e == std::string_view::npos ? std::string_view::npos : e - p));
}

void RunConnection(int fd, const std::vector<const std::string*>& msgs, const SendOptions& o,
                   Clock::time_point start, double per_conn_rate, ConnResult* r) {
  std::deque<Clock::time_point> inflight;
  MllpDecoder dec;
  std::vector<char> buf(1 << 16);
  size_t next = 0;
  std::string out;
  bool dead = false;
  while (!dead && (next < msgs.size() || !inflight.empty())) {
    // Send what the window and the pace allow.
    auto now = Clock::now();
    out.clear();
    std::vector<Clock::time_point> stamps;
    int wait_ms = o.timeout_ms;
    while (next < msgs.size() && static_cast<int>(inflight.size() + stamps.size()) < o.window) {
      if (per_conn_rate > 0) {
        const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(next / per_conn_rate));
        if (due > now) {
          wait_ms = std::max<int>(
              0, static_cast<int>(
                     std::chrono::duration_cast<std::chrono::milliseconds>(due - now).count()));
          break;
        }
      }
      AppendMllpFrame(*msgs[next++], &out);
      stamps.push_back(now);
    }
    if (!out.empty()) {
      if (!WriteAll(fd, out)) {
        r->problems.push_back(std::string("connection lost while sending: ") +
                              std::strerror(errno));
        r->lost += stamps.size();
        dead = true;
        break;
      }
      r->sent += stamps.size();
      inflight.insert(inflight.end(), stamps.begin(), stamps.end());
    }
    if (inflight.empty()) {
      if (next < msgs.size())
        std::this_thread::sleep_for(std::chrono::milliseconds(std::max(0, std::min(wait_ms, 50))));
      continue;
    }
    pollfd p{fd, POLLIN, 0};
    const bool can_send_more = next < msgs.size() && static_cast<int>(inflight.size()) < o.window;
    const int timeout = can_send_more ? std::min(wait_ms, o.timeout_ms) : o.timeout_ms;
    const int pr = poll(&p, 1, timeout);
    if (pr < 0 && errno == EINTR) continue;
    if (pr == 0) {
      if (can_send_more) continue;
      r->problems.push_back("no ACK within " + std::to_string(o.timeout_ms) + " ms");
      dead = true;
      break;
    }
    const ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      r->problems.push_back(n == 0 ? "connection closed by the server"
                                   : std::string("recv: ") + std::strerror(errno));
      dead = true;
      break;
    }
    const auto got = Clock::now();
    Status s =
        dec.Feed(std::string_view(buf.data(), static_cast<size_t>(n)), [&](std::string_view ack) {
          if (inflight.empty()) return;
          r->latencies_ms.push_back(
              std::chrono::duration<double, std::milli>(got - inflight.front()).count());
          inflight.pop_front();
          const std::string code = AckCode(ack);
          if (code == "AA" || code == "CA")
            ++r->aa;
          else if (code == "AR" || code == "CR") {
            ++r->ar;
            if (r->problems.size() < 5) r->problems.push_back(code + ": " + ErrText(ack));
          } else {
            ++r->ae;
            if (r->problems.size() < 5)
              r->problems.push_back((code.empty() ? "?" : code) + ": " + ErrText(ack));
          }
        });
    if (!s.ok()) {
      r->problems.push_back(s.message());
      dead = true;
    }
  }
  r->lost += inflight.size();
  r->lost += msgs.size() - next;  // never sent
  close(fd);
}

double Percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

}  // namespace

namespace {

// Field `n` (1-based) of the MSA segment ("" when absent).
std::string MsaField(std::string_view ack, int n) {
  size_t p = ack.find("MSA");
  while (p != std::string_view::npos && p != 0 && ack[p - 1] != '\r' && ack[p - 1] != '\n')
    p = ack.find("MSA", p + 1);
  if (p == std::string_view::npos || p + 4 > ack.size()) return "";
  const char sep = ack[p + 3];
  size_t b = p + 4;
  for (int i = 1; i < n; ++i) {
    while (b < ack.size() && ack[b] != sep && ack[b] != '\r' && ack[b] != '\n') ++b;
    if (b >= ack.size() || ack[b] != sep) return "";
    ++b;
  }
  size_t e = b;
  while (e < ack.size() && ack[e] != sep && ack[e] != '\r' && ack[e] != '\n') ++e;
  return std::string(ack.substr(b, e - b));
}

}  // namespace

std::string AckCode(std::string_view ack) { return MsaField(ack, 1); }
std::string AckControlId(std::string_view ack) { return MsaField(ack, 2); }

Status ParseHostPort(const std::string& text, std::string* host, uint16_t* port) {
  const size_t c = text.rfind(':');
  if (c == std::string::npos || c == 0 || c + 1 == text.size()) {
    return Status::InvalidArgument("'" + text + "' is not HOST:PORT");
  }
  const std::string ps = text.substr(c + 1);
  char* end = nullptr;
  const unsigned long p = std::strtoul(ps.c_str(), &end, 10);
  if (*end != '\0' || p > 65535)
    return Status::InvalidArgument("'" + text + "': bad port '" + ps + "'");
  *host = text.substr(0, c);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']')
    *host = host->substr(1, host->size() - 2);
  *port = static_cast<uint16_t>(p);
  return Status::OK();
}

Result<SendReport> SendMessages(const std::vector<std::string>& messages, const SendOptions& o) {
  const int conns = std::max(1, std::min<int>(o.connections, std::max<size_t>(1, messages.size())));
  std::vector<int> fds;
  for (int c = 0; c < conns; ++c) {
    auto fd = Connect(o.host, o.port);
    if (!fd.ok()) {
      for (int f : fds) close(f);
      return fd.status();
    }
    fds.push_back(*fd);
  }
  std::vector<std::vector<const std::string*>> parts(conns);
  for (size_t i = 0; i < messages.size(); ++i) parts[i % conns].push_back(&messages[i]);
  std::vector<ConnResult> results(conns);
  const auto start = Clock::now();
  const double per_conn = o.rate > 0 ? o.rate / conns : 0;
  std::vector<std::thread> threads;
  for (int c = 0; c < conns; ++c) {
    threads.emplace_back(RunConnection, fds[c], std::cref(parts[c]), std::cref(o), start, per_conn,
                         &results[c]);
  }
  for (auto& t : threads) t.join();
  SendReport rep;
  rep.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> lat;
  for (ConnResult& r : results) {
    rep.sent += r.sent;
    rep.acknowledged += r.aa;
    rep.errors += r.ae;
    rep.rejected += r.ar;
    rep.unacknowledged += r.lost;
    lat.insert(lat.end(), r.latencies_ms.begin(), r.latencies_ms.end());
    for (auto& p : r.problems) {
      if (rep.problems.size() < 10) rep.problems.push_back(p);
    }
  }
  const uint64_t answered = rep.acknowledged + rep.errors + rep.rejected;
  rep.rate = rep.seconds > 0 ? answered / rep.seconds : 0;
  rep.p50_ms = Percentile(lat, 0.50);
  rep.p90_ms = Percentile(lat, 0.90);
  rep.p99_ms = Percentile(lat, 0.99);
  rep.max_ms = lat.empty() ? 0 : *std::max_element(lat.begin(), lat.end());
  return rep;
}

std::string SendReportJson(const SendReport& r) {
  nlohmann::json j = {
      {"sent", r.sent},
      {"acknowledged", r.acknowledged},
      {"errors", r.errors},
      {"rejected", r.rejected},
      {"unacknowledged", r.unacknowledged},
      {"seconds", r.seconds},
      {"rate", r.rate},
      {"ack_latency_ms",
       {{"p50", r.p50_ms}, {"p90", r.p90_ms}, {"p99", r.p99_ms}, {"max", r.max_ms}}},
      {"problems", r.problems}};
  // `problems` quote the server's ERR text, which may be in any charset: never throw on it.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace ark::live
