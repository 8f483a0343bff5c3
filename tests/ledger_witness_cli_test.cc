// The ledger's witnesses through the `ark` binary (docs/ledger-format.md "Witnesses"): a regulator's
// one-shot witness run as a command by `ark ledger cosign`, its latest cosigned checkpoint given to
// `ark ledger verify --witness`, and a rollback of the Ark's ledger caught by it. The signing key
// lives under the test process's own XDG_CONFIG_HOME (src/governance/ledger_key_test.cc).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/fs.h"
#include "core/process.h"
#include "governance/ledger.h"

namespace {

namespace fs = std::filesystem;

int Sh(const std::string& cmd, std::string* out) {
  ark::CommandOutput r = ark::RunCommand(cmd + " 2>&1");
  *out = r.output;
  return r.exit_code;
}

class LedgerWitnessCli : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (fs::temp_directory_path() / ("ark_witness_cli_" + std::to_string(::getpid()))).string();
    fs::remove_all(root_);
    fs::create_directories(root_);
    ark_ = root_ + "/ark";
  }
  void TearDown() override { fs::remove_all(root_); }
  void Append(int n) {
    auto l = ark::gov::Ledger::Open(ark_);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    for (int i = 0; i < n; ++i) ASSERT_TRUE((*l)->Append(ark::gov::Json{{"type", "refusal"}, {"by", "x"}, {"reason", "r"}}).ok());
  }
  std::string Ark() const { return ARK_BINARY; }
  std::string Witness() const { return Ark() + " ledger witness --key " + root_ + "/w.key --state " + root_ + "/state"; }
  std::string root_, ark_;
};

TEST_F(LedgerWitnessCli, CosignVerifyAndCatchARollback) {
  std::string out;
  Append(6);
  ASSERT_EQ(Sh(Ark() + " ledger witness keygen --name regulator.example/w --out " + root_ + "/w.key", &out), 0) << out;
  const std::string vkey = out.substr(0, out.find('\n'));
  ASSERT_EQ(vkey.rfind("regulator.example/w+", 0), 0u) << out;
  const std::string pub = ark_ + "/ledger/ledger.pub";
  // The witness trusts the Ark's verifier key; the Ark runs it as a command.
  const std::string cosign = Ark() + " ledger cosign " + ark_ + " --witness-key '" + vkey + "' --witness '" + Witness() +
                             " --log-key " + pub + "'";
  ASSERT_EQ(Sh(cosign, &out), 0) << out;
  EXPECT_NE(out.find("checkpoint of size 6 cosigned"), std::string::npos) << out;
  fs::copy(ark_ + "/ledger", root_ + "/snapshot", fs::copy_options::recursive);
  Append(4);
  ASSERT_EQ(Sh(cosign, &out), 0) << out;  // 6 -> 10, with a consistency proof
  EXPECT_NE(out.find("checkpoint of size 10 cosigned"), std::string::npos) << out;

  // One-shot with files: a checkpoint and `ark ledger prove --from` (the witness is at 10).
  Append(2);
  ASSERT_EQ(Sh(Ark() + " ledger checkpoint " + ark_ + " --out " + root_ + "/cp >/dev/null", &out), 0) << out;
  ASSERT_EQ(Sh(Ark() + " ledger prove " + ark_ + " --from 10 > " + root_ + "/p.json", &out), 0) << out;
  ASSERT_EQ(Sh(Witness() + " " + root_ + "/cp " + root_ + "/p.json", &out), 0) << out;
  EXPECT_EQ(out.rfind("\xE2\x80\x94 regulator.example/w ", 0), 0u) << out;
  EXPECT_EQ(Sh("(" + Witness() + " " + root_ + "/cp " + root_ + "/p.json 2>/dev/null)", &out), 4) << out;  // now at 12
  EXPECT_EQ(out, "12\n");

  ASSERT_EQ(Sh(Ark() + " ledger witness latest --state " + root_ + "/state --log-key " + pub + " > " + root_ + "/latest", &out), 0);
  const std::string verify = Ark() + " ledger verify " + ark_ + " --witness '" + vkey + "' --cosigned " + root_ + "/latest";
  ASSERT_EQ(Sh(verify, &out), 0) << out;
  EXPECT_NE(out.find("witness regulator.example/w cosigned up to size 12"), std::string::npos) << out;

  // The operator rolls the ledger back to the snapshot at 6: it verifies alone, not with the witness.
  fs::remove_all(ark_ + "/ledger");
  fs::copy(root_ + "/snapshot", ark_ + "/ledger", fs::copy_options::recursive);
  EXPECT_EQ(Sh(Ark() + " ledger verify " + ark_, &out), 0) << out;
  EXPECT_EQ(Sh(verify, &out), 1) << out;
  EXPECT_NE(out.find("rolled back"), std::string::npos) << out;
  // Nor will the witness cosign the rolled-back ledger.
  EXPECT_NE(Sh(cosign, &out), 0) << out;
}

TEST_F(LedgerWitnessCli, LedgerKeyInsideTheArkIsRefused) {
  std::string out;
  EXPECT_EQ(Sh(Ark() + " ledger checkpoint " + ark_ + " --ledger-key " + ark_ + "/ledger/ledger.key", &out), 1) << out;
  EXPECT_NE(out.find("inside the Ark"), std::string::npos) << out;
  EXPECT_EQ(Sh(Ark() + " --ledger-key " + root_ + "/keys/a.key ledger checkpoint " + ark_, &out), 0) << out;
  EXPECT_TRUE(fs::exists(root_ + "/keys/a.key"));
  EXPECT_FALSE(fs::exists(ark_ + "/ledger/ledger.key"));
}

}  // namespace
