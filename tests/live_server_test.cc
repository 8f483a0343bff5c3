// ark serve in process: ACKs for the samples, AE with the position, idempotent retransmits (also
// across a restart), bearer tokens, SSE alerts, FHIR, and no identifier on disk.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/fs.h"
#include "core/process.h"
#include "governance/governance.h"
#include "live/sender.h"
#include "server/test_util.h"
#include "store/store.h"

namespace ark::live {
namespace {

using namespace testing;

TEST(LiveServer, SamplesGetAA) {
  const std::string ark = TempArk("samples");
  LiveServer s(ark);
  ASSERT_TRUE(s.server);
  std::vector<std::string> msgs = {Sample("adt_a01.hl7"), Sample("adt_a03_escape.hl7"),
                                   Sample("adt_a40.hl7")};
  auto acks = SendAndAck(s.mllp(), msgs);
  ASSERT_EQ(acks.size(), 3u);
  EXPECT_EQ(AckCode(acks[0]), "AA") << acks[0];
  EXPECT_NE(acks[0].find("MSA|AA|MSG00001"), std::string::npos) << acks[0];
  EXPECT_NE(acks[1].find("MSA|AA|MSG00003"), std::string::npos) << acks[1];
  EXPECT_NE(acks[2].find("MSA|AA|MSG00040"), std::string::npos) << acks[2];
  EXPECT_EQ(s.ingestor->records(), 3u);
}

TEST(LiveServer, MalformedMessageGetsAEWithPosition) {
  const std::string ark = TempArk("malformed");
  LiveServer s(ark);
  ASSERT_TRUE(s.server);
  std::string bad = Sample("adt_a01.hl7");
  const size_t p = bad.rfind("20250101115500");
  ASSERT_NE(p, std::string::npos);
  bad.replace(p, 14, "2025XX01115500");  // PV1-44
  auto acks = SendAndAck(s.mllp(), {bad, "this is not HL7", Sample("adt_a03_escape.hl7")});
  ASSERT_EQ(acks.size(), 3u);
  EXPECT_EQ(AckCode(acks[0]), "AE") << acks[0];
  EXPECT_NE(acks[0].find("MSA|AE|MSG00001"), std::string::npos) << acks[0];
  EXPECT_NE(acks[0].find("PV1^4^44"), std::string::npos) << acks[0];
  EXPECT_EQ(AckCode(acks[1]), "AE") << acks[1];
  EXPECT_EQ(AckCode(acks[2]), "AA") << acks[2];  // in order, after the errors
  EXPECT_EQ(s.ingestor->records(), 1u);
}

TEST(LiveServer, UnsupportedTypeGetsAR) {
  const std::string ark = TempArk("unsupported");
  LiveServer s(ark);
  ASSERT_TRUE(s.server);
  std::string m = Sample("adt_a01.hl7");
  m.replace(m.find("ADT^A01^ADT_A01"), 15, "ADT^A05^ADT_A05");
  auto acks = SendAndAck(s.mllp(), {m});
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(AckCode(acks[0]), "AR") << acks[0];
}

TEST(LiveServer, RetransmitIsIdempotentAlsoAcrossRestart) {
  const std::string ark = TempArk("idempotent");
  const std::string a01 = Sample("adt_a01.hl7");
  {
    LiveServer s(ark);
    ASSERT_TRUE(s.server);
    auto acks = SendAndAck(s.mllp(), {a01, a01, a01});
    ASSERT_EQ(acks.size(), 3u);
    for (auto& a : acks) EXPECT_EQ(AckCode(a), "AA");
    EXPECT_EQ(s.ingestor->records(), 1u);
    EXPECT_EQ(s.metrics.duplicates.load(), 2u);
  }
  {
    LiveServer s(ark);
    ASSERT_TRUE(s.server);
    EXPECT_EQ(s.ingestor->restored(), 1u);  // from the snapshot of the clean stop
    EXPECT_EQ(s.ingestor->replayed(), 0u);
    auto acks = SendAndAck(s.mllp(), {a01});
    ASSERT_EQ(acks.size(), 1u);
    EXPECT_EQ(AckCode(acks[0]), "AA");
    EXPECT_EQ(s.ingestor->records(), 1u);
    auto ind = nlohmann::json::parse(s.ingestor->IndicatorsJson());
    EXPECT_EQ(ind["bed_occupancy"]["occupied"], 1);
  }
  // The store holds the admission exactly once.
  auto store = Store::Open(ark + "/store");
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->num_events(), 1u);
}

TEST(LiveServer, TokenRequiredHealthzOpen) {
  const std::string ark = TempArk("token");
  LiveServer s(ark);
  ASSERT_TRUE(s.server);
  EXPECT_EQ(Http(s.http(), "GET", "/healthz").status, 200);
  for (const char* path :
       {"/api/live/indicators", "/metrics", "/api/live/alerts", "/api/live/alerts/stream"}) {
    EXPECT_EQ(Http(s.http(), "GET", path).status, 401) << path;
    EXPECT_EQ(Http(s.http(), "GET", path, "wrong").status, 401) << path;
    EXPECT_EQ(Http(s.http(), "GET", path, "admin:wrong").status, 401) << path;
  }
  EXPECT_EQ(Http(s.http(), "POST", "/fhir", "", "{}").status, 401);
  auto ok = Http(s.http(), "GET", "/api/live/indicators", s.token);
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find("bed_occupancy"), std::string::npos) << ok.body;
  auto m = Http(s.http(), "GET", "/metrics", s.token);
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(
      m.body.find("ark_live_data_action_latency_seconds_bucket{from=\"receipt\",le=\"+Inf\"}"),
      std::string::npos);
}

TEST(LiveServer, SseReceivesAlert) {
  const std::string ark = TempArk("sse");
  LiveServer s(ark);
  ASSERT_TRUE(s.server);
  int fd = ConnectLocal(s.http());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(
      SendRaw(fd, "GET /api/live/alerts/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                      s.token + "\r\n\r\n"));
  std::string got;
  char buf[4096];
  auto read_until = [&](const std::string& what) {
    for (int i = 0; i < 50 && got.find(what) == std::string::npos; ++i) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      const ssize_t k = recv(fd, buf, sizeof buf, 0);
      if (k <= 0) break;
      got.append(buf, static_cast<size_t>(k));
    }
    return got.find(what) != std::string::npos;
  };
  ASSERT_TRUE(read_until(": connected")) << got;
  EXPECT_NE(got.find("text/event-stream"), std::string::npos);
  // Creatinine 80 then 250 two days later: ratio 3.1 → AKI stage 3; NEWS2 with resp 26 (3).
  auto acks = SendAndAck(
      s.mllp(), {Result("L1", "9434765919", "20250110080000", {{"14682-9", 80, "umol/L"}}),
                 Result("L2", "9434765919", "20250112080000", {{"14682-9", 250, "umol/L"}})});
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(AckCode(acks[1]), "AA") << acks[1];
  ASSERT_TRUE(read_until("event: alert")) << got;
  ASSERT_TRUE(read_until("\n\n"));
  EXPECT_NE(got.find("aki_stage_2_or_more"), std::string::npos) << got;
  EXPECT_NE(got.find("\"value\":3"), std::string::npos) << got;
  close(fd);
  auto recent = Http(s.http(), "GET", "/api/live/alerts", s.token);
  EXPECT_NE(recent.body.find("aki_stage_2_or_more"), std::string::npos);
  EXPECT_GE(s.metrics.action_receipt.count(), 1u);
}

TEST(LiveServer, FhirBundleGoesThroughTheSamePath) {
  const std::string ark = TempArk("fhir");
  LiveServer s(ark);
  ASSERT_TRUE(s.server);
  const std::string bundle = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:p1","resource":{"resourceType":"Patient","id":"p1",
      "identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}],"birthDate":"1950-03-04","gender":"male"}},
    {"resource":{"resourceType":"Observation","status":"final","subject":{"reference":"urn:uuid:p1"},
      "code":{"coding":[{"system":"http://loinc.org","code":"14682-9"}]},"effectiveDateTime":"2025-02-01T08:00:00Z",
      "valueQuantity":{"value":90,"unit":"umol/L"}}}]})";
  auto r = Http(s.http(), "POST", "/fhir", s.token, bundle);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("transaction-response"), std::string::npos) << r.body;
  EXPECT_GE(s.ingestor->records(), 1u);
  // The same bundle again is a retransmit.
  const uint64_t before = s.ingestor->records();
  EXPECT_EQ(Http(s.http(), "POST", "/fhir", s.token, bundle).status, 200);
  EXPECT_EQ(s.ingestor->records(), before);
  EXPECT_EQ(Http(s.http(), "POST", "/fhir", s.token, "{not json").status, 400);
}

// Nothing under the Ark may hold an identifier from the messages: NHS numbers, MRNs, names, dates
// of birth, addresses, postcodes.
TEST(LiveServer, NoIdentifierReachesDisk) {
  const std::string ark = TempArk("identifiers");
  {
    LiveServer s(ark);
    ASSERT_TRUE(s.server);
    auto acks = SendAndAck(
        s.mllp(), {Sample("adt_a01.hl7"), Sample("adt_a03_escape.hl7"), Sample("adt_a40.hl7"),
                   Admit("X1", "9434765919", "RXX5550001", "WARD9", "20250105100000"),
                   Result("X2", "9434765919", "20250106080000", {{"14682-9", 300, "umol/L"}})});
    ASSERT_EQ(acks.size(), 5u);
    for (auto& a : acks) EXPECT_EQ(AckCode(a), "AA") << a;
    ASSERT_TRUE(s.ingestor->FlushStore().ok());
    ASSERT_TRUE(s.ingestor->FlushStore().ok());
  }
  {
    // Compaction writes segments too.
    auto store = Store::Open(ark + "/store");
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Compact().ok());
  }
  const std::vector<std::string> identifiers = {
      "9990000018",  "999 000 0018", "9434765919", "RXX1234567", "RXX7654321",  "RXX5550001",
      "PATIENT",     "SMITH",        "JANE",       "JOHN",       "19700101",    "19800215",
      "HIGH STREET", "LOW ROAD",     "LS1 1AA",    "LS2 2BB",    "01130000000", "V0001"};
  size_t files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(ark)) {
    if (!e.is_regular_file()) continue;
    ++files;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const std::string& id : identifiers) {
      EXPECT_EQ(data.find(id), std::string::npos) << id << " found in " << e.path();
    }
  }
  EXPECT_GT(files, 3u);
}

TEST(LiveServer, MergeMovesPersonKeys) {
  const std::string ark = TempArk("merge");
  LiveServer s(ark);
  ASSERT_TRUE(s.server);
  // Person known only by MRN RXX7654321, admitted; then A40 merges it into NHS 9990000018.
  std::string by_mrn =
      "MSH|^~\\&|PAS|RXX01|HUB|REG|20250101080000||ADT^A01^ADT_A01|M1|P|2.4\r"
      "EVN|A01|20250101080000\rPID|1||RXX7654321^^^RXX^MR||X^Y||19700101|M\r"
      "PV1|1|I|WARD2^BED1^^RXX01\r";
  auto acks =
      SendAndAck(s.mllp(), {by_mrn, Sample("adt_a40.hl7"),
                            "MSH|^~\\&|PAS|RXX01|HUB|REG|20250103080000||ADT^A03^ADT_A03|M3|P|2.4\r"
                            "EVN|A03|20250103080000\rPID|1||RXX7654321^^^RXX^MR||X^Y||19700101|M\r"
                            "PV1|1|I|WARD2^BED1^^RXX01\r"});
  ASSERT_EQ(acks.size(), 3u);
  for (auto& a : acks) EXPECT_EQ(AckCode(a), "AA") << a;
  auto ind = nlohmann::json::parse(s.ingestor->IndicatorsJson());
  // The discharge under the old MRN reached the surviving person, who was in the bed.
  EXPECT_EQ(ind["bed_occupancy"]["occupied"], 0) << ind.dump();
  EXPECT_EQ(ind["persons"], 1) << ind.dump();
}

}  // namespace
}  // namespace ark::live

namespace ark::live {
namespace {

using namespace testing;

TEST(LiveServer, GovernanceUserTokenIsAccepted) {
  const std::string ark = TempArk("govtoken");
  std::string token;
  {
    auto cat = Catalog::Open(ark);
    ASSERT_TRUE(cat.ok());
    ASSERT_TRUE(gov::EnsureGovernanceSchema(**cat).ok());
    auto t = gov::AddUser(**cat, nullptr, "alice", {"admin"});
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    token = *t;
  }
  LiveServer s(ark);
  ASSERT_TRUE(s.server);
  EXPECT_EQ(Http(s.http(), "GET", "/api/live/indicators", "alice:" + token).status, 200);
  EXPECT_EQ(Http(s.http(), "GET", "/api/live/indicators", "alice:" + token + "x").status, 401);
  EXPECT_EQ(Http(s.http(), "GET", "/api/live/indicators", "bob:" + token).status, 401);
}

// A wrong governance token is refused on the signed ledger, once for a client that retries it.
TEST(LiveServer, WrongTokenIsRefusedOnTheLedgerOnce) {
  const std::string ark = TempArk("govwrong");
  {
    auto cat = Catalog::Open(ark);
    ASSERT_TRUE(cat.ok());
    ASSERT_TRUE(gov::AddUser(**cat, nullptr, "alice", {"admin"}).ok());
  }
  LiveServer s(ark);
  ASSERT_TRUE(s.server);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Http(s.http(), "GET", "/api/live/indicators", "alice:wrong").status, 401);
  auto entries = ReadFile(ark + "/ledger/entries.jsonl");
  ASSERT_TRUE(entries.ok());
  size_t refusals = 0;
  for (size_t at = 0; (at = entries->find("\"type\":\"refusal\",\"by\":\"alice\"", at)) != std::string::npos; ++at) ++refusals;
  EXPECT_EQ(refusals, 1u) << *entries;
}

// Writing data is a role of its own: any governance user may read the API, only a `feed` user
// (or the interim API token) may POST /fhir.
TEST(LiveServer, WritingDataNeedsTheFeedRole) {
  const std::string ark = TempArk("govfeed");
  std::string admin, feed;
  {
    auto cat = Catalog::Open(ark);
    ASSERT_TRUE(cat.ok());
    auto t = gov::AddUser(**cat, nullptr, "alice", {"admin", "analyst"});
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    admin = "alice:" + *t;
    auto alice = gov::Authenticate(**cat, "alice", *t);
    ASSERT_TRUE(alice.ok());
    auto f = gov::AddUser(**cat, &*alice, "pas", {"feed"});
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    feed = "pas:" + *f;
  }
  LiveServer s(ark);
  ASSERT_TRUE(s.server);
  const std::string bundle = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:p1","resource":{"resourceType":"Patient","id":"p1",
      "identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}],"birthDate":"1950-03-04","gender":"male"}}]})";
  EXPECT_EQ(Http(s.http(), "GET", "/api/live/indicators", admin).status, 200);
  auto r = Http(s.http(), "POST", "/fhir", admin, bundle);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("feed"), std::string::npos) << r.body;
  EXPECT_EQ(s.ingestor->records(), 0u);
  r = Http(s.http(), "POST", "/fhir", feed, bundle);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_GE(s.ingestor->records(), 1u);
}

TEST(LiveServer, SecondListenerOnTheSameArkIsRefused) {
  const std::string ark = TempArk("twice");
  LiveServer s(ark);
  ASSERT_TRUE(s.server);
  Metrics m;
  IngestOptions io;
  io.ark_dir = ark;
  io.key = TestKey();
  auto second = Ingestor::Open(io, &m);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition) << second.status().ToString();
}

std::pair<int, std::string> RunArk(const std::string& args) {
  CommandOutput r = RunCommand(std::string(ARK_BINARY) + " " + args + " 2>&1");
  return {r.exit_code, r.output};
}

TEST(LiveSendHl7, ReportsAcksAsJson) {
  const std::string ark = TempArk("sendhl7");
  LiveServer s(ark);
  ASSERT_TRUE(s.server);
  const std::string dir = std::string(ARK_SOURCE_DIR) + "/tests/data/hl7/";
  // Two files, one of them twice: the repeat is a retransmit (AA, not applied again).
  auto [rc, out] =
      RunArk("send-hl7 " + dir + "adt_a01.cr.hl7 " + dir + "adt_a03_escape.hl7 " + dir +
             "adt_a01.hl7 --to 127.0.0.1:" + std::to_string(s.mllp()) + " --connections 2 --json");
  ASSERT_EQ(rc, 0) << out;
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["sent"], 3);
  EXPECT_EQ(j["acknowledged"], 3);
  EXPECT_EQ(j["errors"], 0);
  EXPECT_TRUE(j["ack_latency_ms"].contains("p99"));
  EXPECT_EQ(s.ingestor->records(), 2u);
}

TEST(LiveSendHl7, ManyMessagesPerFileAndRepeat) {
  const std::string ark = TempArk("sendmany");
  LiveServer s(ark);
  ASSERT_TRUE(s.server);
  const std::string file = ark + ".feed.hl7";
  {
    std::ofstream f(file, std::ios::binary);
    f << Admit("F1", "9434765919", "RXX1", "W1", "20250101100000") << "\n"
      << Discharge("F2", "9434765919", "RXX1", "W1", "20250101100000", "20250102100000") << "\r\n";
  }
  auto [rc, out] = RunArk("send-hl7 " + file + " --to 127.0.0.1:" + std::to_string(s.mllp()) +
                          " --repeat 5 --unique-ids --connections 3 --window 4 --json");
  ASSERT_EQ(rc, 0) << out;
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["sent"], 10);
  EXPECT_EQ(j["acknowledged"], 10);
  EXPECT_EQ(s.ingestor->records(), 10u);
}

TEST(LiveSendHl7, CannotConnectExitsNonZero) {
  const std::string dir = std::string(ARK_SOURCE_DIR) + "/tests/data/hl7/";
  auto [rc, out] = RunArk("send-hl7 " + dir + "adt_a01.hl7 --to 127.0.0.1:1 --json");
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("cannot connect"), std::string::npos) << out;
}

}  // namespace
}  // namespace ark::live

namespace ark::live {
namespace {

using namespace testing;

// A webhook receiver that drops the first request (the sender must retry) and answers 204 after.
TEST(LiveServer, WebhookGetsAlertWithRetry) {
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
  listen(lfd, 8);
  const int port = ntohs(a.sin_port);
  std::string received;
  int requests = 0;
  std::thread hook([&] {
    for (int i = 0; i < 2; ++i) {
      pollfd p{lfd, POLLIN, 0};
      if (poll(&p, 1, 5000) <= 0) return;
      int c = accept(lfd, nullptr, nullptr);
      ++requests;
      std::string req;
      char buf[8192];
      while (req.find("\r\n\r\n") == std::string::npos || req.find("}") == std::string::npos) {
        pollfd q{c, POLLIN, 0};
        if (poll(&q, 1, 2000) <= 0) break;
        const ssize_t k = recv(c, buf, sizeof buf, 0);
        if (k <= 0) break;
        req.append(buf, static_cast<size_t>(k));
      }
      if (i == 1) {
        received = req;
        SendRaw(c, "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
      }
      close(c);
    }
  });
  const std::string ark = TempArk("webhook");
  {
    std::string rules = DefaultRulesYaml();
    rules.replace(rules.find("webhooks: []"), 12,
                  "webhooks: [\"http://127.0.0.1:" + std::to_string(port) + "/hook\"]");
    LiveServer s(ark, rules);
    ASSERT_TRUE(s.server);
    auto acks = SendAndAck(
        s.mllp(), {Result("W1", "9434765919", "20250110080000", {{"14682-9", 80, "umol/L"}}),
                   Result("W2", "9434765919", "20250112080000", {{"14682-9", 250, "umol/L"}})});
    ASSERT_EQ(acks.size(), 2u);
    hook.join();
    for (int i = 0; i < 100 && s.metrics.webhook_sent.load() == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(s.metrics.webhook_sent.load(), 1u);
    EXPECT_GE(s.metrics.webhook_failed.load(), 1u);
  }
  close(lfd);
  EXPECT_EQ(requests, 2);
  EXPECT_NE(received.find("POST /hook"), std::string::npos) << received;
  EXPECT_NE(received.find("aki_stage_2_or_more"), std::string::npos) << received;
}

}  // namespace
}  // namespace ark::live

namespace ark::live {
namespace {

using namespace testing;

// A sender that half-closes after its last frame still gets every ACK; frames split in odd places
// across writes are reassembled.
TEST(LiveServer, HalfCloseAndSplitFrames) {
  const std::string ark = TempArk("halfclose");
  LiveServer s(ark);
  ASSERT_TRUE(s.server);
  int fd = ConnectLocal(s.mllp());
  ASSERT_GE(fd, 0);
  std::string all = MllpFrame(Sample("adt_a01.hl7")) + MllpFrame(Sample("adt_a03_escape.hl7")) +
                    MllpFrame(Sample("adt_a40.hl7"));
  for (size_t i = 0; i < all.size(); i += 37) {
    ASSERT_TRUE(SendRaw(fd, all.substr(i, 37)));
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  shutdown(fd, SHUT_WR);
  auto acks = ReadFrames(fd, 3);
  close(fd);
  ASSERT_EQ(acks.size(), 3u);
  for (auto& a : acks) EXPECT_EQ(AckCode(a), "AA") << a;
}

}  // namespace
}  // namespace ark::live

namespace ark::live {
namespace {

using namespace testing;

TEST(LiveServer, RestartRebuildsStateWithoutDuplicateAlerts) {
  const std::string ark = TempArk("restartalerts");
  std::string before;
  {
    LiveServer s(ark);
    ASSERT_TRUE(s.server);
    auto acks = SendAndAck(
        s.mllp(), {Admit("R1", "9434765919", "RXX1", "W1", "20250101100000"),
                   Result("R2", "9434765919", "20250110080000", {{"14682-9", 80, "umol/L"}}),
                   Result("R3", "9434765919", "20250112080000", {{"14682-9", 250, "umol/L"}})});
    ASSERT_EQ(acks.size(), 3u);
    EXPECT_EQ(s.metrics.alerts.load(), 1u);
    before = s.ingestor->IndicatorsJson();
  }
  LiveServer s(ark);
  ASSERT_TRUE(s.server);
  EXPECT_EQ(s.ingestor->IndicatorsJson(), before);  // rebuilt from the log
  EXPECT_EQ(s.metrics.alerts.load(), 0u);           // replay emits nothing
  // The recent-alerts list comes back with the live snapshot (same alert, same id).
  ASSERT_EQ(s.ingestor->RecentAlerts().size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(s.ingestor->RecentAlerts()[0])["id"], 3 * 64 + 0);
  // A retransmit of the alerting message raises nothing either.
  auto acks = SendAndAck(
      s.mllp(), {Result("R3", "9434765919", "20250112080000", {{"14682-9", 250, "umol/L"}})});
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(AckCode(acks[0]), "AA");
  EXPECT_EQ(s.metrics.alerts.load(), 0u);
  // A new result does, with a new id.
  acks = SendAndAck(s.mllp(),
                    {Result("R4", "9434765919", "20250113080000", {{"14682-9", 260, "umol/L"}})});
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(s.metrics.alerts.load(), 1u);
  auto recent = s.ingestor->RecentAlerts();
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(recent[1])["id"], 4 * 64 + 0);
}

}  // namespace
}  // namespace ark::live

namespace ark::live {
namespace {

using namespace testing;

// Live persons get the batch side's keys: the NHS-number pseudonym is `ark pseudonymise`'s, and a
// new one is added to the catalog's person_keys.
TEST(LiveServer, PersonKeysSharedWithTheCatalog) {
  const std::string ark = TempArk("catalogkeys");
  const Digest known = TestKey().Hmac("9434765919");
  {
    auto cat = Catalog::Open(ark);
    ASSERT_TRUE(cat.ok());
    auto ins = (*cat)->Prepare("INSERT INTO person_keys(pseudonym, person) VALUES (?, 41)");
    ASSERT_TRUE(ins.ok());
    (*ins)->BindBlob(1, known.data(), static_cast<int>(known.size()));
    ASSERT_TRUE((*ins)->Run().ok());
    ASSERT_TRUE((*cat)->SetMeta("next_person", "42").ok());
  }
  LiveServer s(ark);
  ASSERT_TRUE(s.server);
  auto acks = SendAndAck(
      s.mllp(), {Admit("C1", "9434765919", "RXX1", "W1", "20250101100000"), Sample("adt_a01.hl7")});
  ASSERT_EQ(acks.size(), 2u);
  ASSERT_TRUE(s.ingestor->FlushStore().ok());
  const Digest fresh = TestKey().Hmac("9990000018");
  int64_t person = -1;
  std::string next;
  for (int i = 0; i < 200 && person < 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto cat = Catalog::Open(ark);
    ASSERT_TRUE(cat.ok());
    auto q = (*cat)->Prepare("SELECT person FROM person_keys WHERE pseudonym = ?");
    ASSERT_TRUE(q.ok());
    (*q)->BindBlob(1, fresh.data(), static_cast<int>(fresh.size()));
    auto row = (*q)->Step();
    if (row.ok() && *row) person = (*q)->Int(0);
    next = (*cat)->GetMeta("next_person")->value_or("");
  }
  EXPECT_EQ(person, 42);
  EXPECT_EQ(next, "43");
  auto store = Store::Open(ark + "/store");
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->num_persons(), 43u);  // keys 41 (known) and 42 (new) got events
}

}  // namespace
}  // namespace ark::live
