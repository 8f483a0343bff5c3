// Test helpers for the live feed (tests/live_*_test.cc): a temporary Ark, an in-process server on
// free ports (src/server), a blocking MLLP client, tiny HTTP requests, and hand-made HL7 messages. Header-only.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "core/net.h"
#include "live/ingestor.h"
#include "live/mllp.h"
#include "server/serve_process.h"
#include "server/server.h"

namespace ark::live::testing {

// The network front moved to src/server/; the live tests use it by its short names.
using server::kDefaultMaxBodyBytes;
using server::kDefaultMaxMessageBytes;
using server::ServeOptions;
using server::ServeProcess;
using server::Server;
using server::StartServe;
using server::StopServe;

inline std::string TempArk(const std::string& name) {
  static int counter = 0;
  std::string dir = ::testing::TempDir() + "ark_live_" + name + "_" + std::to_string(::getpid()) +
                    "_" + std::to_string(counter++);
  (void)RemoveAll(dir);
  auto cat = Catalog::Create(dir);
  EXPECT_TRUE(cat.ok()) << cat.status().ToString();
  return dir;
}

inline ProgrammeKey TestKey() {
  Digest d{};
  for (size_t i = 0; i < d.size(); ++i) d[i] = static_cast<uint8_t>(i * 7 + 1);
  return ProgrammeKey::FromBytes(d);
}

// An Ingestor and a Server on free 127.0.0.1 ports over `ark`.
struct LiveServer {
  Metrics metrics;
  std::unique_ptr<Ingestor> ingestor;
  std::unique_ptr<Server> server;
  std::string token = "test-token";

  explicit LiveServer(const std::string& ark, const std::string& rules_yaml = "",
                      size_t max_message_bytes = 0) {
    IngestOptions io;
    io.ark_dir = ark;
    io.key = TestKey();
    auto rules = ParseRules(rules_yaml.empty() ? DefaultRulesYaml() : rules_yaml, "rules");
    EXPECT_TRUE(rules.ok()) << rules.status().ToString();
    io.rules = *rules;
    io.compact_interval_s = 0;
    auto in = Ingestor::Open(io, &metrics);
    EXPECT_TRUE(in.ok()) << in.status().ToString();
    if (!in.ok()) return;
    ingestor = std::move(*in);
    ServeOptions so;
    so.ark_dir = ark;
    so.mllp_port = 0;
    so.http_port = 0;
    so.api_token = token;
    so.max_message_bytes = max_message_bytes;
    so.webhooks = io.rules.webhooks;
    auto s = Server::Start(so, ingestor.get(), &metrics);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (s.ok()) server = std::move(*s);
  }
  ~LiveServer() {
    if (server) server->Stop();
    if (ingestor) (void)ingestor->FlushStore();
    ingestor.reset();
    server.reset();
  }
  uint16_t mllp() const { return server->mllp_port(); }
  uint16_t http() const { return server->http_port(); }
};

// Reads until `n` MLLP frames arrived (or timeout); returns them.
inline std::vector<std::string> ReadFrames(int fd, size_t n, int timeout_ms = 5000) {
  std::vector<std::string> out;
  MllpDecoder dec;
  char buf[65536];
  while (out.size() < n) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) break;
    const ssize_t k = recv(fd, buf, sizeof buf, 0);
    if (k <= 0) break;
    (void)dec.Feed(std::string_view(buf, static_cast<size_t>(k)),
                   [&](std::string_view f) { out.emplace_back(f); });
  }
  return out;
}

inline bool SendRaw(int fd, const std::string& bytes) {
  return send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

// Sends each message in its own frame and returns the ACKs.
inline std::vector<std::string> SendAndAck(uint16_t port, const std::vector<std::string>& msgs) {
  int fd = ConnectLocal(port);
  EXPECT_GE(fd, 0);
  if (fd < 0) return {};
  std::string all;
  for (const auto& m : msgs) AppendMllpFrame(m, &all);
  EXPECT_TRUE(SendRaw(fd, all));
  auto acks = ReadFrames(fd, msgs.size());
  close(fd);
  return acks;
}

struct HttpResult {
  int status = 0;
  std::string head, body;
};

// One HTTP/1.1 request with Connection: close.
inline HttpResult Http(uint16_t port, const std::string& method, const std::string& target,
                       const std::string& token = "", const std::string& body = "") {
  HttpResult r;
  int fd = ConnectLocal(port);
  if (fd < 0) return r;
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  if (!body.empty() || method == "POST")
    req +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  SendRaw(fd, req);
  std::string resp;
  char buf[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) break;
    const ssize_t k = recv(fd, buf, sizeof buf, 0);
    if (k <= 0) break;
    resp.append(buf, static_cast<size_t>(k));
  }
  close(fd);
  const size_t sp = resp.find(' ');
  if (sp != std::string::npos) r.status = std::atoi(resp.c_str() + sp + 1);
  const size_t e = resp.find("\r\n\r\n");
  r.head = resp.substr(0, e);
  if (e != std::string::npos) r.body = resp.substr(e + 4);
  return r;
}

inline std::string Sample(const std::string& name) {
  auto t = ReadFile(std::string(ARK_SOURCE_DIR) + "/tests/data/hl7/" + name);
  EXPECT_TRUE(t.ok()) << name;
  auto m = SplitHl7Messages(t.ok() ? *t : "");
  return m.empty() ? "" : m[0];
}

// ADT^A01 for NHS number `nhs`, MRN `mrn`, ward `ward`, admitted at `when` (YYYYMMDDHHMMSS).
inline std::string Admit(const std::string& cid, const std::string& nhs, const std::string& mrn,
                         const std::string& ward, const std::string& when,
                         const std::string& adm_type = "EM", const std::string& trigger = "A01") {
  return "MSH|^~\\&|PAS|RXX01|HUB|REG|" + when + "||ADT^" + trigger + "^ADT_A01|" + cid +
         "|P|2.4\r" + "EVN|" + trigger + "|" + when + "||||" + when + "\r" + "PID|1||" + nhs +
         "^^^NHS^NH~" + mrn + "^^^RXX^MR||SMITH^JANE||19800215|F|||2 LOW ROAD^^LEEDS^^LS2 2BB\r" +
         "PV1|1|I|" + ward + "^BED1^^RXX01|" + adm_type + "||||||180||||19|||||V" + cid +
         "^^^RXX^VN" + std::string(25, '|') + when + "\r";
}

inline std::string Discharge(const std::string& cid, const std::string& nhs, const std::string& mrn,
                             const std::string& ward, const std::string& admitted,
                             const std::string& when) {
  return "MSH|^~\\&|PAS|RXX01|HUB|REG|" + when + "||ADT^A03^ADT_A03|" + cid + "|P|2.4\r" +
         "EVN|A03|" + when + "||||" + when + "\r" + "PID|1||" + nhs + "^^^NHS^NH~" + mrn +
         "^^^RXX^MR||SMITH^JANE||19800215|F\r" + "PV1|1|I|" + ward +
         "^BED1^^RXX01|||||||180||||19|||||V1^^^RXX^VN" + std::string(25, '|') + admitted + "|" +
         when + "\r";
}

// ORU^R01 with one OBX per (LOINC code, value, unit).
inline std::string Result(const std::string& cid, const std::string& nhs, const std::string& when,
                          const std::vector<std::tuple<std::string, double, std::string>>& obs) {
  std::string m = "MSH|^~\\&|LIMS|RXX01|HUB|REG|" + when + "||ORU^R01^ORU_R01|" + cid + "|P|2.4\r" +
                  "PID|1||" + nhs + "^^^NHS^NH||SMITH^JANE||19800215|F\r" + "OBR|1|||U&E|||" +
                  when + "\r";
  int i = 1;
  for (const auto& [code, value, unit] : obs) {
    char v[32];
    std::snprintf(v, sizeof v, "%g", value);
    m += "OBX|" + std::to_string(i++) + "|NM|" + code + "^X^LN||" + v + "|" + unit + "|||||F|||" +
         when + "\r";
  }
  return m;
}

}  // namespace ark::live::testing
