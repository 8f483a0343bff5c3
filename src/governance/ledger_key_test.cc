// The ledger's signing key lives outside the Ark (ledger_key.h). Also: every test process keeps
// ledger keys in a temporary config directory of its own, never in the real $HOME.
#include "governance/ledger_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>

#include "core/fs.h"
#include "governance/ledger.h"

namespace ark::gov {
namespace {

namespace fs = std::filesystem;

// Before any test runs: XDG_CONFIG_HOME points into a fresh temporary directory (removed at exit
// by the process that made it) and ARK_LEDGER_KEY is unset, for this binary and the `ark`
// processes its tests start.
const bool kPrivateConfig = [] {
  char tmpl[] = "/tmp/ark_tests_config_XXXXXX";
  if (!::mkdtemp(tmpl)) std::abort();
  static std::string dir = tmpl;
  static pid_t owner = ::getpid();
  ::setenv("XDG_CONFIG_HOME", dir.c_str(), 1);
  ::unsetenv("ARK_LEDGER_KEY");
  std::atexit([] {
    std::error_code ec;
    if (::getpid() == owner) fs::remove_all(dir, ec);
  });
  return true;
}();

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* v = std::getenv(name)) old_ = v;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

class LedgerKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (fs::temp_directory_path() / ("ark_ledger_key_test_" + std::to_string(::getpid()) + "_" +
                                          ::testing::UnitTest::GetInstance()->current_test_info()->name())).string();
    fs::remove_all(root_);
    fs::create_directories(root_ + "/config");
    ark_ = root_ + "/ark";
    config_ = std::make_unique<ScopedEnv>("XDG_CONFIG_HOME", root_ + "/config");
  }
  void TearDown() override {
    config_.reset();
    fs::remove_all(root_);
  }
  std::string Origin() {
    auto v = NoteVerifier::Parse(*ReadFile(ark_ + "/ledger/ledger.pub"));
    return v.ok() ? v->name() : "";
  }
  std::string DefaultKey() { return root_ + "/config/ark/keys/" + Origin().substr(Origin().rfind('/') + 1) + ".key"; }
  std::string root_, ark_;
  std::unique_ptr<ScopedEnv> config_;
};

TEST_F(LedgerKeyTest, TestsNeverWriteKeysIntoTheRealHome) {
  EXPECT_TRUE(kPrivateConfig);
  const char* home = std::getenv("HOME");
  ASSERT_NE(std::getenv("XDG_CONFIG_HOME"), nullptr);
  if (home) {
    EXPECT_NE(std::string(std::getenv("XDG_CONFIG_HOME")).rfind(home, 0), 0u);
  }
}

// On the old code the key was written to ARK/ledger/ledger.key.
TEST_F(LedgerKeyTest, KeyIsCreatedOutsideTheArkOwnerOnly) {
  {
    auto l = Ledger::Open(ark_);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ASSERT_TRUE((*l)->Append(Json{{"type", "governance.enforced"}, {"by", "admin"}}).ok());
  }
  EXPECT_FALSE(PathExists(ark_ + "/ledger/ledger.key"));
  for (const auto& e : fs::recursive_directory_iterator(ark_)) {
    auto text = ReadFile(e.path().string());
    if (e.is_regular_file() && text.ok()) {
      EXPECT_EQ(text->find("ark-ledger-key"), std::string::npos) << e.path();
    }
  }
  ASSERT_TRUE(PathExists(DefaultKey())) << DefaultKey();
  struct stat st;
  ASSERT_EQ(::stat(DefaultKey().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto l = Ledger::Open(ark_);  // reopens with the key from outside
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_TRUE((*l)->Append(Json{{"type", "token.issued"}, {"user", "a"}}).ok());
}

TEST_F(LedgerKeyTest, KeyPathInsideTheArkIsRefused) {
  ScopedEnv key("ARK_LEDGER_KEY", ark_ + "/ledger/my.key");
  auto l = Ledger::Open(ark_);
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.status().message().find("inside the Ark"), std::string::npos) << l.status().ToString();
  ScopedEnv key2("ARK_LEDGER_KEY", ark_ + "/../ark/keys/");  // the same, spelt another way
  EXPECT_FALSE(Ledger::Open(ark_).ok());
}

TEST_F(LedgerKeyTest, KeyPathFromTheOperatorFileOrDirectory) {
  {
    ScopedEnv key("ARK_LEDGER_KEY", root_ + "/vault/ark1.key");
    auto l = Ledger::Open(ark_);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
  }
  EXPECT_TRUE(PathExists(root_ + "/vault/ark1.key"));
  EXPECT_FALSE(PathExists(DefaultKey()));
  auto without = Ledger::Open(ark_);  // the default path does not hold it: a clear error naming where it looked
  ASSERT_FALSE(without.ok());
  EXPECT_NE(without.status().message().find("signing key is not at " + DefaultKey()), std::string::npos) << without.status().ToString();
  // A directory: the key is <dir>/<ledger id>.key.
  const std::string other = root_ + "/ark2";
  ScopedEnv dir("ARK_LEDGER_KEY", root_ + "/vault/");
  auto l2 = Ledger::Open(other);
  ASSERT_TRUE(l2.ok()) << l2.status().ToString();
  auto v = NoteVerifier::Parse((*l2)->verifier_key());
  EXPECT_TRUE(PathExists(root_ + "/vault/" + v->name().substr(v->name().rfind('/') + 1) + ".key"));
  // Another ledger's key file is refused.
  ScopedEnv wrong("ARK_LEDGER_KEY", root_ + "/vault/ark1.key");
  l2->reset();
  auto mixed = Ledger::Open(other);
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.status().message().find("not of this Ark's ledger"), std::string::npos) << mixed.status().ToString();
}

// An Ark made before keys lived outside it: the first write moves ARK/ledger/ledger.key out.
TEST_F(LedgerKeyTest, OldArkKeyIsMovedOutOnFirstWrite) {
  {
    auto l = Ledger::Open(ark_);
    ASSERT_TRUE(l.ok());
    ASSERT_TRUE((*l)->Append(Json{{"type", "governance.enforced"}, {"by", "admin"}}).ok());
  }
  const std::string key = *ReadFile(DefaultKey());
  fs::rename(DefaultKey(), ark_ + "/ledger/ledger.key");  // where the old code kept it
  testing::internal::CaptureStderr();
  {
    auto l = Ledger::Open(ark_);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    EXPECT_TRUE((*l)->Append(Json{{"type", "token.issued"}, {"user", "a"}}).ok());
  }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("moved the ledger's signing key out of the Ark"), std::string::npos) << err;
  EXPECT_FALSE(PathExists(ark_ + "/ledger/ledger.key"));
  EXPECT_EQ(*ReadFile(DefaultKey()), key);
  EXPECT_TRUE(VerifyLedger(ark_ + "/ledger").ok());
}

TEST_F(LedgerKeyTest, AFreshLedgerDoesNotTakeAnExistingKeyFile) {
  ASSERT_TRUE(Ledger::Open(ark_).ok());
  ScopedEnv key("ARK_LEDGER_KEY", DefaultKey());
  auto l = Ledger::Open(root_ + "/ark2");
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.status().message().find("already holds a signing key"), std::string::npos) << l.status().ToString();
}

}  // namespace
}  // namespace ark::gov
