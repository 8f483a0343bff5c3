// The issue's security tests: each attempt must fail, with the reason logged.
#include "governance/governance.h"

#include <gtest/gtest.h>

#include <sstream>

#include "core/fs.h"
#include "governance/citizen.h"
#include "governance/gate.h"
#include "governance/release.h"
#include "privacy/key.h"
#include "store/store_test_util.h"

namespace ark::gov {
namespace {

class GovTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = store::testing::TempDir("gov");
    ASSERT_TRUE(MakeDirs(dir_).ok());
    auto c = Catalog::Create(dir_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cat_ = std::move(*c);
    auto data = store::testing::MakeData(200, 3, 5, 1);
    for (auto& p : data.persons) p.flags = kLinkedByNhsNumber | kOptOutKnown;
    data.persons[7].flags |= kOptedOutNational;  // one opted out
    data.persons[9].flags = 0;                   // one unknown
    ASSERT_TRUE(store::testing::WriteData(dir_ + "/store", data).ok());
    auto s = Store::Open(dir_ + "/store");
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    auto l = Ledger::Open(dir_);
    ASSERT_TRUE(l.ok());
    ledger_ = std::move(*l);
    admin_token_ = *AddUser(*cat_, nullptr, "admin", {"admin"});
    admin_ = *Authenticate(*cat_, "admin", admin_token_);
    ana_ = *Authenticate(*cat_, "ana", *AddUser(*cat_, &admin_, "ana", {"analyst"}));
    olu_ = *Authenticate(*cat_, "olu", *AddUser(*cat_, &admin_, "olu", {"analyst"}));
    chris_ = *Authenticate(*cat_, "chris", *AddUser(*cat_, &admin_, "chris", {"output_checker"}));
    dee_ = *Authenticate(*cat_, "dee", *AddUser(*cat_, &admin_, "dee", {"output_checker"}));
    p_.id = "p1";
    p_.title = "t";
    p_.purpose = Purpose::kResearch;
    p_.legal_basis = "consent";
    p_.datasets = {"gp", "acute"};
    p_.people = {"ana"};
    p_.start = "2020-01-01";
    p_.end = "2099-12-31";
    ASSERT_TRUE(CreateProject(*cat_, ana_, p_).ok());
    ASSERT_TRUE(ApproveProject(*cat_, *ledger_, admin_, "p1").ok());
    p_ = *GetProject(*cat_, "p1");
    for (PersonKey k = 0; k < 200; ++k) all_.push_back(k);
  }
  void TearDown() override {
    store_.reset();
    ledger_.reset();
    cat_.reset();
    (void)RemoveAll(dir_);
  }
  // Gives person `key` the pseudonym `hex` (64 hex digits) in the catalog, as linkage would.
  void GivePseudonym(const std::string& hex, PersonKey key) {
    Digest d;
    ASSERT_TRUE(FromHex(hex, &d));
    auto ins = cat_->Prepare("INSERT INTO person_keys VALUES (?, ?)").value();
    ins->BindBlob(1, d.data(), 32).Bind(2, static_cast<int64_t>(key));
    ASSERT_TRUE(ins->Run().ok());
  }
  // The refusal entries of the signed ledger.
  std::string Refusals() {
    auto r = ReadFile(dir_ + "/ledger/entries.jsonl");
    std::string out, line;
    std::stringstream ss(r.ok() ? *r : std::string());
    while (std::getline(ss, line)) {
      if (line.find("\"type\":\"refusal\"") != std::string::npos) out += line + "\n";
    }
    return out;
  }
  // The ledger entries of one type.
  std::vector<std::string> Entries(const std::string& type) {
    auto r = ReadFile(dir_ + "/ledger/entries.jsonl");
    std::vector<std::string> out;
    std::string line;
    std::stringstream ss(r.ok() ? *r : std::string());
    while (std::getline(ss, line)) {
      if (line.find("\"type\":\"" + type + "\"") != std::string::npos) out.push_back(line);
    }
    return out;
  }
  RunRecord Run() {
    uint64_t ex = 0;
    auto pop = *FilterPopulation(*cat_, *store_, p_, all_, &ex);
    EXPECT_EQ(ex, 2u);
    auto r = RecordRun(*cat_, *ledger_, *store_, ana_, p_, {"gp"}, "def", pop, "2026-01-01");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return *r;
  }
  std::string Csv(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    EXPECT_TRUE(WriteFileAtomic(path, text).ok());
    return path;
  }

  std::string dir_, admin_token_;
  std::unique_ptr<Catalog> cat_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Ledger> ledger_;
  Actor admin_, ana_, olu_, chris_, dee_;
  Project p_;
  std::vector<PersonKey> all_;
};

TEST_F(GovTest, TokensAreStoredOnlyAsHashes) {
  auto db = ReadFile(dir_ + "/catalog.db");
  EXPECT_EQ(db->find(admin_token_), std::string::npos);
  EXPECT_FALSE(Authenticate(*cat_, "admin", "wrong").ok());
  EXPECT_FALSE(Authenticate(*cat_, "nobody", admin_token_).ok());
  std::string t2 = *IssueToken(*cat_, admin_, "admin");
  EXPECT_FALSE(Authenticate(*cat_, "admin", admin_token_).ok());
  EXPECT_TRUE(Authenticate(*cat_, "admin", t2).ok());
  EXPECT_FALSE(AddUser(*cat_, &ana_, "eve", {"admin"}).ok());  // only an admin adds users
}

TEST_F(GovTest, AnalystOutsideTheProjectIsRefused) {
  Status s = AuthoriseRun(*cat_, olu_, p_, {"gp"}, "2026-01-01");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(Refusals().find("not an approved person"), std::string::npos);
}

TEST_F(GovTest, ExpiredProjectIsRefused) {
  Status s = AuthoriseRun(*cat_, ana_, p_, {"gp"}, "2100-01-01");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(Refusals().find("expired"), std::string::npos);
}

TEST_F(GovTest, RefusalsAreOnTheSignedLedgerNotInAFreeTextFile) {
  const uint64_t before = ledger_->size();
  EXPECT_FALSE(AuthoriseRun(*cat_, olu_, p_, {"gp"}, "2026-01-01").ok());
  EXPECT_EQ(ledger_->size(), before + 1);
  EXPECT_NE(Refusals().find("\"by\":\"olu\",\"reason\":\"permission denied: 'olu' is not an approved person"), std::string::npos)
      << Refusals();
  EXPECT_FALSE(PathExists(dir_ + "/ledger/refusals.log"));
  EXPECT_TRUE(VerifyLedger(dir_ + "/ledger").ok());
  // A refusal while no ledger is open in the process opens one for it.
  ledger_.reset();
  EXPECT_FALSE(Authenticate(*cat_, "mallory", "x").ok());
  EXPECT_NE(Refusals().find("\"by\":\"mallory\""), std::string::npos);
  auto rep = VerifyLedger(dir_ + "/ledger");
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  EXPECT_EQ(rep->entries, before + 2);
}

TEST_F(GovTest, RoleChangesAreOnTheLedger) {
  auto entries = [&] { return *ReadFile(dir_ + "/ledger/entries.jsonl"); };
  EXPECT_NE(entries().find("\"type\":\"user.added\",\"user\":\"admin\",\"roles\":[\"admin\"],\"by\":\"bootstrap\""),
            std::string::npos) << entries();
  EXPECT_NE(entries().find("\"type\":\"user.added\",\"user\":\"chris\",\"roles\":[\"output_checker\"],\"by\":\"admin\""),
            std::string::npos);
  ASSERT_TRUE(IssueToken(*cat_, admin_, "ana").ok());
  EXPECT_NE(entries().find("\"type\":\"token.issued\",\"user\":\"ana\",\"by\":\"admin\""), std::string::npos);
  EXPECT_EQ(entries().find("ark_"), std::string::npos);  // never a token
  EXPECT_EQ(IssueToken(*cat_, admin_, "nobody").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(VerifyLedger(dir_ + "/ledger").ok());
}

TEST_F(GovTest, ExpiredProjectCannotBeApproved) {
  Project old = p_;
  old.id = "old";
  old.start = "2020-01-01";
  old.end = "2020-12-31";
  ASSERT_TRUE(CreateProject(*cat_, ana_, old).ok());
  Status s = ApproveProject(*cat_, *ledger_, admin_, "old", "2026-01-01");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  EXPECT_NE(Refusals().find("project 'old' expired on 2020-12-31: it cannot be approved"), std::string::npos);
  EXPECT_EQ(GetProject(*cat_, "old")->status, "pending");
  // On its last day it may still be approved.
  EXPECT_TRUE(ApproveProject(*cat_, *ledger_, admin_, "old", "2020-12-31").ok());
}

TEST_F(GovTest, ImpossibleDatesAreRefused) {
  Project p = p_;
  p.id = "dates";
  p.start = "2026-01-01";
  for (auto [end, why] : {std::pair{"2026-02-30", "month 2026-02 has no day 30"}, {"2026-13-01", "there is no month 13"},
                          {"2026-1-01", "not a date written YYYY-MM-DD"}, {"2025-02-29", "month 2025-02 has no day 29"}}) {
    p.end = end;
    Status s = CreateProject(*cat_, ana_, p);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << end;
    EXPECT_NE(s.ToString().find(std::string("end '") + end + "' is not a date"), std::string::npos) << s.ToString();
    EXPECT_NE(s.ToString().find(why), std::string::npos) << s.ToString();
  }
  p.end = "2028-02-29";  // a leap day
  EXPECT_TRUE(CreateProject(*cat_, ana_, p).ok());
  // A project stored with an impossible date (written before dates were checked) cannot run.
  auto up = cat_->Prepare("UPDATE gov_projects SET end_date = '2026-02-30' WHERE id = 'p1'").value();
  ASSERT_TRUE(up->Run().ok());
  Status s = AuthoriseRun(*cat_, ana_, *GetProject(*cat_, "p1"), {"gp"}, "2026-01-01");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(Refusals().find("has no valid dates"), std::string::npos);
}

TEST_F(GovTest, FeedIsARoleOfItsOwn) {
  EXPECT_TRUE(IsRole("feed"));
  auto t = AddUser(*cat_, &admin_, "pas", {"feed"});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto a = Authenticate(*cat_, "pas", *t);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->Has("feed"));
  EXPECT_FALSE(admin_.Has("feed"));
}

TEST_F(GovTest, RunOnAnUnapprovedDatasetIsRefused) {
  EXPECT_FALSE(AuthoriseRun(*cat_, ana_, p_, {"social_care"}, "2026-01-01").ok());
  EXPECT_NE(Refusals().find("dataset 'social_care' is not approved"), std::string::npos);
}

// Issue 13: a run refuses to start when a feed it reads has an unknown opt-out status (imported
// without the source's opt-outs), unless the project is for direct care; the refusal names the
// feed, says how to fix it, and is on the ledger.
TEST_F(GovTest, RunOnAFeedOfUnknownOptOutStatusIsRefusedUnlessDirectCare) {
  ASSERT_TRUE(cat_->Exec("INSERT INTO batches(id, feed, dir, records, events, optouts, ingested_at, manifest) VALUES "
                         "(1, 'gp', 'staging/1', 1, 1, 0, 'x', '{\"kind\":\"ingest\"}'),"
                         "(2, 'acute', 'staging/2', 1, 1, 0, 'x', '{\"kind\":\"import\",\"optouts\":\"not declared (status unknown)\"}')")
                  .ok());
  EXPECT_EQ(*FeedsWithUnknownOptOuts(*cat_), std::vector<std::string>{"acute"});
  Status s = AuthoriseRun(*cat_, ana_, p_, {"gp", "acute"}, "2026-01-01");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("'acute'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("--optouts FILE or --optouts-none"), std::string::npos) << s.message();
  EXPECT_NE(Refusals().find("opt-out status of feed(s) 'acute' is unknown"), std::string::npos) << Refusals();
  EXPECT_TRUE(AuthoriseRun(*cat_, ana_, p_, {"gp"}, "2026-01-01").ok());  // the feeds it reads are known
  Project dc = p_;
  dc.purpose = Purpose::kDirectCare;
  EXPECT_TRUE(AuthoriseRun(*cat_, ana_, dc, {"gp", "acute"}, "2026-01-01").ok());
  // Declared at import: known.
  ASSERT_TRUE(cat_->Exec("UPDATE batches SET manifest = '{\"kind\":\"import\",\"optouts\":\"declared: none\"}' WHERE id = 2").ok());
  EXPECT_TRUE(AuthoriseRun(*cat_, ana_, p_, {"gp", "acute"}, "2026-01-01").ok());
}

// Issue 13: the gate hands a command the feeds the project is approved for (the engines read only
// those), instead of requiring approval for every feed of the Ark; a command that cannot narrow
// what it reads (every_feed: pathways, export) still needs approval for every feed.
TEST_F(GovTest, GateNarrowsToTheApprovedFeeds) {
  ASSERT_TRUE(cat_->Exec("INSERT INTO batches(id, feed, dir, records, events, optouts, ingested_at, manifest) VALUES "
                         "(1, 'gp', 'staging/1', 1, 1, 0, 'x', '{}'), (2, 'acute', 'staging/2', 1, 1, 0, 'x', '{}'),"
                         "(3, 'community', 'staging/3', 1, 1, 0, 'x', '{}')").ok());
  GateRequest r;
  r.command = "run";
  r.project = "p1";
  r.user = "ana";
  r.token = *IssueToken(*cat_, admin_, "ana");
  auto a = Admit(*cat_, r, "2026-01-01");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_TRUE(a->governed);
  EXPECT_EQ(a->datasets, (std::vector<std::string>{"gp", "acute"}));
  EXPECT_EQ(a->Feeds(), (std::optional<std::vector<std::string>>{std::vector<std::string>{"gp", "acute"}}));
  r.every_feed = true;
  r.command = "pathways";
  auto every = Admit(*cat_, r, "2026-01-01");
  EXPECT_EQ(every.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(every.status().message().find("dataset 'community' is not approved"), std::string::npos) << every.status().ToString();
}

TEST_F(GovTest, OptedOutPersonInAResearchPopulationIsRefused) {
  auto r = RecordRun(*cat_, *ledger_, *store_, ana_, p_, {"gp"}, "def", all_, "2026-01-01");
  EXPECT_FALSE(r.ok());
  EXPECT_NE(Refusals().find("opted out"), std::string::npos);
  // With an explicit, public exemption the same population is allowed.
  Project ex = p_;
  ex.optout_exemption = "s251 support, CAG ref 00/CAG/0000";
  EXPECT_FALSE(OptOutsApply(ex));
  Run();  // the filtered population is fine
}

TEST_F(GovTest, OptOutListsLoadedLaterAlsoApply) {
  // Person 3 gets a pseudonym in the catalog and appears on a national opt-out list.
  std::string pseud(64, 'a');
  GivePseudonym(pseud, 3);
  Actor cust{"nhs", {"custodian"}};
  ASSERT_TRUE(LoadOptOuts(*cat_, *ledger_, cust, "national", "nhs-digital", Csv("optouts.txt", pseud + "\n")).ok());
  uint64_t ex = 0;
  auto pop = *FilterPopulation(*cat_, *store_, p_, all_, &ex);
  EXPECT_EQ(ex, 3u);
  EXPECT_EQ(std::count(pop.begin(), pop.end(), 3u), 0);
}

TEST_F(GovTest, ReleaseNeedsACheckerWhoIsNotTheAuthor) {
  RunRecord r = Run();
  auto o = SubmitOutput(*cat_, *ledger_, ana_, "p1", r.id, Csv("t.csv", "group,count\na,3\nb,8\nc,16\nd,23\n"), SubmitOptions{});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_TRUE(PathExists(dir_ + "/outputs/" + std::to_string(o->id) + "/results.json"));
  EXPECT_FALSE(DecideOutput(*cat_, *ledger_, ana_, o->id, true, "ok").ok());  // no checker
  EXPECT_NE(Refusals().find("not an output checker"), std::string::npos);
  Actor self{"ana", {"analyst", "output_checker"}};
  EXPECT_FALSE(DecideOutput(*cat_, *ledger_, self, o->id, true, "ok").ok());  // the author
  EXPECT_NE(Refusals().find("is the author"), std::string::npos);
  EXPECT_FALSE(PathExists(dir_ + "/releases/p1"));
  ASSERT_TRUE(DecideOutput(*cat_, *ledger_, chris_, o->id, true, "rules applied").ok());
  auto ok = DecideOutput(*cat_, *ledger_, dee_, o->id, true, "agree");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  auto released = ReadFile(dir_ + "/releases/p1/" + std::to_string(o->id) + "-t.csv");
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(*released, "label,count\na,[REDACTED]\nb,10\nc,15\nd,25\nTotal,50\n");
  EXPECT_TRUE(VerifyLedger(dir_ + "/ledger").ok());
}

// Two independent reviews (as OpenSAFELY): the first approval is recorded and ledgered but
// releases nothing; the same checker cannot approve twice, the author never; the approval of a
// second, different checker releases.
TEST_F(GovTest, FirstApprovalWaitsForASecondChecker) {
  RunRecord r = Run();
  auto o = SubmitOutput(*cat_, *ledger_, ana_, "p1", r.id, Csv("t.csv", "group,count\na,3\nb,8\nc,16\nd,23\n"), SubmitOptions{});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  auto first = DecideOutput(*cat_, *ledger_, chris_, o->id, true, "rules applied");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->state, "submitted");
  ASSERT_EQ(first->reviews.size(), 1u);
  EXPECT_EQ(first->reviews[0].checker, "chris");
  EXPECT_EQ(first->reviews[0].decision, "approve");
  EXPECT_EQ(first->reviews[0].reason, "rules applied");
  EXPECT_FALSE(PathExists(dir_ + "/releases/p1"));
  EXPECT_TRUE(Entries("output.released").empty());
  auto reviewed = Entries("output.reviewed");
  ASSERT_EQ(reviewed.size(), 1u);
  EXPECT_NE(reviewed[0].find("\"checker\":\"chris\""), std::string::npos) << reviewed[0];
  EXPECT_NE(reviewed[0].find("\"decision\":\"approve\""), std::string::npos) << reviewed[0];
  EXPECT_NE(reviewed[0].find("\"reason\":\"rules applied\""), std::string::npos) << reviewed[0];
  auto listed = ListOutputs(*cat_, "p1");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].state, "submitted");
  EXPECT_EQ(OutputJson((*listed)[0])["reviews"].size(), 1u);

  auto again = DecideOutput(*cat_, *ledger_, chris_, o->id, true, "still fine");
  EXPECT_EQ(again.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(Refusals().find("'chris' has already approved output"), std::string::npos) << Refusals();
  Actor self{"ana", {"analyst", "output_checker"}};
  EXPECT_FALSE(DecideOutput(*cat_, *ledger_, self, o->id, true, "ok").ok());
  EXPECT_NE(Refusals().find("is the author"), std::string::npos);
  EXPECT_FALSE(PathExists(dir_ + "/releases/p1"));

  auto second = DecideOutput(*cat_, *ledger_, dee_, o->id, true, "agree");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->state, "approved");
  EXPECT_EQ(second->reviews.size(), 2u);
  EXPECT_TRUE(PathExists(dir_ + "/releases/p1/" + std::to_string(o->id) + "-t.csv"));
  auto released = Entries("output.released");
  ASSERT_EQ(released.size(), 1u);
  EXPECT_NE(released[0].find("\"checkers\":[\"chris\",\"dee\"]"), std::string::npos) << released[0];
  EXPECT_TRUE(VerifyLedger(dir_ + "/ledger").ok());
}

TEST_F(GovTest, RejectionAfterOneApprovalRejects) {
  RunRecord r = Run();
  auto o = SubmitOutput(*cat_, *ledger_, ana_, "p1", r.id, Csv("t.csv", "group,count\na,3\nb,8\nc,16\nd,23\n"), SubmitOptions{});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  ASSERT_TRUE(DecideOutput(*cat_, *ledger_, chris_, o->id, true, "rules applied").ok());
  auto no = DecideOutput(*cat_, *ledger_, dee_, o->id, false, "the groups are too fine");
  ASSERT_TRUE(no.ok()) << no.status().ToString();
  EXPECT_EQ(no->state, "rejected");
  ASSERT_EQ(no->reviews.size(), 2u);
  EXPECT_EQ(no->reviews[1].decision, "reject");
  EXPECT_EQ(Entries("output.rejected").size(), 1u);
  EXPECT_FALSE(PathExists(dir_ + "/releases/p1"));
  EXPECT_EQ(DecideOutput(*cat_, *ledger_, admin_, o->id, true, "x").status().code(), StatusCode::kPermissionDenied);
  Actor third{"eve", {"output_checker"}};
  EXPECT_EQ(DecideOutput(*cat_, *ledger_, third, o->id, true, "late").status().code(), StatusCode::kFailedPrecondition);
}

// A run's measure table goes through output checking as `ark run` wrote it, and is released in
// the same shape (it was refused: "'interval_start' ... not a whole-number count").
TEST_F(GovTest, RunMeasureTableIsReleasedInItsOwnShape) {
  RunRecord r = Run();
  const std::string measure =
      "measure,interval_start,interval_end,ratio,numerator,denominator,sex\n"
      "m,2025-01-01,2025-03-31,0.333333,100,300,F\n"
      "m,2025-01-01,2025-03-31,[REDACTED],[REDACTED],290,M\n";
  auto o = SubmitOutput(*cat_, *ledger_, ana_, "p1", r.id, Csv("m.csv", measure), SubmitOptions{});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->status, "pass");
  ASSERT_TRUE(DecideOutput(*cat_, *ledger_, chris_, o->id, true, "rules applied").ok());
  ASSERT_TRUE(DecideOutput(*cat_, *ledger_, dee_, o->id, true, "agree").ok());
  auto released = ReadFile(dir_ + "/releases/p1/" + std::to_string(o->id) + "-m.csv");
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(*released, measure);
  // Under ACRO's threshold of 10 nothing changes here either; a count under it is suppressed and
  // takes its ratio with it.
  SubmitOptions acro;
  acro.sdc.rules = sdc::RuleSet::kAcro;
  acro.differencing_threshold = 0;
  auto a = SubmitOutput(*cat_, *ledger_, ana_, "p1", r.id,
                        Csv("a.csv", "measure,interval_start,interval_end,ratio,numerator,denominator\n"
                                     "m,2025-01-01,2025-03-31,0.0333333,5,150\n"),
                        acro);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto published = ReadFile(dir_ + "/outputs/" + std::to_string(a->id) + "/a.csv");
  ASSERT_TRUE(published.ok());
  EXPECT_EQ(*published, "measure,interval_start,interval_end,ratio,numerator,denominator\n"
                        "m,2025-01-01,2025-03-31,[REDACTED],[REDACTED],150\n");
}

TEST_F(GovTest, DifferentiallyPrivateReleaseSpendsTheProjectBudget) {
  RunRecord r = Run();
  SubmitOptions o;
  o.dp_epsilon = "0.5";
  for (int i = 0; i < 2; ++i) {
    auto out = SubmitOutput(*cat_, *ledger_, ana_, "p1", r.id, Csv("dp.csv", "group,count\na,3\nb,800\n"), o);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(out->status, "review");
    auto published = ReadFile(dir_ + "/" + out->path);
    ASSERT_TRUE(published.ok());
    EXPECT_EQ(published->find("REDACTED"), std::string::npos);
    EXPECT_EQ(published->rfind("label,count\na,", 0), 0u) << *published;
  }
  // The budget (1.0) is spent: a third release is refused and logged.
  EXPECT_FALSE(SubmitOutput(*cat_, *ledger_, ana_, "p1", r.id, Csv("dp.csv", "group,count\na,3\nb,800\n"), o).ok());
  EXPECT_NE(Refusals().find("of epsilon left"), std::string::npos);
}

TEST_F(GovTest, PatientLevelFileIsRefused) {
  RunRecord r = Run();
  auto o = SubmitOutput(*cat_, *ledger_, ana_, "p1", r.id, Csv("pl.csv", "patient_id,age\n1,40\n"), SubmitOptions{});
  EXPECT_FALSE(o.ok());
  EXPECT_NE(Refusals().find("patient-level"), std::string::npos);
}

// The population is the run's, as the Ark recorded it: an analyst can no longer type an earlier
// population to get round the differencing check (SubmitOptions had a `population` override).
TEST_F(GovTest, SecondReleaseDifferingByOneToNinePeopleIsRefused) {
  uint64_t ex = 0;
  const std::vector<PersonKey> pop = *FilterPopulation(*cat_, *store_, p_, all_, &ex);
  auto run_without = [&](size_t drop) {
    std::vector<PersonKey> v(pop.begin(), pop.end() - static_cast<std::ptrdiff_t>(drop));
    auto r = RecordRun(*cat_, *ledger_, *store_, ana_, p_, {"gp"}, "def", v, "2026-01-01");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return *r;
  };
  RunRecord r = run_without(0);
  ASSERT_TRUE(SubmitOutput(*cat_, *ledger_, ana_, "p1", r.id, Csv("a.csv", "g,n\nx,100\n"), SubmitOptions{}).ok());
  for (size_t d : {1, 5, 9}) {
    const RunRecord near = run_without(d);
    EXPECT_EQ(near.population, r.population - static_cast<int64_t>(d));
    EXPECT_FALSE(SubmitOutput(*cat_, *ledger_, ana_, "p1", near.id, Csv("b.csv", "g,n\nx,90\n"), SubmitOptions{}).ok()) << d;
  }
  EXPECT_NE(Refusals().find("differencing"), std::string::npos);
  EXPECT_TRUE(SubmitOutput(*cat_, *ledger_, ana_, "p1", run_without(10).id, Csv("c.csv", "g,n\nx,90\n"), SubmitOptions{}).ok());
}

// A run's members are written several hundred to a statement: every person of a population
// larger than one statement (and not a multiple of it) is a member of that run, and no one else.
TEST_F(GovTest, EveryPersonOfALargePopulationIsAMemberOfTheRun) {
  const std::string dir = dir_ + "/large";
  ASSERT_TRUE(MakeDirs(dir).ok());
  auto data = store::testing::MakeData(1000, 1, 5, 2);
  for (auto& p : data.persons) p.flags = kLinkedByNhsNumber | kOptOutKnown;
  ASSERT_TRUE(store::testing::WriteData(dir + "/store", data).ok());
  auto store = Store::Open(dir + "/store");
  ASSERT_TRUE(store.ok());
  std::vector<PersonKey> pop;
  for (PersonKey k = 0; k < 1000; k += (k % 7 == 3 ? 2 : 1)) pop.push_back(k);  // skips one in seven
  auto r = RecordRun(*cat_, *ledger_, **store, ana_, p_, {"gp"}, "def", pop, "2026-01-01");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->population, static_cast<int64_t>(pop.size()));
  auto q = cat_->Prepare("SELECT person FROM gov_run_members WHERE run = ? ORDER BY person").value();
  q->Bind(1, r->id);
  std::vector<PersonKey> members;
  while (*q->Step()) members.push_back(static_cast<PersonKey>(q->Int(0)));
  EXPECT_EQ(members, pop);
  auto r2 = RecordRun(*cat_, *ledger_, **store, ana_, p_, {"gp"}, "def", {1, 2, 999}, "2026-01-01");
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  auto n = cat_->Prepare("SELECT count(*) FROM gov_run_members WHERE run = ?").value();
  n->Bind(1, r2->id);
  ASSERT_TRUE(*n->Step());
  EXPECT_EQ(n->Int(0), 3);
}

TEST_F(GovTest, CitizenSeesTheProjectsThatUsedThem) {
  std::string pseud(64, 'b');
  GivePseudonym(pseud, 5);
  EXPECT_TRUE(CitizenUses(*cat_, pseud)->empty());
  Run();
  auto uses = CitizenUses(*cat_, pseud);
  ASSERT_EQ(uses->size(), 1u);
  EXPECT_EQ((*uses)[0].project, "p1");
  EXPECT_EQ((*uses)[0].purpose, "research");
}

// gov_run_members is keyed by run first (recording a run does not grow with the runs before it);
// a catalog made before that, keyed by person first, is written and read the same.
TEST_F(GovTest, RunMembersInEitherKeyOrderAreRecordedAndSeenByTheCitizen) {
  std::string pseud(64, 'b');
  GivePseudonym(pseud, 5);
  auto key_order = [&] {
    auto q = cat_->Prepare("SELECT sql FROM sqlite_master WHERE name = 'gov_run_members'").value();
    return *q->Step() ? q->Text(0) : std::string();
  };
  EXPECT_NE(key_order().find("PRIMARY KEY (run, person)"), std::string::npos) << key_order();
  for (bool old_layout : {false, true}) {
    if (old_layout) {
      ASSERT_TRUE(cat_->Exec("DROP TABLE gov_run_members; CREATE TABLE gov_run_members (person INTEGER NOT NULL, "
                             "run INTEGER NOT NULL, PRIMARY KEY (person, run)) WITHOUT ROWID;").ok());
      ASSERT_NE(key_order().find("PRIMARY KEY (person, run)"), std::string::npos);
    }
    auto before = CitizenUses(*cat_, pseud);
    ASSERT_TRUE(before.ok()) << before.status().ToString();
    auto r = RecordRun(*cat_, *ledger_, *store_, ana_, p_, {"gp"}, "def", {3, 5, 11}, "2026-01-01");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    auto other = RecordRun(*cat_, *ledger_, *store_, ana_, p_, {"gp"}, "def", {4, 6}, "2026-01-02");
    ASSERT_TRUE(other.ok()) << other.status().ToString();
    auto q = cat_->Prepare("SELECT run, person FROM gov_run_members WHERE run >= ? ORDER BY run, person").value();
    q->Bind(1, r->id);
    std::vector<std::pair<int64_t, int64_t>> rows;
    while (*q->Step()) rows.emplace_back(q->Int(0), q->Int(1));
    EXPECT_EQ(rows, (std::vector<std::pair<int64_t, int64_t>>{{r->id, 3}, {r->id, 5}, {r->id, 11}, {other->id, 4}, {other->id, 6}}))
        << (old_layout ? "keyed by person first" : "keyed by run first");
    auto after = CitizenUses(*cat_, pseud);
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after->size(), before->size() + 1) << (old_layout ? "keyed by person first" : "keyed by run first");
  }
}

// Issue 13: a citizen's receipt needs the code their custodian issued for their pseudonym; it
// shows their uses only; a wrong or spent code is refused and ledgered (throttled).
TEST_F(GovTest, CitizenReceiptNeedsTheCodeIssuedForThem) {
  const std::string mine(64, 'b'), theirs(64, 'c');
  GivePseudonym(mine, 5);
  GivePseudonym(theirs, 6);
  const Actor gp = *Authenticate(*cat_, "gp", *AddUser(*cat_, &admin_, "gp", {"custodian"}));
  EXPECT_EQ(IssueReceiptCode(*cat_, ana_, mine, false).status().code(), StatusCode::kPermissionDenied);  // an analyst cannot
  EXPECT_NE(Refusals().find("only a custodian (or an admin) issues citizen receipt codes"), std::string::npos);
  auto code = IssueReceiptCode(*cat_, gp, mine, false);
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(ReadFile(dir_ + "/catalog.db")->find(*code), std::string::npos);  // only its hash is kept
  auto unused = IssueReceiptCode(*cat_, gp, std::string(64, 'd'), false);  // a pseudonym no run used
  ASSERT_TRUE(unused.ok());
  Run();
  const int64_t t = 1'000'000;
  auto uses = CitizenReceipt(*cat_, *code, t);
  ASSERT_TRUE(uses.ok()) << uses.status().ToString();
  ASSERT_EQ(uses->size(), 1u);
  EXPECT_EQ((*uses)[0].project, "p1");
  EXPECT_TRUE(CitizenReceipt(*cat_, *unused, t)->empty());  // another person's code shows their uses, not mine
  // A wrong code: refused and on the ledger.
  EXPECT_EQ(CitizenReceipt(*cat_, "ark-rc-" + std::string(32, '0'), t).status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(Refusals().find("wrong citizen receipt code"), std::string::npos);
  // A one-time code works once.
  auto once = IssueReceiptCode(*cat_, gp, theirs, true);
  ASSERT_TRUE(once.ok());
  EXPECT_TRUE(CitizenReceipt(*cat_, *once, t).ok());
  EXPECT_EQ(CitizenReceipt(*cat_, *once, t).status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(Refusals().find("was for one use and has been used"), std::string::npos);
}

// Issue 14: a citizen records a local objection with their receipt code; it is on the ledger
// (without their pseudonym) and takes effect at the next run, failing closed.
TEST_F(GovTest, CitizenObjectionTakesEffectAtTheNextRun) {
  const std::string mine(64, 'b');
  GivePseudonym(mine, 5);
  const Actor gp = *Authenticate(*cat_, "gp", *AddUser(*cat_, &admin_, "gp", {"custodian"}));
  auto code = IssueReceiptCode(*cat_, gp, mine, false);
  ASSERT_TRUE(code.ok());
  Run();  // person 5 is in this run's population
  const int64_t t = 1'000'000;
  auto before = CitizenLookup(*cat_, *code, t);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(before->uses.size(), 1u);
  EXPECT_FALSE(before->objected());
  // A wrong code records nothing.
  EXPECT_EQ(RecordObjection(*cat_, "ark-rc-" + std::string(32, '1'), t).status().code(), StatusCode::kPermissionDenied);
  uint64_t ex = 0;
  EXPECT_EQ(FilterPopulation(*cat_, *store_, p_, all_, &ex)->size(), 198u);
  const uint64_t entries = ledger_->size();
  auto after = RecordObjection(*cat_, *code, t);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_TRUE(after->objected());
  EXPECT_EQ(after->optouts, std::vector<std::string>{"local"});
  EXPECT_EQ(after->uses.size(), 1u);  // past uses stay on the receipt
  EXPECT_EQ(ledger_->size(), entries + 1);
  auto text = ReadFile(dir_ + "/ledger/entries.jsonl");
  EXPECT_NE(text->find("\"type\":\"citizen.objected\",\"kind\":\"local\""), std::string::npos);
  EXPECT_EQ(text->find(mine), std::string::npos);  // never the pseudonym
  // Again: nothing changes, nothing is added.
  ASSERT_TRUE(RecordObjection(*cat_, *code, t).ok());
  EXPECT_EQ(ledger_->size(), entries + 1);
  // The next run leaves them out; a population that includes them is refused.
  auto pop = FilterPopulation(*cat_, *store_, p_, all_, &ex);
  EXPECT_EQ(ex, 3u);
  EXPECT_EQ(std::count(pop->begin(), pop->end(), 5u), 0);
  std::vector<PersonKey> with_five = {1, 2, 5};
  auto refused = RecordRun(*cat_, *ledger_, *store_, ana_, p_, {"gp"}, "def", with_five, "2026-01-01");
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(RecordRun(*cat_, *ledger_, *store_, ana_, p_, {"gp"}, "def", *pop, "2026-01-01").ok());
  EXPECT_EQ(CitizenLookup(*cat_, *code, t)->uses.size(), 1u);  // the new run did not use them
}

TEST_F(GovTest, WrongReceiptCodesAreLedgeredThrottledAndLockedOut) {
  const Actor gp = *Authenticate(*cat_, "gp", *AddUser(*cat_, &admin_, "gp", {"custodian"}));
  auto code = IssueReceiptCode(*cat_, gp, std::string(64, 'b'), false);
  ASSERT_TRUE(code.ok());
  const int64_t t = 1'000'000;
  const uint64_t before = ledger_->size();
  auto on_ledger = [&] { return ledger_->size() - before; };
  for (int i = 0; i < kLockoutFailures; ++i) EXPECT_FALSE(CitizenReceipt(*cat_, "guess" + std::to_string(i), t + i).ok());
  EXPECT_EQ(on_ledger(), static_cast<uint64_t>(kLedgeredRefusals));  // the rest only counted
  // Locked out for the window, even with the right code; then it works, and the next wrong code
  // is ledgered with the count of those that were not.
  EXPECT_NE(CitizenReceipt(*cat_, *code, t + 30).status().message().find("too many wrong receipt codes"), std::string::npos);
  EXPECT_TRUE(CitizenReceipt(*cat_, *code, t + kWindowSeconds + kLockoutFailures).ok());
  EXPECT_FALSE(CitizenReceipt(*cat_, "guess", t + kWindowSeconds + 10).ok());
  EXPECT_EQ(on_ledger(), static_cast<uint64_t>(kLedgeredRefusals) + 1);
  EXPECT_NE(Refusals().find("more refused receipt codes in the last 600 s not ledgered one by one"), std::string::npos) << Refusals();
}

TEST_F(GovTest, DifferentialPrivacyBudgetIsTrackedPerProject) {
  EXPECT_EQ(*SpendDpBudget(*cat_, "p1", 1, 2), 500000);
  EXPECT_EQ(*SpendDpBudget(*cat_, "p1", 1, 4), 250000);
  EXPECT_FALSE(SpendDpBudget(*cat_, "p1", 1, 2).ok());
  EXPECT_NE(Refusals().find("epsilon left"), std::string::npos);
  EXPECT_TRUE(SpendDpBudget(*cat_, "other", 1, 2).ok());
}

TEST_F(GovTest, SizeBands) {
  EXPECT_EQ(SizeBand(3), "<10");
  EXPECT_EQ(SizeBand(10), "10-99");
  EXPECT_EQ(SizeBand(1463), "1000-9999");
}

}  // namespace
}  // namespace ark::gov
