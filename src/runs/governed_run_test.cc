// runs::GovernedRun and runs::DummyRun (runs/governed_run.h): the gate decides before anything is
// read (a refused run writes nothing and records nothing), a governed run is recorded with its
// id, a workspace run is refused on an enforced Ark and put on the ledger on one that is not, and
// a dummy run reads only its own dummy Ark and is put on the ledger as run.dummy.
#include "runs/governed_run.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "governance/governance.h"
#include "governance/ledger.h"
#include "store/store_test_util.h"
#include "study/dummy.h"

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

struct Fixture {
  std::string dir, ark, def;
  explicit Fixture(const std::string& name) {
    dir = store::testing::TempDir("governed_" + name);
    std::filesystem::remove_all(dir);
    EXPECT_TRUE(MakeDirs(dir).ok());
    ark = dir + "/ark";
    def = dir + "/def.yaml";
    EXPECT_TRUE(WriteFileAtomic(def, kDefinition).ok());
    auto parsed = study::ParseDefinitionFile(def);
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
  RunRequest Request(const std::string& user, const std::string& project, const std::string& out) const {
    RunRequest r;
    r.gate.project = project;
    r.gate.user = user;
    if (!user.empty()) r.gate.identified = gov::Actor{user, {user == "admin" ? "admin" : "analyst"}};
    r.run.ark_dir = ark;
    r.run.definition = def;
    r.run.out_dir = dir + "/" + out;
    r.run.threads = 1;
    return r;
  }
  std::string Ledger() const {
    auto t = ReadFile(ark + "/ledger/entries.jsonl");
    return t.ok() ? *t : "";
  }
};

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(GovernedRun, InAProjectRecordedOnlyForItsPeople) {
  Fixture f("project");
  auto refused = GovernedRun(f.Request("admin", "p1", "refused"));
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied) << refused.status().ToString();
  EXPECT_FALSE(PathExists(f.dir + "/refused"));
  EXPECT_EQ(Count(f.Ledger(), "\"type\":\"run.executed\""), 0u);
  auto ok = GovernedRun(f.Request("ana", "p1", "out"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(ok->governed);
  EXPECT_GT(ok->run_id, 0);
  EXPECT_GT(ok->report.population, 0u);
  EXPECT_TRUE(PathExists(f.dir + "/out/measures/diabetes.csv"));
  EXPECT_EQ(Count(f.Ledger(), "\"type\":\"run.executed\""), 1u);
}

TEST(GovernedRun, AWorkspaceRunIsRefusedOnAnEnforcedArkAndLedgeredOnOneThatIsNot) {
  Fixture f("workspace");
  auto ws = GovernedRun(f.Request("", "", "ws"));
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  EXPECT_FALSE(ws->governed);
  EXPECT_EQ(ws->run_id, 0);
  EXPECT_EQ(Count(f.Ledger(), "\"workspace_run\":true"), 1u);
  {
    auto cat = Catalog::Open(f.ark);
    ASSERT_TRUE(cat.ok());
    ASSERT_TRUE((*cat)->SetMeta("governance_enforced", "1").ok());
  }
  auto refused = GovernedRun(f.Request("", "", "ws2"));
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied) << refused.status().ToString();
  EXPECT_FALSE(PathExists(f.dir + "/ws2"));
  EXPECT_EQ(Count(f.Ledger(), "\"workspace_run\":true"), 1u);
}

TEST(DummyRun, RunsOnItsOwnDummyArkAndIsLedgered) {
  Fixture f("dummy");
  DummyRunRequest r{.ark_dir = f.ark, .project = "p1", .user = "ana", .definition = f.def, .work_dir = f.dir + "/job",
                    .out_dir = f.dir + "/job/out", .people = 100};
  auto rep = DummyRun(r);
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  EXPECT_EQ(rep->persons, 100u);  // the dummy Ark's, not the Ark's 200
  EXPECT_TRUE(PathExists(f.dir + "/job/out/measures/diabetes.csv"));
  EXPECT_EQ(Count(f.Ledger(), "\"type\":\"run.dummy\""), 1u);
  EXPECT_EQ(Count(f.Ledger(), "\"type\":\"run.executed\""), 0u);
  r.people = 0;
  EXPECT_EQ(DummyRun(r).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ark::runs
