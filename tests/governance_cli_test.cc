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
#include <set>
#include <algorithm>
#include <sstream>

#include "core/process.h"
#include "demo_ark.h"
#include "governance/gate.h"

namespace {

namespace fs = std::filesystem;

using ark::test::Sh;
using ark::test::Slurp;

// The refusal entries of an Ark's signed ledger.
std::string RefusalEntries(const std::string& ark) {
  std::istringstream in(Slurp(fs::path(ark) / "ledger" / "entries.jsonl"));
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"type\":\"refusal\"") != std::string::npos) out += line + "\n";
  }
  return out;
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
    token_ = ark::test::ReadTokens(root_ / "d" / "governance" / "tokens.env");
    ASSERT_EQ(token_.size(), 5u);
    def_ = std::string(ARK_SOURCE_DIR) + "/definitions/diabetes_register.yaml";
  }
  void TearDown() override { fs::remove_all(root_); }
  static std::string Ark() { return ARK_BINARY; }
  // Runs `ark ARGS` as `user` (their token in ARK_TOKEN).
  int As(const std::string& user, const std::string& who, const std::string& args, std::string* out) {
    return Sh("ARK_TOKEN=" + token_[user] + " " + Ark() + " " + args + " --as " + who, out);
  }
  std::string Refusals() { return RefusalEntries(ark_); }

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

  // Output checking: the author submits, cannot approve; two different checkers approve; only then released.
  std::ofstream(root_ / "table.csv") << "group,count\na,3\nb,80\nc,160\n";
  ASSERT_EQ(As("ANA", "ana", "release submit " + ark_ + " " + (root_ / "table.csv").string() + " --project demo-planning --run " + run, &out), 0) << out;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("\"id\": (\\d+)"))) << out;
  const std::string output = m[1];
  EXPECT_NE(As("ANA", "ana", "release approve " + ark_ + " " + output + " --reason mine", &out), 0);
  ASSERT_EQ(As("CHRIS", "chris", "release approve " + ark_ + " " + output + " --reason 'small cells redacted'", &out), 0) << out;
  EXPECT_NE(out.find("waiting for a second checker"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(fs::path(ark_) / "releases" / "demo-planning" / (output + "-table.csv")));
  EXPECT_NE(As("CHRIS", "chris", "release approve " + ark_ + " " + output + " --reason again", &out), 0);  // not twice
  EXPECT_NE(out.find("has already approved"), std::string::npos) << out;
  ASSERT_EQ(As("DEE", "dee", "release approve " + ark_ + " " + output + " --reason 'agree'", &out), 0) << out;
  EXPECT_NE(out.find("released (approved by chris and dee)"), std::string::npos) << out;
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

// Every command of `ark` is in one of these two tables: the ones that read the Ark's data (and an
// invocation of each), and the ones that do not (and why). A command in neither fails the test, so
// a new command cannot slip past the gate unnoticed. {ARK}, {DEF}, {PATHWAY} and {OUT} are
// substituted.
const std::map<std::string, std::string> kGated = {
    {"run", "run {ARK} {DEF} --out {OUT}"},
    {"sql", "sql {ARK} {DEF}"},
    {"export", "export {ARK} --to sqlite:{ARK}/export/gate.sqlite"},
    {"scan", "scan {ARK} --codes SNOMED/44054006 --from 2000-01-01 --to 2100-01-01 --json"},
    {"pathways", "pathways {ARK} {PATHWAY} --out {OUT}"},
};
// Commands that read the Ark only inside an approved project, enforced or not (their own tests
// cover refusals and the ledger).
const std::map<std::string, std::string> kAlwaysInAProject = {
    {"model", "model train and model score: an approved planning or direct-care project and one of its people, always "
              "(gov::AuthoriseRun, then RecordRun on the ledger); tests/model_cli_test.cc"},
    {"network", "network run (and every request a site answers): a project approved at every site with USER@SITE "
                "among its people (gov::AuthoriseRun, RecordRun), aggregates only; src/network/network_test.cc"},
};
const std::map<std::string, std::string> kNotGated = {
    {"append", "writes events into the store (a feed's or engineer's job); prints only acks"},
    {"build", "builds the store from staging (engineer); prints sizes"},
    {"citizen", "the citizen's own receipt (names projects, no one's data)"},
    {"compact", "store maintenance; prints sizes"},
    {"corrupt", "adds a second error model to a synthetic region's identity files; no Ark"},
    {"custodian", "custodian signing keys: keygen/sign need no Ark; trust registers a key (admin); reads no data"},
    {"demo", "creates its own synthetic Ark"},
    {"enforce", "governance itself (admin)"},
    {"dummy", "writes a new Ark of made-up data from a definition into an empty directory; reads no Ark"},
    {"governance-demo", "creates its own users: refused on any Ark that has users, so on every enforced Ark"},
    {"import-clks", "writes data into the Ark (custodian)"},
    {"import-meds", "writes data into the Ark (custodian)"},
    {"import-omop", "writes data into the Ark (custodian)"},
    {"ingest", "writes data into the Ark (custodian)"},
    {"init", "creates an empty Ark"},
    {"keygen", "custodian tool, no Ark"},
    {"ledger", "the public ledger"},
    {"link", "links staged records into persons (engineer); prints linkage counts"},
    {"link-records", "links CSV files the user gives, no Ark"},
    {"optout", "loads opt-out lists (custodian, by role)"},
    {"project", "the public register; create/approve by role"},
    {"pseudonymise", "custodian tool, no Ark"},
    {"release", "output checking, by project, run and role"},
    {"sdc", "checks a table the user gives, no Ark"},
    {"send-hl7", "an MLLP client, no Ark"},
    {"serve", "the live server: every route but /healthz needs a token (docs/live.md)"},
    {"specs", "prints the built-in feed specs, no Ark"},
    {"stats", "store sizes and totals for the operator"},
    {"synth", "writes a synthetic region, no Ark"},
    {"user", "users and tokens, by role"},
    {"verify", "store checksums; prints sizes"},
};

std::vector<std::string> ArkCommands() {
  std::string out;
  EXPECT_EQ(Sh(std::string(ARK_BINARY) + " --help", &out), 0) << out;
  std::vector<std::string> names;
  std::istringstream in(out.substr(out.find("Commands:")));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("  ", 0) != 0) continue;
    std::istringstream words(line);
    std::string name;
    words >> name;
    names.push_back(name);
  }
  return names;
}

std::string Fill(std::string s, const std::map<std::string, std::string>& vars) {
  for (auto& [k, v] : vars) {
    for (size_t at; (at = s.find(k)) != std::string::npos;) s.replace(at, k.size(), v);
  }
  return s;
}

TEST_F(GovernanceEndToEnd, EveryCommandThatReadsTheArkGoesThroughTheGate) {
  const std::vector<std::string> names = ArkCommands();
  ASSERT_GT(names.size(), 20u);
  for (const std::string& n : names) {
    EXPECT_EQ(kGated.count(n) + kNotGated.count(n) + kAlwaysInAProject.count(n), 1u)
        << "command '" << n << "' is not classified: if it reads the Ark's data it must call gov::Admit "
        << "(src/governance/gate.h) and be listed in kGated; otherwise say why in kNotGated";
  }
  std::set<std::string> gated(ark::gov::GatedCommands().begin(), ark::gov::GatedCommands().end());
  for (auto& [n, args] : kGated) {
    EXPECT_EQ(gated.count(n), 1u) << n << " is not in gov::GatedCommands()";
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  }
  EXPECT_EQ(gated.size(), kGated.size());

  const std::string ledger = (fs::path(ark_) / "ledger" / "entries.jsonl").string();
  auto vars = [&](const std::string& out) {
    return std::map<std::string, std::string>{{"{ARK}", ark_}, {"{DEF}", def_}, {"{OUT}", out},
                                              {"{PATHWAY}", std::string(ARK_SOURCE_DIR) + "/pathways/falls.yaml"}};
  };
  std::string out;
  // Before `ark enforce`: every one works as before, without identity or project.
  for (auto& [n, args] : kGated) {
    EXPECT_EQ(Sh(Ark() + " " + Fill(args, vars((root_ / ("w-" + n)).string())), &out), 0) << n << ": " << out;
  }
  ASSERT_EQ(As("ADMIN", "admin", "enforce " + ark_, &out), 0) << out;
  for (auto& [n, args] : kGated) {
    // No identity, no project: refused by the gate, logged, nothing written.
    const fs::path dir = root_ / ("refused-" + n);
    EXPECT_NE(Sh("env -u ARK_TOKEN " + Ark() + " " + Fill(args, vars(dir.string())), &out), 0) << n << ": " << out;
    EXPECT_NE(out.find("this Ark enforces governance: 'ark " + n + "' needs --project"), std::string::npos) << n << ": " << out;
    EXPECT_NE(Refusals().find("'ark " + n + "' needs --project"), std::string::npos) << n;
    EXPECT_FALSE(fs::exists(dir)) << n;
    // Someone who is not one of the project's people: refused.
    EXPECT_NE(As("OLU", "olu", Fill(args, vars(dir.string())) + " --project demo-planning", &out), 0) << n << ": " << out;
    EXPECT_NE(out.find("'olu' is not an approved person"), std::string::npos) << n << ": " << out;
    // The project's analyst: allowed, and on the ledger before anything is returned.
    const size_t before = Slurp(ledger).size();
    ASSERT_EQ(As("ANA", "ana", Fill(args, vars((root_ / ("ok-" + n)).string())) + " --project demo-planning", &out), 0)
        << n << ": " << out;
    const std::string added = Slurp(ledger).substr(before);
    EXPECT_NE(added.find(n == "run" ? "\"type\":\"run.executed\"" : "\"command\":\"" + n + "\""), std::string::npos)
        << n << ": " << added;
    EXPECT_NE(added.find("\"project\":\"demo-planning\""), std::string::npos) << n << ": " << added;
  }
}

TEST_F(GovernanceEndToEnd, GovernedOutputsPassDisclosureControl) {
  std::string out;
  ASSERT_EQ(As("ADMIN", "admin", "enforce " + ark_, &out), 0) << out;
  // scan: never the exact count: redacted or a multiple of 5.
  ASSERT_EQ(As("ANA", "ana", "scan " + ark_ + " --codes SNOMED/44054006 --from 2000-01-01 --to 2100-01-01 --json --project demo-planning", &out), 0) << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("\"persons_shown\": \"([^\"]+)\""))) << out;
  EXPECT_TRUE(m[1] == "[REDACTED]" || std::stoi(m[1]) % 5 == 0) << out;
  // pathways: only the disclosure-controlled report; the exact files and the event log stay in.
  const fs::path pw = root_ / "pw";
  const std::string falls = std::string(ARK_SOURCE_DIR) + "/pathways/falls.yaml";
  ASSERT_EQ(As("ANA", "ana", "pathways " + ark_ + " " + falls + " --out " + pw.string() + " --project demo-planning", &out), 0) << out;
  EXPECT_TRUE(fs::exists(pw / "report.html"));
  EXPECT_FALSE(fs::exists(pw / "variants.csv"));
  EXPECT_FALSE(fs::exists(pw / "summary.json"));
  EXPECT_NE(As("ANA", "ana", "pathways " + ark_ + " " + falls + " --out " + (root_ / "pw2").string() +
                                 " --export-csv " + (root_ / "log.csv").string() + " --project demo-planning", &out), 0);
  EXPECT_FALSE(fs::exists(root_ / "log.csv"));
  EXPECT_NE(Refusals().find("patient-level event log"), std::string::npos);
  // export: patient-level, so only inside the Ark.
  EXPECT_NE(As("ANA", "ana", "export " + ark_ + " --to sqlite:" + (root_ / "out.sqlite").string() + " --project demo-planning", &out), 0);
  EXPECT_FALSE(fs::exists(root_ / "out.sqlite"));
  EXPECT_NE(out.find("stays inside the Ark"), std::string::npos) << out;
  EXPECT_NE(As("ANA", "ana", "export " + ark_ + " --to sqlite:" + ark_ + "/../escape.sqlite --project demo-planning", &out), 0);
  // Inside the Ark but not under ARK/export/: the catalog would take the export's DROP and CREATE TABLEs.
  EXPECT_NE(As("ANA", "ana", "export " + ark_ + " --to sqlite:" + ark_ + "/catalog.db --project demo-planning", &out), 0);
  EXPECT_NE(out.find("/export/"), std::string::npos) << out;
  EXPECT_EQ(As("ANA", "ana", "export " + ark_ + " --to sqlite:" + ark_ + "/export/ok.sqlite --project demo-planning", &out), 0) << out;
  EXPECT_TRUE(fs::exists(fs::path(ark_) / "export" / "ok.sqlite"));
  EXPECT_NE(As("ANA", "ana", "export " + ark_ + " --schema omop --direct-care --to sqlite:" + ark_ +
                                 "/export/omop.sqlite --project demo-planning", &out), 0);
  EXPECT_NE(out.find("opt-outs apply"), std::string::npos) << out;
  // The ledger still verifies after all of it.
  EXPECT_EQ(Sh(Ark() + " ledger verify " + ark_, &out), 0) << out;
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
  std::string Refusals() { return RefusalEntries(ark_); }

  fs::path root_;
  std::string ark_, def_;
  std::map<std::string, std::string> token_;
};

TEST_F(GovernanceCli, WrongPurposeIsRefusedAndLogged) {
  std::string out;
  EXPECT_NE(As("ana", "run " + ark_ + " " + def_ + " --out " + (root_ / "r").string() + " --project plan --purpose research", &out), 0);
  EXPECT_NE(out.find("differs from project"), std::string::npos) << out;
  const std::string log = Refusals();
  EXPECT_NE(log.find("\"by\":\"ana\",\"reason\":\"permission denied: --purpose research differs from project 'plan'"), std::string::npos) << log;
}

TEST_F(GovernanceCli, RequestWithNoTokenOrNoIdentityIsRefusedAndLogged) {
  std::string out;
  EXPECT_NE(Sh(Ark() + " run " + ark_ + " " + def_ + " --out " + (root_ / "r").string() + " --project plan --as ana", &out), 0);
  EXPECT_NE(out.find("no token for 'ana'"), std::string::npos) << out;
  EXPECT_NE(Refusals().find("\"by\":\"ana\",\"reason\":\"permission denied: no token for 'ana'"), std::string::npos) << Refusals();
  EXPECT_NE(Sh(Ark() + " run " + ark_ + " " + def_ + " --out " + (root_ / "r").string() + " --project plan", &out), 0);
  EXPECT_NE(Refusals().find("\"by\":\"-\",\"reason\":\"permission denied: say who acts"), std::string::npos) << Refusals();
  EXPECT_FALSE(fs::exists(root_ / "r"));
}

// The committee's lifecycle from the command line (what the API's routes call): suspend (the run
// is refused at the gate), reinstate, amend, revoke; each needs a reason and an admin.
TEST_F(GovernanceCli, CommitteeSuspendsReinstatesAmendsAndRevokes) {
  std::string out;
  EXPECT_NE(As("admin", "project suspend " + ark_ + " plan", &out), 0);  // no reason
  EXPECT_NE(As("ana", "project suspend " + ark_ + " plan --reason mine", &out), 0);
  EXPECT_NE(Refusals().find("only an admin (the committee) may suspend projects"), std::string::npos) << Refusals();
  ASSERT_EQ(As("admin", "project suspend " + ark_ + " plan --reason 'complaint under review'", &out), 0) << out;
  EXPECT_NE(out.find("project plan is suspended"), std::string::npos) << out;
  EXPECT_NE(As("ana", "run " + ark_ + " " + def_ + " --out " + (root_ / "r").string() + " --project plan", &out), 0);
  EXPECT_NE(Refusals().find("project 'plan' is not approved"), std::string::npos) << Refusals();
  EXPECT_FALSE(fs::exists(root_ / "r"));
  ASSERT_EQ(As("admin", "project reinstate " + ark_ + " plan --reason 'not upheld'", &out), 0) << out;
  ASSERT_EQ(As("admin", "project amend " + ark_ + " plan --reason 'shorter' --end 2030-06-30", &out), 0) << out;
  EXPECT_NE(As("admin", "project amend " + ark_ + " plan --reason 'nothing'", &out), 0);
  EXPECT_NE(out.find("changes nothing"), std::string::npos) << out;
  ASSERT_EQ(Sh(Ark() + " project show " + ark_ + " plan", &out), 0) << out;
  EXPECT_NE(out.find("2030-06-30"), std::string::npos) << out;
  ASSERT_EQ(As("admin", "project revoke " + ark_ + " plan --reason 'breach'", &out), 0) << out;
  EXPECT_NE(As("admin", "project reinstate " + ark_ + " plan --reason 'undo'", &out), 0);
  EXPECT_NE(out.find("is revoked, not suspended"), std::string::npos) << out;
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
