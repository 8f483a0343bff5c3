// kill -9 of `ark serve` (a child process) while messages stream in: after a restart every
// acknowledged message is there (a retransmit of each is recognised as a duplicate and adds
// nothing), and the timeline store holds each record's event exactly once.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/net.h"
#include "server/serve_process.h"
#include "live/sender.h"
#include "server/test_util.h"
#include "store/store.h"

namespace ark::live {
namespace {

using namespace testing;

using Child = ServeProcess;

Child StartServe(const std::string& ark, const std::vector<std::string>& args = {}) {
  auto c = server::StartServe(ARK_BINARY, ark, ark + ".serve.log", args);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : Child{};
}

void Kill(Child& c, int sig) { StopServe(c, sig); }

uint64_t Records(uint16_t http) {
  auto r = Http(http, "GET", "/healthz");
  return nlohmann::json::parse(r.body)["records"].get<uint64_t>();
}

// Sends `msgs` pipelined on one connection; returns the control ids acknowledged AA before the
// connection died.
std::set<std::string> SendPipelined(uint16_t port, const std::vector<std::string>& msgs) {
  std::set<std::string> acked;
  int fd = ConnectLocal(port);
  if (fd < 0) return acked;
  std::thread reader([&] {
    MllpDecoder dec;
    char buf[65536];
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 3000) <= 0) break;
      const ssize_t k = recv(fd, buf, sizeof buf, 0);
      if (k <= 0) break;
      (void)dec.Feed(std::string_view(buf, static_cast<size_t>(k)), [&](std::string_view ack) {
        if (AckCode(ack) == "AA") acked.insert(AckControlId(ack));
      });
      if (acked.size() == msgs.size()) break;
    }
  });
  for (size_t i = 0; i < msgs.size(); i += 50) {
    std::string chunk;
    for (size_t j = i; j < std::min(msgs.size(), i + 50); ++j) AppendMllpFrame(msgs[j], &chunk);
    if (!SendRaw(fd, chunk)) break;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  reader.join();
  close(fd);
  return acked;
}

// Three rounds of: serve, stream messages, kill -9 mid-stream, restart, check, clean stop.
void CrashRounds(const std::string& ark, const std::vector<std::string>& args) {
  uint64_t total_acked = 0;
  std::vector<std::string> all_acked_msgs;
  for (int round = 0; round < 3; ++round) {
    Child c = StartServe(ark, args);
    ASSERT_GT(c.pid, 0);
    const uint64_t before = Records(c.http);
    EXPECT_EQ(before, total_acked) << "round " << round;
    std::vector<std::string> msgs;
    for (int i = 0; i < 3000; ++i) {
      const std::string id = "R" + std::to_string(round) + "N" + std::to_string(i);
      msgs.push_back(Admit(id, i % 2 ? "9434765919" : "9990000018",
                           "RXX" + std::to_string(1000000 + i % 50), "WARD" + std::to_string(i % 7),
                           "20250101100000"));
    }
    std::set<std::string> acked;
    std::thread sender([&] { acked = SendPipelined(c.mllp, msgs); });
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + 100 * round));
    Kill(c, SIGKILL);
    sender.join();
    EXPECT_GT(acked.size(), 0u) << "round " << round;
    total_acked += acked.size();
    for (const auto& m : msgs) {
      const std::string id =
          m.substr(m.find("ADT_A01|") + 8, m.find("|P|") - m.find("ADT_A01|") - 8);
      if (acked.count(id)) all_acked_msgs.push_back(m);
    }
    // Restart: every acknowledged message is there; unacknowledged ones may be too.
    Child r = StartServe(ark, args);
    const uint64_t records = Records(r.http);
    EXPECT_GE(records, total_acked) << "round " << round;
    // Retransmitting every acknowledged message adds nothing.
    auto acks = SendAndAck(r.mllp, std::vector<std::string>(all_acked_msgs.end() - acked.size(),
                                                            all_acked_msgs.end()));
    EXPECT_EQ(acks.size(), acked.size());
    EXPECT_EQ(Records(r.http), records)
        << "a retransmit of an acknowledged message was applied again";
    total_acked = records;  // unacknowledged-but-stored ones count from now on
    Kill(r, SIGTERM);
  }
  // Each record's admission event is in the store exactly once.
  auto store = Store::Open(ark + "/store");
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->num_events(), total_acked);
}

TEST(LiveServeCrash, KillNineLosesNoAcknowledgedMessage) { CrashRounds(TempArk("crash"), {}); }

// The same with a snapshot every 200 records: restarts load a snapshot taken mid-stream and
// replay only the records after it, and the store still gets each event exactly once.
TEST(LiveServeCrash, KillNineWithSnapshotsLosesNoAcknowledgedMessage) {
  const std::string ark = TempArk("crash_snap");
  CrashRounds(ark, {"--snapshot-records", "200"});
  auto log = ReadFile(ark + ".serve.log");
  ASSERT_TRUE(log.ok());
  // Some restart after a kill -9 started from a snapshot taken while messages streamed in.
  size_t from_snapshot = 0;
  for (size_t p = log->find("ark serve: restored "); p != std::string::npos;
       p = log->find("ark serve: restored ", p + 1)) {
    const uint64_t restored = std::stoull(log->substr(p + 20));
    const size_t r = log->find("replayed ", p);
    const uint64_t replayed = std::stoull(log->substr(r + 9));
    if (restored > 0 && replayed > 0) ++from_snapshot;
  }
  EXPECT_GT(from_snapshot, 0u) << *log;
}

}  // namespace
}  // namespace ark::live
