// HTTPS (`ark serve --tls-cert --tls-key`, tls.h): a self-signed certificate made at test time with
// the `openssl` command, a real TLS client (curl --cacert), and peers that do not speak TLS.
#include "server/tls.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/process.h"
#include "governance/governance.h"
#include "server/test_util.h"

namespace ark::server {
namespace {

using live::testing::SendRaw;

std::string Quote(const std::string& s) { return "'" + s + "'"; }

// A self-signed certificate for 127.0.0.1 (cert.pem, key.pem) and an unrelated key (other.pem).
struct Certs {
  std::string dir, cert, key, other;
  Certs() {
    dir = ::testing::TempDir() + "ark_tls_" + std::to_string(::getpid());
    (void)RemoveAll(dir);
    EXPECT_TRUE(MakeDirs(dir).ok());
    cert = dir + "/cert.pem";
    key = dir + "/key.pem";
    other = dir + "/other.pem";
    const CommandOutput r = RunCommand(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=127.0.0.1 "
        "-addext subjectAltName=IP:127.0.0.1 -keyout " + Quote(key) + " -out " + Quote(cert) +
        " 2>&1 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + Quote(other) + " 2>&1");
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }
};

// An Ark with one admin user, served over HTTPS in this process.
struct TlsServer {
  live::Metrics metrics;
  std::unique_ptr<live::Ingestor> ingestor;
  std::unique_ptr<Server> server;
  std::string ark, admin;

  TlsServer(const Certs& c, int handshake_timeout_ms = 10000) {
    ark = live::testing::TempArk("tls");
    {
      auto cat = Catalog::Open(ark);
      EXPECT_TRUE(cat.ok());
      auto t = gov::AddUser(**cat, nullptr, "admin", {"admin"});
      EXPECT_TRUE(t.ok()) << t.status().ToString();
      admin = t.ok() ? *t : "";
    }
    live::IngestOptions io;
    io.ark_dir = ark;
    io.key = live::testing::TestKey();
    io.rules = *live::ParseRules(live::DefaultRulesYaml(), "rules");
    io.compact_interval_s = 0;
    auto in = live::Ingestor::Open(io, &metrics);
    EXPECT_TRUE(in.ok()) << in.status().ToString();
    if (!in.ok()) return;
    ingestor = std::move(*in);
    ServeOptions so;
    so.ark_dir = ark;
    so.mllp_port = 0;
    so.http_port = 0;
    so.api_token = "test-token";
    so.tls_cert = c.cert;
    so.tls_key = c.key;
    so.tls_handshake_timeout_ms = handshake_timeout_ms;
    auto s = Server::Start(so, ingestor.get(), &metrics);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (s.ok()) server = std::move(*s);
  }
  ~TlsServer() {
    if (server) server->Stop();
    ingestor.reset();
    server.reset();
  }
  std::string Url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(server->http_port()) + path;
  }
};

// curl with the test's certificate as the only trusted one: head and body (-i), or "" on failure.
CommandOutput Curl(const Certs& c, const std::string& args) {
  return RunCommand("curl -sS -i --max-time 20 --cacert " + Quote(c.cert) + " " + args + " 2>&1");
}

// True when the server closes `fd` (end of stream or reset) within `ms`.
bool ClosedByServer(int fd, int ms) {
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return false;
    const ssize_t k = ::recv(fd, buf, sizeof buf, 0);
    if (k <= 0) return true;
  }
}

TEST(Tls, ServesTheApiOverHttpsWithHstsAndSecureCookies) {
  Certs c;
  TlsServer s(c);
  ASSERT_TRUE(s.server);
  const CommandOutput health = Curl(c, Quote(s.Url("/healthz")));
  ASSERT_EQ(health.exit_code, 0) << health.output;
  EXPECT_NE(health.output.find("HTTP/1.1 200"), std::string::npos) << health.output;
  EXPECT_NE(health.output.find("Strict-Transport-Security: max-age=31536000"), std::string::npos) << health.output;
  // The web app too.
  const CommandOutput app = Curl(c, Quote(s.Url("/")));
  EXPECT_NE(app.output.find("Content-Security-Policy"), std::string::npos) << app.output;
  EXPECT_NE(app.output.find("Strict-Transport-Security"), std::string::npos) << app.output;
  // Sign-in: the session cookie is Secure (and still HttpOnly, SameSite=Strict).
  const std::string body = nlohmann::json{{"user", "admin"}, {"token", s.admin}}.dump();
  const CommandOutput in = Curl(c, "-H 'Content-Type: application/json' --data " + Quote(body) + " " +
                                       Quote(s.Url("/api/v1/session")));
  ASSERT_NE(in.output.find("HTTP/1.1 201"), std::string::npos) << in.output;
  const size_t at = in.output.find("Set-Cookie: ark_session=");
  ASSERT_NE(at, std::string::npos) << in.output;
  const std::string cookie = in.output.substr(at, in.output.find('\n', at) - at);
  EXPECT_NE(cookie.find("; Secure"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos) << cookie;
  // A client that does not trust the certificate refuses it (this is TLS with our certificate).
  const CommandOutput untrusted = RunCommand("curl -sS --max-time 20 " + Quote(s.Url("/healthz")) + " 2>&1");
  EXPECT_NE(untrusted.exit_code, 0) << untrusted.output;
  // Plain HTTP on the TLS port gets no HTTP answer, and the server goes on.
  auto plain = live::testing::Http(s.server->http_port(), "GET", "/healthz");
  EXPECT_EQ(plain.status, 0) << plain.head;
  EXPECT_NE(Curl(c, Quote(s.Url("/healthz"))).output.find("HTTP/1.1 200"), std::string::npos);
}

TEST(Tls, GarbageAndStalledHandshakesDoNotStopOrBlockTheServer) {
  Certs c;
  TlsServer s(c, /*handshake_timeout_ms=*/300);
  ASSERT_TRUE(s.server);
  const uint16_t port = s.server->http_port();
  // Peers that stall before or in the handshake, and peers that send garbage or plain HTTP.
  std::vector<int> stalled;
  for (int i = 0; i < 8; ++i) stalled.push_back(ConnectLocal(port));
  const int half = ConnectLocal(port);  // a ClientHello's record header, then nothing
  ASSERT_TRUE(SendRaw(half, std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)));
  const int garbage = ConnectLocal(port);
  std::string junk(4096, '\0');
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>((i * 131 + 7) & 0xff);
  ASSERT_TRUE(SendRaw(garbage, junk));
  const int plain = ConnectLocal(port);
  ASSERT_TRUE(SendRaw(plain, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  // Others are served meanwhile.
  for (int i = 0; i < 3; ++i) {
    const CommandOutput h = Curl(c, Quote(s.Url("/healthz")));
    EXPECT_NE(h.output.find("HTTP/1.1 200"), std::string::npos) << h.output;
  }
  // The garbage and plain-HTTP peers are dropped; the stalled ones after the handshake timeout.
  EXPECT_TRUE(ClosedByServer(garbage, 10000));
  EXPECT_TRUE(ClosedByServer(plain, 10000));
  EXPECT_TRUE(ClosedByServer(half, 10000));
  for (int fd : stalled) EXPECT_TRUE(ClosedByServer(fd, 10000));
  for (int fd : stalled) ::close(fd);
  for (int fd : {half, garbage, plain}) ::close(fd);
  const CommandOutput h = Curl(c, Quote(s.Url("/healthz")));
  EXPECT_NE(h.output.find("HTTP/1.1 200"), std::string::npos) << h.output;
}

// The alert stream over HTTPS: a TLS client reading Server-Sent Events gets the alert that HL7
// messages sent over MLLP raise (the stream's writes and its close detection share the TLS stream).
TEST(Tls, AlertStreamOverHttps) {
  Certs c;
  TlsServer s(c);
  ASSERT_TRUE(s.server);
  std::thread feed([&] {
    for (int i = 0; i < 400 && s.metrics.sse_clients.load() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    live::testing::SendAndAck(s.server->mllp_port(),
                              {live::testing::Result("L1", "9434765919", "20250110080000", {{"14682-9", 80, "umol/L"}}),
                               live::testing::Result("L2", "9434765919", "20250112080000", {{"14682-9", 250, "umol/L"}})});
  });
  // curl reads the stream until the alert's data line has come (or gives up after 20 s); then it
  // is stopped.
  std::FILE* pipe = ::popen(("echo $$; exec curl -sS -N --max-time 20 --cacert " + Quote(c.cert) +
                             " -H 'Authorization: Bearer test-token' " + Quote(s.Url("/api/v1/live/alerts/stream")) + " 2>&1")
                                .c_str(),
                            "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char line[4096];
  pid_t curl = 0;
  while (std::fgets(line, sizeof line, pipe)) {
    if (curl == 0) {
      curl = static_cast<pid_t>(std::atoi(line));
      continue;
    }
    out += line;
    if (out.find("\ndata: ") != std::string::npos) break;
  }
  if (curl > 0) ::kill(curl, SIGTERM);
  ::pclose(pipe);
  feed.join();
  EXPECT_NE(out.find(": connected"), std::string::npos) << out;
  EXPECT_NE(out.find("event: alert"), std::string::npos) << out;
  EXPECT_NE(out.find("aki_stage_2_or_more"), std::string::npos) << out;
  EXPECT_NE(Curl(c, Quote(s.Url("/healthz"))).output.find("HTTP/1.1 200"), std::string::npos);
}

// `ark serve` with a bad certificate or key: a clear error naming the file, non-zero exit, and
// nothing served (the command returns instead of serving).
TEST(Tls, BadCertificateOrKeyIsAnErrorAtStartNamingTheFile) {
  Certs c;
  const std::string ark = live::testing::TempArk("tls_bad");
  const std::string not_pem = c.dir + "/not.pem";
  ASSERT_TRUE(WriteFileAtomic(not_pem, "this is not a certificate\n").ok());
  auto serve = [&](const std::string& tls_args) {
    return RunCommand("timeout 60 " + Quote(ARK_BINARY) + " serve " + Quote(ark) +
                      " --mllp 127.0.0.1:42901 --http 127.0.0.1:42902 " + tls_args + " 2>&1");
  };
  struct Case {
    std::string args, names;
  };
  const std::vector<Case> cases = {
      {"--tls-cert " + Quote(c.dir + "/missing.pem") + " --tls-key " + Quote(c.key), c.dir + "/missing.pem"},
      {"--tls-cert " + Quote(c.cert) + " --tls-key " + Quote(c.dir + "/missing.key"), c.dir + "/missing.key"},
      {"--tls-cert " + Quote(not_pem) + " --tls-key " + Quote(c.key), not_pem},
      {"--tls-cert " + Quote(c.cert) + " --tls-key " + Quote(not_pem), not_pem},
      {"--tls-cert " + Quote(c.cert) + " --tls-key " + Quote(c.other), "does not match the certificate"},
      {"--tls-cert " + Quote(c.cert), "--tls-cert needs --tls-key"},
      {"--tls-key " + Quote(c.key), "--tls-key needs --tls-cert"},
  };
  for (const Case& k : cases) {
    const CommandOutput r = serve(k.args);
    EXPECT_NE(r.exit_code, 0) << k.args << "\n" << r.output;
    EXPECT_NE(r.exit_code, 124) << "it served: " << k.args;
    EXPECT_NE(r.output.find(k.names), std::string::npos) << k.args << "\n" << r.output;
    EXPECT_EQ(r.output.find("HTTPS on"), std::string::npos) << r.output;
  }
  // The error names the mismatched key file too.
  const CommandOutput r = serve("--tls-cert " + Quote(c.cert) + " --tls-key " + Quote(c.other));
  EXPECT_NE(r.output.find(c.other), std::string::npos) << r.output;
}

}  // namespace
}  // namespace ark::server
