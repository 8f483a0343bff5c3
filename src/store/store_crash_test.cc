// Crash tests: a forked child appends, compacts or builds and reports acknowledgements through a
// pipe; the parent kills it with SIGKILL at a random moment, reopens the store and checks that
// every acknowledged event is there exactly once, that Verify passes, and that a killed build left
// the previous version readable.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <map>
#include <thread>

#include "store/store_test_util.h"

namespace ark::store {
namespace {

using testing::Data;
using testing::MakeData;
using testing::TempDir;

void WriteAck(int fd, uint64_t v) {
  // 8-byte writes to a pipe are atomic (< PIPE_BUF), so concurrent child threads do not interleave.
  ssize_t n = ::write(fd, &v, sizeof v);
  (void)n;
}

// Forks `child(fd)`, collects the 8-byte acks it writes until `kill_after` has passed (counted from
// the first ack when `after_first_ack`, so that a slow machine still kills mid-work), kills it
// with SIGKILL (if still running) and returns every ack it wrote.
std::vector<uint64_t> RunAndKill(const std::function<void(int)>& child, std::chrono::milliseconds kill_after,
                                 bool after_first_ack = false) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    child(fds[1]);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::vector<uint64_t> acks;
  std::string buf;
  auto drain = [&](int timeout_ms) {
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return true;
    char tmp[4096];
    const ssize_t n = ::read(fds[0], tmp, sizeof tmp);
    if (n <= 0) return false;  // EOF: the child is gone
    buf.append(tmp, static_cast<size_t>(n));
    return true;
  };
  bool alive = true;
  if (after_first_ack) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (alive && buf.size() < 8 && std::chrono::steady_clock::now() < give_up) alive = drain(10);
  }
  const auto deadline = std::chrono::steady_clock::now() + kill_after;
  while (alive && std::chrono::steady_clock::now() < deadline) alive = drain(1);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  char tmp[4096];
  for (ssize_t n; (n = ::read(fds[0], tmp, sizeof tmp)) > 0;) buf.append(tmp, static_cast<size_t>(n));
  ::close(fds[0]);
  for (size_t i = 0; i + 8 <= buf.size(); i += 8) {
    uint64_t v;
    std::memcpy(&v, buf.data() + i, 8);
    acks.push_back(v);
  }
  return acks;
}

// Encounter ids of every event in the store, with their multiplicity.
std::map<uint32_t, int> Encounters(const Store& s) {
  std::map<uint32_t, int> seen;
  Status st = s.ForEachPerson([&](const Person&, std::span<const Event> ev) {
    for (const Event& e : ev) {
      if (e.encounter >= 100000000u) ++seen[e.encounter];  // ids of the crash tests' appends
    }
    return Status::OK();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return seen;
}

// Child body: `threads` appenders, each appending batches of events with encounter ids
// base + t * 10^7 + 1, 2, ...; after each acknowledged batch it writes (t << 32 | last id offset).
// When compact_every > 0 the first thread also compacts after every compact_every batches.
void AppendForever(const std::string& dir, int fd, uint32_t base, int threads, int compact_every) {
  StoreOptions opts;
  opts.writer.block_events = 400;
  opts.writer.segment_events = 2000;
  auto s = Store::Open(dir, opts);
  if (!s.ok()) ::_exit(2);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::mt19937_64 rng(base + t);
      uint32_t seq = 0;
      for (int batch = 1;; ++batch) {
        std::vector<AppendEvent> events(1 + rng() % 20);
        for (AppendEvent& a : events) {
          a.person = static_cast<PersonKey>(rng() % 120);
          a.time = (testing::kFirstDay + static_cast<int64_t>(rng() % 5000)) * testing::kDay;
          a.code = "CRASH/" + std::to_string(rng() % 30);
          a.source = "stream";
          a.encounter = base + static_cast<uint32_t>(t) * 10000000u + ++seq;
        }
        if (!(*s)->Append(events).ok()) ::_exit(3);
        WriteAck(fd, (uint64_t{static_cast<uint32_t>(t)} << 32) | seq);
        if (compact_every > 0 && t == 0 && batch % compact_every == 0 && !(*s)->Compact().ok()) ::_exit(4);
      }
    });
  }
  for (auto& th : pool) th.join();
}

void CheckAcked(const std::string& dir, const std::vector<uint64_t>& acks, uint32_t base, int threads) {
  auto s = Store::Open(dir);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Status v = (*s)->Verify();
  ASSERT_TRUE(v.ok()) << v.ToString();
  std::vector<uint32_t> acked(threads, 0);
  for (uint64_t a : acks) acked[a >> 32] = std::max(acked[a >> 32], static_cast<uint32_t>(a));
  const auto seen = Encounters(**s);
  for (const auto& [id, n] : seen) ASSERT_EQ(n, 1) << "encounter " << id << " duplicated";
  for (int t = 0; t < threads; ++t) {
    for (uint32_t i = 1; i <= acked[t]; ++i) {
      ASSERT_TRUE(seen.count(base + static_cast<uint32_t>(t) * 10000000u + i)) << "acked event lost: thread " << t << " #" << i;
    }
  }
}

TEST(StoreCrash, KillDuringAppend) {
  const std::string dir = TempDir("crash_append");
  ASSERT_TRUE(testing::WriteData(dir, MakeData(100, 20, 50, 31)).ok());
  std::mt19937 rng(std::random_device{}());
  for (uint32_t round = 1; round <= 3; ++round) {
    const uint32_t base = round * 100000000u;
    const auto acks = RunAndKill([&](int fd) { AppendForever(dir, fd, base, 3, 0); },
                                 std::chrono::milliseconds(rng() % 200), /*after_first_ack=*/true);
    EXPECT_FALSE(acks.empty());
    CheckAcked(dir, acks, base, 3);
  }
  (void)RemoveAll(dir);
}

TEST(StoreCrash, KillDuringCompaction) {
  const std::string dir = TempDir("crash_compact");
  ASSERT_TRUE(testing::WriteData(dir, MakeData(100, 30, 50, 32)).ok());
  std::mt19937 rng(std::random_device{}());
  for (uint32_t round = 1; round <= 4; ++round) {
    const uint32_t base = round * 100000000u;
    const auto acks = RunAndKill([&](int fd) { AppendForever(dir, fd, base, 2, 5); },
                                 std::chrono::milliseconds(rng() % 300), /*after_first_ack=*/true);
    CheckAcked(dir, acks, base, 2);
  }
  (void)RemoveAll(dir);
}

uint64_t Digest(const Store& s) {
  uint64_t h = s.num_events() * 1000003u + s.num_persons();
  Status st = s.ForEachPerson([&](const Person& p, std::span<const Event> ev) {
    for (const Event& e : ev) h = h * 31 + static_cast<uint64_t>(e.time) + e.code * 7 + p.key;
    return Status::OK();
  });
  EXPECT_TRUE(st.ok());
  return h;
}

TEST(StoreCrash, KillDuringBuildKeepsPreviousVersion) {
  const std::string dir = TempDir("crash_build");
  const Data data[2] = {MakeData(300, 30, 100, 33), MakeData(4000, 60, 500, 34)};
  uint64_t digests[2];
  for (int i = 0; i < 2; ++i) {
    const std::string tmp = TempDir("crash_build_digest");
    ASSERT_TRUE(testing::WriteData(tmp, data[i]).ok());
    digests[i] = Digest(**Store::Open(tmp));
    (void)RemoveAll(tmp);
  }
  ASSERT_TRUE(testing::WriteData(dir, data[0]).ok());
  uint64_t current = digests[0];
  std::mt19937 rng(std::random_device{}());
  for (int round = 0; round < 4; ++round) {
    const int target = (round % 2 == 0) ? 1 : 0;  // alternate so that every round changes the data
    WriterOptions small;
    small.block_events = 1000;
    small.segment_events = 20000;
    const auto acks = RunAndKill(
        [&](int fd) {
          if (!testing::WriteData(dir, data[target], small).ok()) ::_exit(2);
          WriteAck(fd, 1);
        },
        std::chrono::milliseconds(rng() % 400));
    auto s = Store::Open(dir);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    Status v = (*s)->Verify();
    ASSERT_TRUE(v.ok()) << v.ToString();
    const uint64_t digest = Digest(**s);
    if (!acks.empty()) {
      EXPECT_EQ(digest, digests[target]) << "a finished build must be current";
    } else {
      EXPECT_TRUE(digest == current || digest == digests[target]) << "neither the old nor the new version";
    }
    current = digest;
  }
  (void)RemoveAll(dir);
}

}  // namespace
}  // namespace ark::store
