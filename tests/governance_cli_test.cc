// Governance through the `ark` binary, as its users drive it (docs/governance.md): a study run in
// an approved project by one of its people, refusals for everyone else, enforcement, output
// checking and the ledger. Named GovernanceEndToEnd so the sanitizer run leaves it out.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "core/process.h"

namespace {

namespace fs = std::filesystem;

int Sh(const std::string& cmd, std::string* out) {
  ark::CommandOutput r = ark::RunCommand(cmd + " 2>&1");
  *out = r.output;
  return r.exit_code;
}

std::string Slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class GovernanceEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("ark_gov_cli_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    std::string out;
    ASSERT_EQ(Sh(Ark() + " demo --people 400 --years 3 --out " + (root_ / "d").string(), &out), 0) << out;
    ark_ = (root_ / "d" / "ark").string();
    std::istringstream tokens(Slurp(root_ / "d" / "governance" / "tokens.env"));
    for (std::string line; std::getline(tokens, line);) {
      const size_t eq = line.find('=');
      if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
      token_[line.substr(0, eq)] = line.substr(eq + 1);
    }
    ASSERT_EQ(token_.size(), 4u);
    def_ = std::string(ARK_SOURCE_DIR) + "/definitions/diabetes_register.yaml";
  }
  void TearDown() override { fs::remove_all(root_); }
  static std::string Ark() { return ARK_BINARY; }
  // Runs `ark ARGS` as `user` (their token in ARK_TOKEN).
  int As(const std::string& user, const std::string& who, const std::string& args, std::string* out) {
    return Sh("ARK_TOKEN=" + token_[user] + " " + Ark() + " " + args + " --as " + who, out);
  }
  std::string Refusals() { return Slurp(fs::path(ark_) / "ledger" / "refusals.log"); }

  fs::path root_;
  std::string ark_, def_;
  std::map<std::string, std::string> token_;
};

TEST_F(GovernanceEndToEnd, RunInProjectReleaseAndRefusals) {
  std::string out;
  // The project's analyst runs a study definition in it: recorded, with a run id.
  ASSERT_EQ(As("ANA", "ana", "run " + ark_ + " " + def_ + " --out " + (root_ / "r1").string() + " --project demo-planning", &out), 0) << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("run (\\d+) recorded in project demo-planning"))) << out;
  const std::string run = m[1];
  EXPECT_TRUE(fs::exists(root_ / "r1" / "manifest.json"));
  EXPECT_NE(Slurp(fs::path(ark_) / "ledger" / "entries.jsonl").find("\"run.executed\""), std::string::npos);

  // An analyst who is not one of the project's people; a wrong token; a purpose the project was
  // not approved for: refused, nothing written.
  EXPECT_NE(As("OLU", "olu", "run " + ark_ + " " + def_ + " --out " + (root_ / "r2").string() + " --project demo-planning", &out), 0);
  EXPECT_FALSE(fs::exists(root_ / "r2"));
  EXPECT_NE(Refusals().find("olu"), std::string::npos);
  EXPECT_NE(As("OLU", "ana", "run " + ark_ + " " + def_ + " --out " + (root_ / "r3").string() + " --project demo-planning", &out), 0);
  EXPECT_NE(As("ANA", "ana", "run " + ark_ + " " + def_ + " --out " + (root_ / "r4").string() +
                                 " --project demo-planning --purpose research", &out), 0);
  EXPECT_NE(out.find("differs from project"), std::string::npos) << out;

  // Workspace runs are allowed (and ledgered) until an admin enforces governance.
  ASSERT_EQ(Sh(Ark() + " run " + ark_ + " " + def_ + " --out " + (root_ / "w1").string(), &out), 0) << out;
  EXPECT_NE(Slurp(fs::path(ark_) / "ledger" / "entries.jsonl").find("\"workspace_run\":true"), std::string::npos);
  EXPECT_NE(As("ANA", "ana", "enforce " + ark_, &out), 0);  // not an admin
  ASSERT_EQ(As("ADMIN", "admin", "enforce " + ark_, &out), 0) << out;
  EXPECT_NE(Sh(Ark() + " run " + ark_ + " " + def_ + " --out " + (root_ / "w2").string(), &out), 0);
  EXPECT_NE(out.find("enforces governance"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(root_ / "w2"));

  // Output checking: the author submits, cannot approve; the checker approves; only then released.
  std::ofstream(root_ / "table.csv") << "group,count\na,3\nb,80\nc,160\n";
  ASSERT_EQ(As("ANA", "ana", "release submit " + ark_ + " " + (root_ / "table.csv").string() + " --project demo-planning --run " + run, &out), 0) << out;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("\"id\": (\\d+)"))) << out;
  const std::string output = m[1];
  EXPECT_NE(As("ANA", "ana", "release approve " + ark_ + " " + output + " --reason mine", &out), 0);
  ASSERT_EQ(As("CHRIS", "chris", "release approve " + ark_ + " " + output + " --reason 'small cells redacted'", &out), 0) << out;
  bool released = false;
  for (auto& e : fs::directory_iterator(fs::path(ark_) / "releases" / "demo-planning")) {
    if (e.path().filename().string().find("table.csv") == std::string::npos) continue;
    released = true;
    EXPECT_EQ(Slurp(e.path()), "label,count\na,[REDACTED]\nb,80\nc,160\nTotal,240\n");
  }
  EXPECT_TRUE(released);

  // The ledger verifies, and a one-byte edit is caught.
  ASSERT_EQ(Sh(Ark() + " ledger verify " + ark_, &out), 0) << out;
  std::string entries = Slurp(fs::path(ark_) / "ledger" / "entries.jsonl");
  const size_t at = entries.find("demo-planning");
  ASSERT_NE(at, std::string::npos);
  entries[at] = 'D';
  std::ofstream(fs::path(ark_) / "ledger" / "entries.jsonl", std::ios::trunc) << entries;
  EXPECT_NE(Sh(Ark() + " ledger verify " + ark_, &out), 0);
}

}  // namespace

namespace {

// An Ark with no data but with users and an approved planning project: the refusals that happen
// before any data is read.
class GovernanceCli : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("ark_gov_cli_small_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    ark_ = (root_ / "ark").string();
    std::string out;
    ASSERT_EQ(Sh(Ark() + " init " + ark_, &out), 0) << out;
    ASSERT_EQ(Sh(Ark() + " user add " + ark_ + " admin --roles admin", &out), 0) << out;
    token_["admin"] = Trim(out);
    ASSERT_EQ(As("admin", "user add " + ark_ + " ana --roles analyst", &out), 0) << out;
    token_["ana"] = Trim(out);
    ASSERT_EQ(As("ana", "project create " + ark_ + " plan --title t --purpose planning --legal-basis b --datasets gp "
                        "--people ana --start 2020-01-01 --end 2099-12-31", &out), 0) << out;
    ASSERT_EQ(As("admin", "project approve " + ark_ + " plan", &out), 0) << out;
    def_ = std::string(ARK_SOURCE_DIR) + "/definitions/diabetes_register.yaml";
  }
  void TearDown() override { fs::remove_all(root_); }
  static std::string Ark() { return std::string("env -u ARK_TOKEN ") + ARK_BINARY; }
  static std::string Trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  }
  int As(const std::string& user, const std::string& args, std::string* out) {
    return Sh("ARK_TOKEN=" + token_[user] + " " + std::string(ARK_BINARY) + " " + args + " --as " + user, out);
  }
  std::string Refusals() { return Slurp(fs::path(ark_) / "ledger" / "refusals.log"); }

  fs::path root_;
  std::string ark_, def_;
  std::map<std::string, std::string> token_;
};

TEST_F(GovernanceCli, WrongPurposeIsRefusedAndLogged) {
  std::string out;
  EXPECT_NE(As("ana", "run " + ark_ + " " + def_ + " --out " + (root_ / "r").string() + " --project plan --purpose research", &out), 0);
  EXPECT_NE(out.find("differs from project"), std::string::npos) << out;
  const std::string log = Refusals();
  EXPECT_NE(log.find("ana\tpermission denied: --purpose research differs from project 'plan'"), std::string::npos) << log;
}

TEST_F(GovernanceCli, RequestWithNoTokenOrNoIdentityIsRefusedAndLogged) {
  std::string out;
  EXPECT_NE(Sh(Ark() + " run " + ark_ + " " + def_ + " --out " + (root_ / "r").string() + " --project plan --as ana", &out), 0);
  EXPECT_NE(out.find("no token for 'ana'"), std::string::npos) << out;
  EXPECT_NE(Refusals().find("ana\tpermission denied: no token for 'ana'"), std::string::npos) << Refusals();
  EXPECT_NE(Sh(Ark() + " run " + ark_ + " " + def_ + " --out " + (root_ / "r").string() + " --project plan", &out), 0);
  EXPECT_NE(Refusals().find("-\tpermission denied: say who acts"), std::string::npos) << Refusals();
  EXPECT_FALSE(fs::exists(root_ / "r"));
}

TEST_F(GovernanceCli, ImpossibleDateIsRefusedWithAClearError) {
  std::string out;
  EXPECT_NE(As("ana", "project create " + ark_ + " bad --title t --purpose planning --legal-basis b --datasets gp "
                      "--people ana --start 2026-01-01 --end 2026-02-30", &out), 0);
  EXPECT_NE(out.find("end '2026-02-30' is not a date: month 2026-02 has no day 30"), std::string::npos) << out;
  EXPECT_NE(As("ana", "project create " + ark_ + " bad --title t --purpose planning --legal-basis b --datasets gp "
                      "--people ana --start 2026-13-01 --end 2026-12-31", &out), 0);
  EXPECT_NE(out.find("start '2026-13-01' is not a date: there is no month 13"), std::string::npos) << out;
}

}  // namespace
