#include "governance/ledger.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "core/fs.h"
#include "governance/encoding.h"

namespace ark::gov {
namespace {

namespace fs = std::filesystem;

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / ("ark_ledger_test_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name())).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto l = Ledger::Open(dir_);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    std::vector<Json> batch;
    for (int i = 0; i < 10; ++i) batch.push_back(Json{{"type", "run.executed"}, {"project", "P" + std::to_string(i)}});
    ASSERT_TRUE((*l)->Append(batch).ok());
    ASSERT_TRUE((*l)->Append(Json{{"type", "output.released"}}).ok());
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Entries() { return *ReadFile(dir_ + "/ledger/entries.jsonl"); }
  void SetEntries(const std::string& s) { ASSERT_TRUE(WriteFileAtomic(dir_ + "/ledger/entries.jsonl", s).ok()); }
  std::vector<std::string> Lines() {
    std::vector<std::string> out;
    std::string s = Entries();
    size_t p = 0;
    while (p < s.size()) {
      size_t e = s.find('\n', p);
      out.push_back(s.substr(p, e - p + 1));
      p = e + 1;
    }
    return out;
  }
  std::string Join(const std::vector<std::string>& v) {
    std::string s;
    for (auto& x : v) s += x;
    return s;
  }
  std::string dir_;
};

TEST_F(LedgerTest, FreshLedgerVerifiesAndReopensAppendingMore) {
  auto rep = VerifyLedger(dir_ + "/ledger");
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  EXPECT_EQ(rep->entries, 11u);
  EXPECT_EQ(rep->checkpoint.size, 11u);
  auto l = Ledger::Open(dir_);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ((*l)->size(), 11u);
  ASSERT_TRUE((*l)->Append(Json{{"type", "x"}}).ok());
  l->reset();
  EXPECT_TRUE(VerifyLedger(dir_ + "/ledger").ok());
}

TEST_F(LedgerTest, EditedEntryIsDetected) {
  std::string s = Entries();
  size_t p = s.find("P3");
  s[p + 1] = '4';  // a one-byte edit
  SetEntries(s);
  auto rep = VerifyLedger(dir_ + "/ledger");
  ASSERT_FALSE(rep.ok());
  EXPECT_NE(rep.status().message().find("altered"), std::string::npos) << rep.status().message();
  EXPECT_FALSE(Ledger::Open(dir_).ok());  // and nobody appends on top of it
}

TEST_F(LedgerTest, DeletedEntryIsDetected) {
  auto v = Lines();
  v.erase(v.begin() + 4);
  SetEntries(Join(v));
  auto rep = VerifyLedger(dir_ + "/ledger");
  ASSERT_FALSE(rep.ok());
  EXPECT_NE(rep.status().message().find("removed"), std::string::npos) << rep.status().message();
  v = Lines();
  v.pop_back();  // the last entry removed: count below the checkpoint
  SetEntries(Join(v));
  EXPECT_FALSE(VerifyLedger(dir_ + "/ledger").ok());
}

TEST_F(LedgerTest, ReorderedEntriesAreDetected) {
  auto v = Lines();
  std::swap(v[2], v[3]);
  SetEntries(Join(v));
  auto rep = VerifyLedger(dir_ + "/ledger");
  ASSERT_FALSE(rep.ok());
  EXPECT_NE(rep.status().message().find("reordered"), std::string::npos) << rep.status().message();
}

TEST_F(LedgerTest, EntryAppendedBehindItsBackIsDetected) {
  SetEntries(Entries() + "{\"seq\":11,\"time\":\"2026-01-01T00:00:00Z\",\"type\":\"forged\"}\n");
  auto rep = VerifyLedger(dir_ + "/ledger");
  ASSERT_FALSE(rep.ok());
  EXPECT_NE(rep.status().message().find("appended behind"), std::string::npos) << rep.status().message();
}

TEST_F(LedgerTest, ForgedCheckpointSignatureIsDetected) {
  const std::string log_path = dir_ + "/ledger/checkpoints.log";
  const std::string log = *ReadFile(log_path);
  // Change the latest checkpoint's signed size (a forger claiming a shorter log), keeping the
  // old signature: the same length, so the record still parses.
  size_t last = log.rfind("note ");
  size_t body = log.find('\n', last) + 1;
  size_t size_line = log.find('\n', body) + 1;
  ASSERT_EQ(log.substr(size_line, 3), "11\n");
  std::string forged = log;
  forged[size_line + 1] = '0';
  ASSERT_TRUE(WriteFileAtomic(log_path, forged).ok());
  auto rep = VerifyLedger(dir_ + "/ledger");
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(rep.status().code(), StatusCode::kPermissionDenied) << rep.status().ToString();
  // A checkpoint signed by another key (the attacker's) does not verify with the published key.
  ASSERT_TRUE(WriteFileAtomic(log_path, log).ok());
  ASSERT_TRUE(VerifyLedger(dir_ + "/ledger").ok());
  auto other = NoteSigner::Generate("ark.ledger/attacker");
  std::string pub = *ReadFile(dir_ + "/ledger/ledger.pub");
  std::string cp = log.substr(body);
  auto note = other->SignNote(cp.substr(0, cp.find("\n\n") + 1));
  ASSERT_TRUE(WriteFileAtomic(log_path, log + "note " + std::to_string(note->size()) + "\n" + *note).ok());
  EXPECT_FALSE(VerifyLedger(dir_ + "/ledger", pub).ok());
}

TEST_F(LedgerTest, ExportedBundleVerifiesAndExtendsAnEarlierCheckpoint) {
  std::string earlier = *ReadFile(dir_ + "/ledger/checkpoint");
  {
    auto l = Ledger::Open(dir_);
    ASSERT_TRUE((*l)->Append(Json{{"type", "later"}}).ok());
  }
  ASSERT_TRUE(ExportLedger(dir_, dir_ + "/bundle").ok());
  EXPECT_FALSE(PathExists(dir_ + "/bundle/ledger.key"));
  std::string pub = *ReadFile(dir_ + "/ledger/ledger.pub");
  auto rep = VerifyLedger(dir_ + "/bundle", pub, earlier);
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  EXPECT_EQ(rep->entries, 12u);
}


// A crash inside Append (forked child exits at the hook): the next Open repairs the ledger.
class LedgerCrashTest : public LedgerTest, public ::testing::WithParamInterface<std::pair<const char*, uint64_t>> {};

TEST_P(LedgerCrashTest, InterruptedBatchIsRepairedOnOpen) {
  const auto [point, want] = GetParam();
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setenv("ARK_LEDGER_TEST_CRASH", point, 1);
    auto l = Ledger::Open(dir_);
    if (l.ok()) (void)(*l)->Append(std::vector<Json>(5, Json{{"type", "run.executed"}}));
    ::_exit(0);  // not reached when the hook fires
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 9) << "the crash hook did not fire";
  auto l = Ledger::Open(dir_);
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ((*l)->size(), want);
  ASSERT_TRUE((*l)->Append(Json{{"type", "after.crash"}}).ok());
  auto rep = VerifyLedger(dir_ + "/ledger");
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  EXPECT_EQ(rep->entries, want + 1);
  EXPECT_FALSE(fs::exists(dir_ + "/ledger/pending"));
}

INSTANTIATE_TEST_SUITE_P(Points, LedgerCrashTest,
                         ::testing::Values(std::make_pair("after-pending", uint64_t{11}),   // nothing written: rolled back
                                           std::make_pair("torn-entries", uint64_t{11}),    // half a batch: rolled back
                                           std::make_pair("after-entries", uint64_t{16})));  // whole batch: rolled forward

TEST_F(LedgerTest, EntriesBeyondCheckpointWithoutIntentStillRefused) {
  SetEntries(Entries() + "{\"seq\":11,\"type\":\"sneaky\"}\n");
  EXPECT_FALSE(Ledger::Open(dir_).ok());
}

// A tree size that does not fit 64 bits is refused as bad input (it threw out_of_range before).
TEST(CheckpointBody, TreeSizeBeyond64BitsIsRefused) {
  const std::string root = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  EXPECT_TRUE(Checkpoint::ParseBody("ark\n18446744073709551615\n" + root + "\n").ok());
  auto r = Checkpoint::ParseBody("ark\n99999999999999999999\n" + root + "\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("out of range"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace ark::gov
