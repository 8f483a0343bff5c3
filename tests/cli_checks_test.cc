// The `ark` commands refuse what they cannot do honestly, with a non-zero exit a script can act
// on: verify on a missing Ark, scan with an empty window, sdc check's status as its exit code,
// synth over an earlier output; and `link --mode pprl --json` counts NHS numbers as deterministic
// mode does.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/process.h"

namespace {

namespace fs = std::filesystem;

struct ArkRun {
  int rc;
  std::string out;  // stdout and stderr
};

ArkRun Ark(const std::string& args) {
  ark::CommandOutput r = ark::RunCommand(std::string(ARK_BINARY) + " " + args + " 2>&1");
  return {r.exit_code, r.output};
}

// stdout only (stderr discarded), e.g. for --json.
ArkRun ArkStdout(const std::string& args) {
  ark::CommandOutput r = ark::RunCommand(std::string(ARK_BINARY) + " " + args + " 2>/dev/null");
  return {r.exit_code, r.output};
}

class CliChecks : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("ark_cli_checks_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string P(const std::string& rel) const { return (root_ / rel).string(); }
  void Write(const std::string& rel, const std::string& text) const { std::ofstream(root_ / rel) << text; }
  fs::path root_;
};

TEST_F(CliChecks, VerifyRefusesAMissingArkOrOneWithoutAStore) {
  ArkRun r = Ark("verify " + P("no-such-ark"));
  EXPECT_NE(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("no-such-ark: no such directory"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("ok:"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(P("no-such-ark")));  // and nothing was created there
  ASSERT_EQ(Ark("init " + P("ark")).rc, 0);
  r = Ark("verify " + P("ark"));
  EXPECT_NE(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("has no timeline store"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("run 'ark build"), std::string::npos) << r.out;
  r = Ark("scan " + P("no-such-ark") + " --codes X/1 --from 2020-01-01 --to 2021-01-01");
  EXPECT_NE(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("no such directory"), std::string::npos) << r.out;
}

TEST_F(CliChecks, ScanRefusesToBeforeFrom) {
  ASSERT_EQ(Ark("init " + P("ark")).rc, 0);
  ArkRun r = Ark("scan " + P("ark") + " --codes X/1 --from 2025-01-01 --to 2020-01-01");
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("--to 2020-01-01 is not after --from 2025-01-01"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("events/s"), std::string::npos) << r.out;
  r = Ark("scan " + P("ark") + " --codes X/1 --from 2025-01-01 --to 2025-01-01");
  EXPECT_EQ(r.rc, 1) << r.out;
}

TEST_F(CliChecks, SdcCheckExitCodeCarriesTheStatus) {
  Write("pass.csv", "group,count\na,50\nb,40\n");
  Write("review.csv", "group,c1,c2,c3\nr1,5,40,50\nr2,30,35,60\nr3,45,0,70\n");
  ArkRun r = Ark("sdc check " + P("pass.csv") + " --rules acro");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find(": pass"), std::string::npos) << r.out;
  r = Ark("sdc check " + P("review.csv") + " --rules acro");
  EXPECT_EQ(r.rc, 3) << r.out;
  EXPECT_NE(r.out.find(": review"), std::string::npos) << r.out;
  r = ArkStdout("sdc check " + P("review.csv") + " --rules acro --json");
  EXPECT_EQ(r.rc, 3) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["status"], "review");
  r = Ark("sdc check " + P("pass.csv") + " --rules acro --residual-dof 5");
  EXPECT_EQ(r.rc, 4) << r.out;
  EXPECT_NE(r.out.find(": fail"), std::string::npos) << r.out;
  r = Ark("sdc check " + P("no-such.csv"));
  EXPECT_EQ(r.rc, 1) << r.out;
  r = Ark("sdc check " + P("pass.csv") + " --rules nosuch");
  EXPECT_EQ(r.rc, 2) << r.out;
}

TEST_F(CliChecks, SynthRefusesANonEmptyOutUnlessForced) {
  const std::string synth = "synth --people 200 --years 1 --seed 5 --quiet --out " + P("region");
  fs::create_directories(root_ / "region");  // an empty directory is fine
  ASSERT_EQ(Ark(synth).rc, 0);
  const auto manifest_time = [&] { return fs::last_write_time(root_ / "region/manifest.json"); };
  const auto before = manifest_time();
  ArkRun r = Ark(synth);
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("region exists and is not empty"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--force"), std::string::npos) << r.out;
  EXPECT_EQ(manifest_time(), before);
  // --force replaces the earlier region, stale files included, and leaves other files alone.
  Write("region/acute/stale.hl7", "old");
  Write("region/notes.txt", "mine");
  r = Ark(synth + " --force");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(fs::exists(root_ / "region/manifest.json"));
  EXPECT_FALSE(fs::exists(root_ / "region/acute/stale.hl7"));
  EXPECT_TRUE(fs::exists(root_ / "region/notes.txt"));
  // A directory holding anything else is refused too.
  fs::create_directories(root_ / "other");
  Write("other/x.txt", "x");
  r = Ark("synth --people 200 --years 1 --quiet --out " + P("other"));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_FALSE(fs::exists(root_ / "other/manifest.json"));
}

// The NHS-number counts of `ark link --mode pprl --json` are those of deterministic mode.
TEST_F(CliChecks, PprlLinkJsonCountsMissingAndInvalidNhsNumbers) {
  ASSERT_EQ(Ark("synth --people 1500 --years 2 --seed 11 --quiet --out " + P("region")).rc, 0);
  ASSERT_EQ(Ark("keygen --out " + P("k")).rc, 0);
  std::string feeds;
  for (const char* c : {"gp", "acute"}) {
    ArkRun r = Ark("pseudonymise --key " + P("k") + " --custodian " + c + " --in " + P("region/") + c + " --out " +
                   P("feeds/") + c);
    ASSERT_EQ(r.rc, 0) << r.out;
    feeds += " " + P("feeds/") + c;
  }
  ASSERT_EQ(Ark("init " + P("ark")).rc, 0);
  ArkRun r = Ark("ingest " + P("ark") + feeds);
  ASSERT_EQ(r.rc, 0) << r.out;
  ArkRun det = ArkStdout("link " + P("ark") + " --json");
  ASSERT_EQ(det.rc, 0) << det.out;
  ArkRun pprl = ArkStdout("link " + P("ark") + " --mode pprl --json");
  ASSERT_EQ(pprl.rc, 0) << pprl.out;
  const auto d = nlohmann::json::parse(det.out)["custodians"], p = nlohmann::json::parse(pprl.out)["custodians"];
  uint64_t missing = 0, invalid = 0;
  for (const char* c : {"gp", "acute"}) {
    ASSERT_TRUE(p[c].contains("missing_nhs_number")) << p.dump();
    EXPECT_EQ(p[c]["missing_nhs_number"], d[c]["missing_nhs_number"]) << c;
    EXPECT_EQ(p[c]["invalid_nhs_number"], d[c]["invalid_nhs_number"]) << c;
    missing += p[c]["missing_nhs_number"].get<uint64_t>();
    invalid += p[c]["invalid_nhs_number"].get<uint64_t>();
  }
  EXPECT_GT(missing, 0u);
  EXPECT_GT(invalid, 0u);
}

}  // namespace
