// The committee's lifecycle actions (lifecycle.h): suspend, reinstate, revoke, amend; admins only,
// with reasons, on the ledger; and the gate refuses a suspended or revoked project's runs.
#include "governance/lifecycle.h"

#include <gtest/gtest.h>

#include "core/fs.h"
#include "governance/gate.h"
#include "governance/release.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace ark::gov {
namespace {

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = store::testing::TempDir("lifecycle");
    ASSERT_TRUE(MakeDirs(dir_).ok());
    auto c = Catalog::Create(dir_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cat_ = std::move(*c);
    auto l = Ledger::Open(dir_);
    ASSERT_TRUE(l.ok());
    ledger_ = std::move(*l);
    admin_ = *Authenticate(*cat_, "admin", *AddUser(*cat_, nullptr, "admin", {"admin"}));
    ana_token_ = *AddUser(*cat_, &admin_, "ana", {"analyst"});
    ana_ = *Authenticate(*cat_, "ana", ana_token_);
    Project p;
    p.id = "p1";
    p.title = "t";
    p.legal_basis = "consent";
    p.datasets = {"gp"};
    p.people = {"ana"};
    p.start = "2020-01-01";
    p.end = "2099-12-31";
    ASSERT_TRUE(CreateProject(*cat_, ana_, p).ok());
    ASSERT_TRUE(ApproveProject(*cat_, *ledger_, admin_, "p1", "2026-01-01", "fine").ok());
  }
  void TearDown() override {
    ledger_.reset();
    cat_.reset();
    (void)RemoveAll(dir_);
  }
  std::string Ledger() {
    auto r = ReadFile(dir_ + "/ledger/entries.jsonl");
    return r.ok() ? *r : "";
  }
  std::string Status_() { return GetProject(*cat_, "p1")->status; }
  // What the gate says to the project's own analyst asking to run in it.
  Status Gate() {
    GateRequest r;
    r.command = "run";
    r.project = "p1";
    r.user = "ana";
    r.token = ana_token_;
    return Admit(*cat_, r, "2026-01-01").status();
  }

  std::string dir_, ana_token_;
  std::unique_ptr<Catalog> cat_;
  std::unique_ptr<gov::Ledger> ledger_;
  Actor admin_, ana_;
};

TEST_F(LifecycleTest, SuspendedAndRevokedProjectsDoNotRunAtTheGate) {
  ASSERT_TRUE(Gate().ok()) << Gate().ToString();
  ASSERT_TRUE(SuspendProject(*cat_, *ledger_, admin_, "p1", "complaint under review").ok());
  EXPECT_EQ(Status_(), "suspended");
  EXPECT_NE(Ledger().find("\"type\":\"project.suspended\",\"id\":\"p1\",\"by\":\"admin\",\"reason\":\"complaint under review\""),
            std::string::npos) << Ledger();
  Status s = Gate();
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find("not approved"), std::string::npos) << s.ToString();
  ASSERT_TRUE(ReinstateProject(*cat_, *ledger_, admin_, "p1", "resolved", "2026-01-01").ok());
  EXPECT_EQ(Status_(), "approved");
  EXPECT_TRUE(Gate().ok());
  EXPECT_NE(Ledger().find("\"type\":\"project.reinstated\""), std::string::npos);
  ASSERT_TRUE(RevokeProject(*cat_, *ledger_, admin_, "p1", "breach of the data sharing agreement").ok());
  EXPECT_EQ(Status_(), "revoked");
  EXPECT_EQ(Gate().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(Ledger().find("\"type\":\"project.revoked\""), std::string::npos);
  // Revoked is final.
  EXPECT_EQ(ReinstateProject(*cat_, *ledger_, admin_, "p1", "undo", "2026-01-01").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(SuspendProject(*cat_, *ledger_, admin_, "p1", "again").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(AmendProject(*cat_, *ledger_, admin_, "p1", Amendment{.title = "x"}, "r").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Status_(), "revoked");
}

TEST_F(LifecycleTest, OnlyAnAdminActsAndAlwaysWithAReason) {
  Status s = SuspendProject(*cat_, *ledger_, ana_, "p1", "I say so");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(Ledger().find("only an admin (the committee) may suspend projects"), std::string::npos);
  EXPECT_EQ(RevokeProject(*cat_, *ledger_, ana_, "p1", "r").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(AmendProject(*cat_, *ledger_, ana_, "p1", Amendment{.title = "x"}, "r").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(SuspendProject(*cat_, *ledger_, admin_, "p1", "").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RevokeProject(*cat_, *ledger_, admin_, "nope", "r").code(), StatusCode::kNotFound);
  // Reinstating a project that is not suspended is a state error.
  EXPECT_EQ(ReinstateProject(*cat_, *ledger_, admin_, "p1", "r").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Status_(), "approved");
}

TEST_F(LifecycleTest, ReinstatingAnExpiredProjectIsRefused) {
  ASSERT_TRUE(SuspendProject(*cat_, *ledger_, admin_, "p1", "audit").ok());
  Status s = ReinstateProject(*cat_, *ledger_, admin_, "p1", "audit done", "2100-01-01");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("expired on 2099-12-31"), std::string::npos) << s.ToString();
  EXPECT_EQ(Status_(), "suspended");
}

TEST_F(LifecycleTest, AmendmentChangesTheTermsTheGateChecks) {
  ASSERT_TRUE(Gate().ok());
  // The analyst is taken off the project: their next run is refused.
  Amendment a;
  a.people = std::vector<std::string>{"admin"};
  a.end = "2030-06-30";
  ASSERT_TRUE(AmendProject(*cat_, *ledger_, admin_, "p1", a, "ana left the team").ok());
  Project p = *GetProject(*cat_, "p1");
  EXPECT_EQ(p.people, std::vector<std::string>{"admin"});
  EXPECT_EQ(p.end, "2030-06-30");
  EXPECT_EQ(p.status, "approved");
  EXPECT_EQ(p.title, "t");  // unchanged
  EXPECT_EQ(Gate().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(Ledger().find("\"type\":\"project.amended\",\"id\":\"p1\",\"by\":\"admin\",\"reason\":\"ana left the team\","
                          "\"changed\":{\"people\":[\"admin\"],\"end\":\"2030-06-30\"}"),
            std::string::npos) << Ledger();
  // Bad terms are refused and change nothing.
  EXPECT_EQ(AmendProject(*cat_, *ledger_, admin_, "p1", Amendment{}, "nothing").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(AmendProject(*cat_, *ledger_, admin_, "p1", Amendment{.end = "2030-02-30"}, "r").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(AmendProject(*cat_, *ledger_, admin_, "p1", Amendment{.end = "2019-12-31"}, "r").code(), StatusCode::kInvalidArgument);
  Amendment empty_people;
  empty_people.people = std::vector<std::string>{};
  EXPECT_EQ(AmendProject(*cat_, *ledger_, admin_, "p1", empty_people, "r").code(), StatusCode::kInvalidArgument);
  Amendment comma;
  comma.datasets = std::vector<std::string>{"gp,acute"};
  EXPECT_EQ(AmendProject(*cat_, *ledger_, admin_, "p1", comma, "r").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GetProject(*cat_, "p1")->end, "2030-06-30");
}

// An output submitted before the project was suspended is not released while it is suspended (or
// once revoked); it can still be rejected.
TEST_F(LifecycleTest, ASuspendedProjectReleasesNothing) {
  auto store_data = store::testing::MakeData(40, 2, 3, 7);
  for (auto& person : store_data.persons) person.flags = kLinkedByNhsNumber | kOptOutKnown;
  ASSERT_TRUE(store::testing::WriteData(dir_ + "/store", store_data).ok());
  auto store = Store::Open(dir_ + "/store");
  ASSERT_TRUE(store.ok());
  std::vector<PersonKey> all;
  for (PersonKey k = 0; k < 40; ++k) all.push_back(k);
  auto run = RecordRun(*cat_, *ledger_, **store, ana_, *GetProject(*cat_, "p1"), {"gp"}, "def", all, "2026-01-01");
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/t.csv", "group,count\na,30\nb,80\nc,160\n").ok());
  auto first = SubmitOutput(*cat_, *ledger_, ana_, "p1", run->id, dir_ + "/t.csv", SubmitOptions{});
  auto second = SubmitOutput(*cat_, *ledger_, ana_, "p1", run->id, dir_ + "/t.csv", SubmitOptions{});
  ASSERT_TRUE(first.ok() && second.ok()) << first.status().ToString();
  const Actor chris = *Authenticate(*cat_, "chris", *AddUser(*cat_, &admin_, "chris", {"output_checker"}));
  const Actor dee = *Authenticate(*cat_, "dee", *AddUser(*cat_, &admin_, "dee", {"output_checker"}));
  ASSERT_TRUE(DecideOutput(*cat_, *ledger_, chris, first->id, true, "rules applied").ok());  // one approval: waits
  ASSERT_TRUE(SuspendProject(*cat_, *ledger_, admin_, "p1", "audit").ok());
  auto released = DecideOutput(*cat_, *ledger_, dee, first->id, true, "rules applied");
  EXPECT_EQ(released.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(released.status().message().find("project 'p1' is suspended"), std::string::npos) << released.status().ToString();
  EXPECT_FALSE(PathExists(dir_ + "/releases/p1"));
  EXPECT_TRUE(DecideOutput(*cat_, *ledger_, chris, second->id, false, "not while suspended").ok());
  ASSERT_TRUE(ReinstateProject(*cat_, *ledger_, admin_, "p1", "audit done", "2026-01-01").ok());
  auto after = DecideOutput(*cat_, *ledger_, dee, first->id, true, "rules applied");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->state, "approved");
}

}  // namespace
}  // namespace ark::gov
