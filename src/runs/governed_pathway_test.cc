// runs::GovernedPathway (runs/governed_pathway.h): in a project it writes only the
// disclosure-controlled report.html, after "data.accessed" is on the ledger; it needs a project;
// the gate refuses someone who is not one of the project's people (on the ledger, nothing
// written); a cancellation between stages writes and records nothing.
#include "runs/governed_pathway.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "governance/governance.h"
#include "governance/ledger.h"
#include "store/store_test_util.h"
#include "study/dummy.h"
#include "study/engine.h"

namespace ark::runs {
namespace {

constexpr const char* kDefinition = R"(name: governed
codelists:
  diabetes: {codes: ["44054006"], system: SNOMED}
index_date: 2025-03-31
population: {registered: true, alive: true}
variables:
  has_diabetes: {exists: diabetes, to: 0d}
measures:
  diabetes:
    numerator: has_diabetes
    denominator: has_diabetes
    intervals: {every: year, from: 2023-04-01, to: 2025-03-31}
)";

constexpr const char* kPathway = R"(name: diabetes_path
activities:
  - {name: Diabetes, codes: [SNOMED/44054006]}
  - {name: Any event, codes: ["*"]}
)";

// A dummy-data Ark (feed "dummy", 200 people) with project p1 approved for it, ana its person.
struct Fixture {
  std::string dir, ark;
  explicit Fixture(const std::string& name) {
    dir = store::testing::TempDir("governed_pathway_" + name);
    std::filesystem::remove_all(dir);
    EXPECT_TRUE(MakeDirs(dir).ok());
    ark = dir + "/ark";
    auto parsed = study::ParseDefinition(kDefinition, "def", "");
    EXPECT_TRUE(parsed.ok());
    EXPECT_TRUE(study::MakeDummyArk(*parsed, ark, {.people = 200, .seed = 2, .threads = 1}).ok());
    auto cat = Catalog::Open(ark);
    EXPECT_TRUE(cat.ok());
    EXPECT_TRUE(gov::AddUser(**cat, nullptr, "admin", {"admin"}).ok());
    const gov::Actor admin{"admin", {"admin"}};
    EXPECT_TRUE(gov::AddUser(**cat, &admin, "ana", {"analyst"}).ok());
    gov::Project p;
    p.id = "p1";
    p.title = "t";
    p.legal_basis = "UK GDPR 6(1)(e)";
    p.datasets = {"dummy"};
    p.people = {"ana"};
    p.start = "2020-01-01";
    p.end = "2099-12-31";
    EXPECT_TRUE(gov::CreateProject(**cat, admin, p).ok());
    auto ledger = gov::Ledger::Open(ark);
    EXPECT_TRUE(ledger.ok());
    EXPECT_TRUE(gov::ApproveProject(**cat, **ledger, admin, "p1", gov::Today(), "fine").ok());
  }
  PathwayRequest Request(const std::string& user, const std::string& out) const {
    PathwayRequest r;
    r.gate.project = "p1";
    r.gate.user = user;
    r.gate.identified = gov::Actor{user, {user == "admin" ? "admin" : "analyst"}};
    r.ark_dir = ark;
    r.definition = kPathway;
    r.out_dir = dir + "/" + out;
    r.threads = 1;
    return r;
  }
  std::string Ledger() const {
    auto t = ReadFile(ark + "/ledger/entries.jsonl");
    return t.ok() ? *t : "";
  }
};

TEST(GovernedPathway, WritesOnlyTheReportAfterTheLedger) {
  Fixture f("ok");
  std::vector<std::string> stages;
  PathwayRequest r = f.Request("ana", "out");
  r.progress = [&](const std::string& stage, double) { stages.push_back(stage); };
  auto o = GovernedPathway(r);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(stages, (std::vector<std::string>{"gate", "timelines", "analysis", "report"}));
  ASSERT_TRUE(o->cases.has_value());  // 200 people with events: published, rounded to 5
  EXPECT_EQ(*o->cases % 5, 0);
  EXPECT_EQ(o->report, f.dir + "/out/report.html");
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(f.dir + "/out")) files.push_back(e.path().filename().string());
  EXPECT_EQ(files, std::vector<std::string>{"report.html"});
  const std::string ledger = f.Ledger();
  EXPECT_NE(ledger.find("\"type\":\"data.accessed\""), std::string::npos);
  EXPECT_NE(ledger.find("\"cases_published\":\"" + std::to_string(*o->cases) + "\""), std::string::npos) << ledger;
}

TEST(GovernedPathway, NeedsAProjectAndItsPeopleAndStopsWhenCancelled) {
  Fixture f("refused");
  PathwayRequest none = f.Request("ana", "none");
  none.gate.project = "";
  EXPECT_EQ(GovernedPathway(none).status().code(), StatusCode::kInvalidArgument);
  auto refused = GovernedPathway(f.Request("admin", "admin"));
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(PathExists(f.dir + "/admin"));
  EXPECT_NE(f.Ledger().find("\"by\":\"admin\""), std::string::npos);
  PathwayRequest cancelled = f.Request("ana", "cancelled");
  int calls = 0;
  cancelled.cancelled = [&] { return ++calls > 2; };  // after the gate and the timelines
  auto c = GovernedPathway(cancelled);
  EXPECT_TRUE(study::IsCancelled(c.status())) << c.status().ToString();
  EXPECT_FALSE(PathExists(f.dir + "/cancelled"));
  EXPECT_EQ(f.Ledger().find("\"type\":\"data.accessed\""), std::string::npos);
  PathwayRequest bad = f.Request("ana", "bad");
  bad.definition = "name: x\nactivities: []\nfile: /etc/passwd\n";
  EXPECT_EQ(GovernedPathway(bad).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ark::runs
