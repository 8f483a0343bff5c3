// The web app in a real browser (docs/api.md, "The web app"): each test makes a small Ark (users
// of each role, projects, a run, outputs), starts a real `ark serve` on it, and runs
// tests/api/browser/web_browser.mjs, which drives Debian's Chromium with the pinned playwright-core
// and runs the pinned axe-core in every view (no serious or critical violation), checking that no
// Content-Security-Policy violation is reported. What the browser did is then checked on the Ark
// itself (the ledger, the release folder, the project's status). Screenshots of every view go to
// the test's temporary directory (printed), or to $ARK_WEB_SHOTS when set.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "core/process.h"
#include "governance/checkpoint.h"
#include "governance/citizen.h"
#include "governance/governance.h"
#include "governance/ledger.h"
#include "governance/release.h"
#include "privacy/key.h"
#include "server/serve_process.h"
#include "server/test_util.h"
#include "store/store.h"
#include "store/store_test_util.h"
#include "study/dummy.h"

namespace ark::server {
namespace {

using nlohmann::json;

const std::string kNodeDir = std::string(ARK_SOURCE_DIR) + "/tests/api";

gov::Project MakeProject(const std::string& id, const std::string& title, const std::vector<std::string>& people) {
  gov::Project p;
  p.id = id;
  p.title = title;
  p.legal_basis = "UK GDPR 6(1)(e), 9(2)(j)";
  p.datasets = {"gp", "acute"};
  p.people = people;
  p.start = "2026-01-01";
  p.end = "2099-12-31";
  return p;
}

// The editor's definition (codes inline, as the server requires).
constexpr const char* kEditorDefinition = R"(name: editor
codelists:
  diabetes: {codes: ["44054006", "73211009"], system: SNOMED}
index_date: 2025-03-31
population: {registered: true, alive: true}
variables:
  has_diabetes: {exists: diabetes, to: 0d}
  gender: sex
measures:
  diabetes_by_gender:
    numerator: has_diabetes
    denominator: has_diabetes
    group_by: [gender]
    intervals: {every: year, from: 2023-04-01, to: 2025-03-31}
)";

// A demo-like Ark: admin, an analyst (ana), two output checkers (chris, dee), and carol who is an
// analyst and a checker; an approved project with a run and outputs (one released by chris and
// dee, one dee has approved, one to decide, one carol wrote), and two
// applications waiting for the committee. Served by `ark serve` on free loopback ports.
class WebBrowser : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PathExists(kNodeDir + "/node_modules/playwright-core/package.json") ||
        !PathExists(kNodeDir + "/node_modules/axe-core/axe.min.js"))
      GTEST_FAIL() << kNodeDir << "/node_modules is missing: run `make test` (it runs `npm ci --prefix tests/api`)";
    if (!PathExists("/usr/bin/chromium")) GTEST_FAIL() << "/usr/bin/chromium is missing: run `make deps`";
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ark_ = ::testing::TempDir() + "ark_web_" + name + "_" + std::to_string(::getpid());
    (void)RemoveAll(ark_);
    (void)RemoveAll(ark_ + ".files");
    const char* shots = std::getenv("ARK_WEB_SHOTS");
    shots_ = shots && *shots ? shots : ark_ + ".shots";
    ASSERT_TRUE(MakeDirs(shots_).ok());
    MakeArk();
    auto started = StartServe(ARK_BINARY, ark_, ark_ + ".serve.log", {}, 20000);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    proc_ = *started;
  }
  void TearDown() override {
    if (proc_.pid > 0) StopServe(proc_);
  }

  void MakeArk() {
    // The editor's test and the whole story run on an Ark of dummy data (feed "dummy"), so their
    // run on the Ark has people.
    const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    const bool with_data = test == "AnalystChecksRunsOnDummyThenOnTheArkAndRequestsRelease" || test == "TheWholeStory";
    if (with_data) {
      auto def = study::ParseDefinition(kEditorDefinition, "def", "");
      ASSERT_TRUE(def.ok()) << def.status().ToString();
      ASSERT_TRUE(study::MakeDummyArk(*def, ark_, {.people = 300, .seed = 11, .threads = 1}).ok());
    }
    auto cat = with_data ? Catalog::Open(ark_) : Catalog::Create(ark_);
    ASSERT_TRUE(cat.ok()) << cat.status().ToString();
    auto admin_token = gov::AddUser(**cat, nullptr, "admin", {"admin"});
    ASSERT_TRUE(admin_token.ok());
    fx_["tokens"]["admin"] = *admin_token;
    const gov::Actor admin{"admin", {"admin"}};
    for (const auto& [user, roles] : std::map<std::string, std::vector<std::string>>{
             {"ana", {"analyst"}}, {"chris", {"output_checker"}}, {"dee", {"output_checker"}},
             {"carol", {"analyst", "output_checker"}},
             {"eve", {"engineer"}}}) {
      auto t = gov::AddUser(**cat, &admin, user, roles);
      ASSERT_TRUE(t.ok()) << t.status().ToString();
      fx_["tokens"][user] = *t;
    }
    auto ledger = gov::Ledger::Open(ark_);
    ASSERT_TRUE(ledger.ok());
    ASSERT_TRUE(gov::CreateProject(**cat, admin, MakeProject("copd-2026", "COPD admissions", {"ana", "carol"})).ok());
    ASSERT_TRUE(gov::ApproveProject(**cat, **ledger, admin, "copd-2026", gov::Today(), "meets the criteria").ok());
    ASSERT_TRUE(gov::CreateProject(**cat, admin, MakeProject("asthma-2027", "Asthma in children", {"ana"})).ok());
    ASSERT_TRUE(gov::CreateProject(**cat, admin, MakeProject("flu-2027", "Influenza vaccine uptake", {"ana"})).ok());
    if (with_data) {
      gov::Project diab = MakeProject("diab-2026", "Diabetes by gender", {"ana"});
      diab.datasets = {"dummy"};
      ASSERT_TRUE(gov::CreateProject(**cat, admin, diab).ok());
      ASSERT_TRUE(gov::ApproveProject(**cat, **ledger, admin, "diab-2026", gov::Today(), "meets the criteria").ok());
      fx_["definition"] = kEditorDefinition;
      std::string typo = kEditorDefinition;
      typo.replace(typo.find("{exists:"), 8, "{exist: ");  // line 7, column 18
      fx_["typo"] = typo;
    }
    fx_["projects"] = {"copd-2026", "asthma-2027", "flu-2027"};
    fx_["to_admit"] = "asthma-2027";
    fx_["to_deny"] = "flu-2027";
    fx_["to_apply"] = "hf-2027";

    // A run of the approved project on a small store, as `ark run` records it.
    const std::string store_dir = ark_ + ".store";
    (void)RemoveAll(store_dir);
    auto data = store::testing::MakeData(60, 2, 3, 7);
    for (auto& person : data.persons) person.flags = kLinkedByNhsNumber | kOptOutKnown;
    ASSERT_TRUE(store::testing::WriteData(store_dir, data).ok());
    auto store = Store::Open(store_dir);
    ASSERT_TRUE(store.ok());
    std::vector<PersonKey> all;
    for (PersonKey k = 0; k < 60; ++k) all.push_back(k);
    auto approved = gov::GetProject(**cat, "copd-2026");
    ASSERT_TRUE(approved.ok());
    const gov::Actor ana{"ana", {"analyst"}}, carol{"carol", {"analyst", "output_checker"}},
        chris{"chris", {"output_checker"}}, dee{"dee", {"output_checker"}};
    auto run = gov::RecordRun(**cat, **ledger, **store, ana, *approved, {"gp"}, "def", all, gov::Today());
    ASSERT_TRUE(run.ok()) << run.status().ToString();
    // A citizen (person 4, in that run) with the receipt code their GP practice issued.
    Digest pseudonym;
    ASSERT_TRUE(FromHex(std::string(64, 'e'), &pseudonym));
    ASSERT_TRUE((*cat)->Prepare("INSERT INTO person_keys VALUES (?, 4)").value()->BindBlob(1, pseudonym.data(), 32).Run().ok());
    auto code = gov::IssueReceiptCode(**cat, gov::Actor{"admin", {"admin"}}, std::string(64, 'e'), false);
    ASSERT_TRUE(code.ok()) << code.status().ToString();
    fx_["receipt_code"] = *code;
    ASSERT_TRUE(MakeDirs(ark_ + ".files").ok());
    auto submit = [&](const gov::Actor& by, const std::string& file) -> int64_t {
      const std::string csv = ark_ + ".files/" + file;
      EXPECT_TRUE(WriteFileAtomic(csv, "group,count\na,30\nb,80\nc,160\n").ok());
      auto o = gov::SubmitOutput(**cat, **ledger, by, "copd-2026", run->id, csv, gov::SubmitOptions{});
      EXPECT_TRUE(o.ok()) << o.status().ToString();
      return o.ok() ? o->id : -1;
    };
    const int64_t released = submit(ana, "admissions_by_age.csv");
    fx_["to_approve"] = submit(ana, "admissions_by_ward.csv");
    fx_["to_refuse"] = submit(ana, "admissions_by_practice.csv");
    fx_["carols"] = submit(carol, "readmissions.csv");
    // The one chris approves in the page has dee's approval already; one released by both (last,
    // so that the ledger's last entry is the release).
    ASSERT_TRUE(gov::DecideOutput(**cat, **ledger, dee, fx_["to_approve"].get<int64_t>(), true, "rules applied").ok());
    ASSERT_TRUE(gov::DecideOutput(**cat, **ledger, dee, released, true, "rules applied").ok());
    ASSERT_TRUE(gov::DecideOutput(**cat, **ledger, chris, released, true, "agree").ok());
    fx_["released_name"] = "admissions_by_age.csv";
    // The entry of that release on the ledger, and the ledger's size.
    auto lines = ReadFile(ark_ + "/ledger/entries.jsonl");
    ASSERT_TRUE(lines.ok());
    int64_t seq = 0, released_seq = -1;
    for (size_t at = 0; at < lines->size(); ++seq) {
      const size_t nl = lines->find('\n', at);
      if (lines->substr(at, nl - at).find("\"type\":\"output.released\"") != std::string::npos) released_seq = seq;
      at = nl + 1;
    }
    ASSERT_GE(released_seq, 0);
    fx_["released_seq"] = released_seq;
    fx_["ledger_size"] = seq;
    auto other = gov::NoteSigner::Generate("ark.ledger/0000000000000000");
    ASSERT_TRUE(other.ok());
    fx_["other_vkey"] = other->VerifierKey();
  }

  // Runs one scenario of web_browser.mjs; returns its output (and fails the test on a failed check).
  std::string Browse(const std::string& scenario) {
    fx_["base"] = "http://127.0.0.1:" + std::to_string(proc_.http);
    fx_["mllp"] = "127.0.0.1:" + std::to_string(proc_.mllp);
    fx_["ark_binary"] = ARK_BINARY;
    fx_["shots"] = shots_;
    const std::string file = ark_ + ".fixture.json";
    EXPECT_TRUE(WriteFileAtomic(file, fx_.dump()).ok());
    const CommandOutput out = RunCommand("cd '" + kNodeDir + "' && node browser/web_browser.mjs '" + file + "' " +
                                         scenario + " 2>&1");
    EXPECT_EQ(out.exit_code, 0) << out.output;
    EXPECT_NE(out.output.find(" checks, 0 failed"), std::string::npos) << out.output;
    std::printf("%s(screenshots in %s)\n", out.output.c_str(), shots_.c_str());
    return out.output;
  }

  std::string Ledger() const {
    auto t = ReadFile(ark_ + "/ledger/entries.jsonl");
    return t.ok() ? *t : "";
  }

  std::string ark_, shots_;
  json fx_;
  ServeProcess proc_;
};

TEST_F(WebBrowser, PublicViewShowsTheRegisterUnderTheCsp) { Browse("public"); }

// The citizen's view: their receipt by code, a wrong code refused, and their objection recorded
// (on the ledger, without the code) so that the next run leaves them out.
TEST_F(WebBrowser, CitizenSeesTheirReceiptAndObjects) {
  Browse("citizen");
  EXPECT_NE(Ledger().find("\"type\":\"citizen.objected\""), std::string::npos);
  EXPECT_EQ(Ledger().find(fx_["receipt_code"].get<std::string>()), std::string::npos);
  auto cat = Catalog::Open(ark_);
  ASSERT_TRUE(cat.ok());
  auto store = Store::Open(ark_ + ".store");
  ASSERT_TRUE(store.ok());
  std::vector<PersonKey> all;
  for (PersonKey k = 0; k < 60; ++k) all.push_back(k);
  uint64_t excluded = 0;
  auto pop = gov::FilterPopulation(**cat, **store, *gov::GetProject(**cat, "copd-2026"), all, &excluded);
  ASSERT_TRUE(pop.ok());
  EXPECT_EQ(std::count(pop->begin(), pop->end(), PersonKey{4}), 0);
}

TEST_F(WebBrowser, InclusionProofIsVerifiedInTheBrowserAndATamperedOneIsNot) { Browse("proof"); }

TEST_F(WebBrowser, OutputCheckerApprovesAndRefusesWithCsrf) {
  Browse("review");
  // The browser's decisions are governance's: on the ledger, and the approved file copied.
  const std::string ledger = Ledger();
  EXPECT_NE(ledger.find("\"type\":\"output.released\",\"project\":\"copd-2026\",\"output\":" +
                        fx_["to_approve"].dump() + ","), std::string::npos);
  EXPECT_NE(ledger.find("\"type\":\"output.rejected\",\"project\":\"copd-2026\",\"output\":" +
                        fx_["to_refuse"].dump() + ","), std::string::npos);
  EXPECT_TRUE(PathExists(ark_ + "/releases/copd-2026/" + fx_["to_approve"].dump() + "-admissions_by_ward.csv"));
  EXPECT_FALSE(PathExists(ark_ + "/releases/copd-2026/" + fx_["to_refuse"].dump() + "-admissions_by_practice.csv"));
}

TEST_F(WebBrowser, AnAuthorCannotReviewTheirOwnOutput) {
  Browse("twoPerson");
  auto cat = Catalog::Open(ark_);
  ASSERT_TRUE(cat.ok());
  auto outs = gov::ListOutputs(**cat);
  ASSERT_TRUE(outs.ok());
  for (const auto& o : *outs) {
    if (o.id == fx_["carols"].get<int64_t>()) {
      EXPECT_EQ(o.state, "submitted");
    }
  }
}

TEST_F(WebBrowser, CommitteeDecidesApplicationsAndSuspendsReinstatesAmendsRevokes) {
  Browse("committee");
  auto cat = Catalog::Open(ark_);
  ASSERT_TRUE(cat.ok());
  auto admitted = gov::GetProject(**cat, "asthma-2027");
  auto denied = gov::GetProject(**cat, "flu-2027");
  ASSERT_TRUE(admitted.ok() && denied.ok());
  EXPECT_EQ(gov::ProjectJson(*admitted).value("status", ""), "revoked");
  EXPECT_EQ(admitted->end, "2030-06-30");
  EXPECT_EQ(gov::ProjectJson(*denied).value("status", ""), "rejected");
  const std::string ledger = Ledger();
  for (const char* reason : {"no legal basis for these datasets", "complaint under review", "complaint not upheld",
                             "shorter study period", "breach of the data sharing agreement"})
    EXPECT_NE(ledger.find(reason), std::string::npos) << reason;
}

TEST_F(WebBrowser, AnalystSeesRunsAndOutputsAppliesAndNoOtherRolesActions) {
  Browse("analyst");
  auto cat = Catalog::Open(ark_);
  ASSERT_TRUE(cat.ok());
  auto applied = gov::GetProject(**cat, "hf-2027");
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(gov::ProjectJson(*applied).value("status", ""), "pending");
  EXPECT_EQ(applied->people, std::vector<std::string>{"ana"});
}

// NHS numbers with a valid check digit (mod 11), from a 9-digit stem.
std::string ValidNhs(int i) {
  std::string s = std::to_string(943476000 + i * 7);
  for (;;) {
    int sum = 0;
    for (int k = 0; k < 9; ++k) sum += (s[k] - '0') * (10 - k);
    const int check = 11 - sum % 11;
    if (check != 10) return s + std::to_string(check == 11 ? 0 : check);
    s = std::to_string(std::stoll(s) + 1);
  }
}

// The operations view (engineer): the page is open when the browser scenario sends HL7 v2 over
// MLLP to the same `ark serve` (with `ark send-hl7`): 12 admissions to one ward, two creatinine
// results that raise an AKI stage 3 alert, and one unsupported message (AR). The alert arrives
// through the event stream and the feed's counts and indicators refresh, with no reload; the
// count of people in a bed (12) is shown under the disclosure rule (10).
TEST_F(WebBrowser, OperationsSeesIndicatorsLiveAlertsAndFeedHealth) {
  using live::testing::Admit;
  std::string hl7;
  for (int i = 0; i < 12; ++i)
    hl7 += Admit("OPS" + std::to_string(i), ValidNhs(i), "M" + std::to_string(i), "W1", "20250101100000") + "\n";
  hl7 += live::testing::Result("OPSL1", ValidNhs(0), "20250110080000", {{"14682-9", 80, "umol/L"}}) + "\n";
  hl7 += live::testing::Result("OPSL2", ValidNhs(0), "20250112080000", {{"14682-9", 250, "umol/L"}}) + "\n";
  hl7 += Admit("OPSX", ValidNhs(30), "M30", "W1", "20250101100000", "EM", "A05") + "\n";
  fx_["hl7_file"] = ark_ + ".files/ops.hl7";
  ASSERT_TRUE(WriteFileAtomic(fx_["hl7_file"].get<std::string>(), hl7).ok());
  Browse("operations");
  // What the page showed is what the server holds: 15 messages from RXX01 (14 AA, 1 AR), one alert.
  auto token = ReadFile(ark_ + "/live/api.token");
  ASSERT_TRUE(token.ok());
  const std::string interim = token->substr(0, token->find('\n'));
  const json feeds = json::parse(live::testing::Http(proc_.http, "GET", "/api/v1/live/feeds", interim).body);
  ASSERT_EQ(feeds.size(), 1u) << feeds.dump();
  EXPECT_EQ(feeds[0]["source"], "RXX01");
  EXPECT_EQ(feeds[0]["messages"], 15);
  EXPECT_EQ(feeds[0]["aa"], 14);
  EXPECT_EQ(feeds[0]["ar"], 1);
  EXPECT_EQ(json::parse(live::testing::Http(proc_.http, "GET", "/api/v1/live/alerts", interim).body).size(), 1u);
}

// The definition editor (web/editor.js): errors at line and column, a run on dummy data, then on
// the Ark with its measures as a table and a chart, and a release requested from the page; the
// output waits in the checkers' queue.
TEST_F(WebBrowser, AnalystChecksRunsOnDummyThenOnTheArkAndRequestsRelease) {
  Browse("editor");
  auto cat = Catalog::Open(ark_);
  ASSERT_TRUE(cat.ok());
  auto outs = gov::ListOutputs(**cat, "diab-2026");
  ASSERT_TRUE(outs.ok()) << outs.status().ToString();
  ASSERT_EQ(outs->size(), 1u);
  EXPECT_EQ(outs->front().state, "submitted");
  EXPECT_EQ(outs->front().author, "ana");
  const std::string ledger = Ledger();
  EXPECT_NE(ledger.find("\"type\":\"run.dummy\""), std::string::npos);
}

// The whole story, in the browser: ana applies for a project; the committee (admin) approves it;
// ana writes a definition in the editor, runs it on dummy data and then on the Ark, and requests
// the release of a measure; chris approves it (it waits for a second checker) and dee approves it
// (released); the public register lists the release and its ledger entry's inclusion proof
// verifies in the browser. Then the GP practice issues a receipt code to a person of that run, and
// their "Your data" view lists the project's use.
TEST_F(WebBrowser, TheWholeStory) {
  fx_["story_project"] = "story-2026";
  fx_["story_title"] = "Diabetes by gender in the city";
  fx_["ark"] = ark_;
  Browse("story");
  auto cat = Catalog::Open(ark_);
  ASSERT_TRUE(cat.ok());
  auto project = gov::GetProject(**cat, "story-2026");
  ASSERT_TRUE(project.ok()) << project.status().ToString();
  EXPECT_EQ(gov::ProjectJson(*project).value("status", ""), "approved");
  auto outs = gov::ListOutputs(**cat, "story-2026");
  ASSERT_TRUE(outs.ok()) << outs.status().ToString();
  ASSERT_EQ(outs->size(), 1u);
  const gov::OutputRecord& o = outs->front();
  EXPECT_EQ(o.state, "approved");
  EXPECT_EQ(o.author, "ana");
  ASSERT_EQ(o.reviews.size(), 2u);
  EXPECT_EQ(o.reviews[0].checker, "chris");
  EXPECT_EQ(o.reviews[1].checker, "dee");
  EXPECT_TRUE(PathExists(ark_ + "/releases/story-2026/" + std::to_string(o.id) + "-" + o.name));
  const std::string ledger = Ledger();
  EXPECT_NE(ledger.find("\"type\":\"output.reviewed\",\"project\":\"story-2026\",\"output\":" + std::to_string(o.id) + ","),
            std::string::npos);
  EXPECT_NE(ledger.find("\"type\":\"output.released\",\"project\":\"story-2026\",\"output\":" + std::to_string(o.id) + ","),
            std::string::npos);

  // A person of the story's run on the Ark, and the receipt code their GP practice issues them.
  auto q = (*cat)->Prepare(
      "SELECT k.pseudonym FROM gov_run_members m JOIN gov_runs r ON r.id = m.run JOIN person_keys k ON k.person = m.person "
      "WHERE r.project = 'story-2026' ORDER BY m.person LIMIT 1");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  auto row = (*q)->Step();
  ASSERT_TRUE(row.ok() && *row) << "the story's run has no member with a pseudonym";
  const std::string blob = (*q)->Blob(0);
  ASSERT_EQ(blob.size(), 32u);
  std::string hex;
  for (unsigned char c : blob) hex += "0123456789abcdef"[c >> 4], hex += "0123456789abcdef"[c & 15];
  q->reset();
  auto code = gov::IssueReceiptCode(**cat, gov::Actor{"admin", {"admin"}}, hex, false);
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  fx_["story_receipt_code"] = *code;
  Browse("storyCitizen");
}

}  // namespace
}  // namespace ark::server
