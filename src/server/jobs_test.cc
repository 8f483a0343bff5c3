// Jobs (server/jobs.h) in process: a dummy run and a run on the Ark succeed with their measures and
// ledger entries; a job left queued or running by a stopped server ends failed at the next start;
// cancel stops a queued job at once and a running one inside the engine (deterministic: the cancel
// is made from the worker's own stage hook); a finished job cannot be cancelled; the files are
// private. A pathway job writes only its disclosure-controlled report, on the ledger, and is
// cancelled between its stages.
#include "server/jobs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "governance/governance.h"
#include "governance/ledger.h"
#include "store/store_test_util.h"
#include "study/dummy.h"

namespace ark::server {
namespace {

constexpr const char* kDefinition = R"(name: jobs
codelists:
  diabetes: {codes: ["44054006", "73211009"], system: SNOMED}
index_date: 2025-03-31
population: {registered: true, alive: true}
variables:
  has_diabetes: {exists: diabetes, to: 0d}
  gender: sex
measures:
  diabetes:
    numerator: has_diabetes
    denominator: has_diabetes
    intervals: {every: year, from: 2023-04-01, to: 2025-03-31}
  diabetes_by_gender:
    numerator: has_diabetes
    denominator: has_diabetes
    group_by: [gender]
    intervals: {every: year, from: 2023-04-01, to: 2025-03-31}
)";

// A dummy-data Ark (the "real" one for these tests) with an admin, an analyst and project p1,
// approved for the feed "dummy" with the analyst as its person.
std::string MakeArk(const std::string& name) {
  const std::string dir = store::testing::TempDir("jobs_" + name);
  std::filesystem::remove_all(dir);
  const std::string ark = dir + "/ark";
  EXPECT_TRUE(MakeDirs(dir).ok());
  auto def = study::ParseDefinition(kDefinition, "def", "");
  EXPECT_TRUE(def.ok()) << def.status().ToString();
  EXPECT_TRUE(study::MakeDummyArk(*def, ark, {.people = 300, .seed = 5, .threads = 1}).ok());
  auto cat = Catalog::Open(ark);
  EXPECT_TRUE(cat.ok());
  EXPECT_TRUE(gov::EnsureGovernanceSchema(**cat).ok());
  EXPECT_TRUE(gov::AddUser(**cat, nullptr, "admin", {"admin"}).ok());
  const gov::Actor admin{"admin", {"admin"}};
  EXPECT_TRUE(gov::AddUser(**cat, &admin, "ana", {"analyst"}).ok());
  gov::Project p;
  p.id = "p1";
  p.title = "diabetes";
  p.legal_basis = "UK GDPR 6(1)(e)";
  p.datasets = {"dummy"};
  p.people = {"ana"};
  p.start = "2020-01-01";
  p.end = "2099-12-31";
  EXPECT_TRUE(gov::CreateProject(**cat, admin, p).ok());
  auto ledger = gov::Ledger::Open(ark);
  EXPECT_TRUE(ledger.ok());
  EXPECT_TRUE(gov::ApproveProject(**cat, **ledger, admin, "p1", gov::Today(), "fine").ok());
  return ark;
}

JobRequest Request(bool dummy) {
  return JobRequest{.owner = "ana", .roles = {"analyst"}, .project = "p1", .dummy = dummy, .people = 200,
                    .definition = kDefinition};
}

// A pathway over the dummy Ark: diabetes codes, then any other event.
constexpr const char* kPathway = R"(name: diabetes_path
title: Diabetes and what follows
activities:
  - {name: Diabetes, codes: [SNOMED/44054006, SNOMED/73211009]}
  - {name: Any event, codes: ["*"]}
)";

JobRequest PathwayJob() {
  JobRequest r{.owner = "ana", .roles = {"analyst"}, .project = "p1", .definition = kPathway};
  r.kind = "pathway";
  return r;
}

std::string LedgerOf(const std::string& ark) {
  auto t = ReadFile(ark + "/ledger/entries.jsonl");
  return t.ok() ? *t : "";
}

TEST(Jobs, DummyRunThenRunOnTheArkSucceedWithMeasures) {
  const std::string ark = MakeArk("succeed");
  std::mutex ledger_mu;
  Jobs jobs(ark, &ledger_mu);
  ASSERT_TRUE(jobs.Start().ok());
  auto dummy = jobs.Add(Request(true));
  ASSERT_TRUE(dummy.ok()) << dummy.status().ToString();
  EXPECT_EQ(dummy->state, "queued");
  auto real = jobs.Add(Request(false));
  ASSERT_TRUE(real.ok());
  auto d = jobs.WaitFinished(dummy->id);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->state, "succeeded") << d->error;
  EXPECT_EQ(d->kind, "dummy-run");
  EXPECT_EQ(d->run, 0);
  EXPECT_EQ(d->measures, (std::vector<std::string>{"diabetes", "diabetes_by_gender"}));
  EXPECT_EQ(d->progress, 1.0);
  EXPECT_FALSE(d->started.empty());
  EXPECT_TRUE(PathExists(jobs.Dir(d->id) + "/ark/store"));  // the dummy Ark is the job's own
  auto r = jobs.WaitFinished(real->id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, "succeeded") << r->error;
  EXPECT_GT(r->run, 0);
  EXPECT_EQ(r->measures, (std::vector<std::string>{"diabetes", "diabetes_by_gender"}));
  const std::string ledger = LedgerOf(ark);
  EXPECT_NE(ledger.find("\"type\":\"run.dummy\""), std::string::npos);
  EXPECT_NE(ledger.find("\"type\":\"run.executed\""), std::string::npos);
  // The log names the stages; the JSON has the API's shape.
  std::string log;
  for (const auto& l : r->log) log += l.message + "\n";
  EXPECT_NE(log.find("stage evaluate"), std::string::npos) << log;
  EXPECT_NE(JobJson(*r).find("\"state\":\"succeeded\""), std::string::npos);
  // Private files.
  struct stat st {};
  ASSERT_EQ(::stat((ark + "/jobs").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((ark + "/jobs/" + std::to_string(r->id) + ".json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Finished: cancelling is refused.
  auto again = jobs.Cancel(r->id, "ana");
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
}

TEST(Jobs, RunRefusedByTheGateFailsWithTheReason) {
  const std::string ark = MakeArk("refused");
  std::mutex ledger_mu;
  Jobs jobs(ark, &ledger_mu);
  ASSERT_TRUE(jobs.Start().ok());
  JobRequest r = Request(false);
  r.owner = "admin";  // not one of p1's people
  r.roles = {"admin"};
  auto j = jobs.Add(r);
  ASSERT_TRUE(j.ok());
  auto done = jobs.WaitFinished(j->id);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, "failed");
  EXPECT_NE(done->error.find("admin"), std::string::npos) << done->error;
  EXPECT_TRUE(done->measures.empty());
}

// Holds the worker before each job until released.
struct Latch {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false, waiting = false;
  void Wait(Jobs& jobs) {
    std::unique_lock<std::mutex> l(mu);
    waiting = true;
    cv.notify_all();
    // The destructor of Jobs does not know this latch: look at stopping() now and then.
    while (!cv.wait_for(l, std::chrono::milliseconds(10), [&] { return open || jobs.stopping(); })) {
    }
  }
  void WaitUntilHeld() {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return waiting; });
  }
  void Open() {
    std::lock_guard<std::mutex> l(mu);
    open = true;
    cv.notify_all();
  }
};

TEST(Jobs, CancelQueuedAtOnceAndRunningInsideTheEngine) {
  const std::string ark = MakeArk("cancel");
  std::mutex ledger_mu;
  Latch latch;  // before jobs: the worker, joined when jobs is destroyed, may still be in it
  Jobs jobs(ark, &ledger_mu);
  jobs.before_run = [&](int64_t) { latch.Wait(jobs); };
  // The worker cancels the running job itself when it enters "evaluate": the engine's next check
  // stops it, whatever the timing.
  jobs.on_stage = [&](int64_t id, const std::string& stage) {
    if (stage == "evaluate") {
      EXPECT_TRUE(jobs.Cancel(id, "ana").ok());
    }
  };
  ASSERT_TRUE(jobs.Start().ok());
  auto first = jobs.Add(Request(false));
  auto second = jobs.Add(Request(false));
  ASSERT_TRUE(first.ok() && second.ok());
  latch.WaitUntilHeld();  // the worker holds the first; the second is queued behind it
  auto queued = jobs.Cancel(second->id, "ana");
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(queued->state, "cancelled");
  EXPECT_FALSE(queued->finished.empty());
  latch.Open();
  auto running = jobs.WaitFinished(first->id);
  ASSERT_TRUE(running.ok());
  EXPECT_EQ(running->state, "cancelled") << running->error;
  EXPECT_EQ(running->run, 0);
  EXPECT_FALSE(PathExists(jobs.Dir(first->id) + "/out"));  // nothing written
  EXPECT_EQ(LedgerOf(ark).find("\"type\":\"run.executed\""), std::string::npos);  // nothing recorded
  auto second_after = jobs.Get(second->id);
  ASSERT_TRUE(second_after.ok());
  EXPECT_EQ(second_after->state, "cancelled");
  EXPECT_TRUE(second_after->started.empty());  // never ran
}

TEST(Jobs, UnfinishedJobsOfAStoppedServerEndFailedAtTheNextStart) {
  const std::string ark = MakeArk("restart");
  std::mutex ledger_mu;
  int64_t held = 0, queued = 0;
  {
    Latch latch;  // before jobs: the worker, joined when jobs is destroyed, may still be in it
    Jobs jobs(ark, &ledger_mu);
    jobs.before_run = [&](int64_t) { latch.Wait(jobs); };
    ASSERT_TRUE(jobs.Start().ok());
    held = jobs.Add(Request(true))->id;
    queued = jobs.Add(Request(true))->id;
    latch.WaitUntilHeld();
  }  // the server stops with one job about to run and one queued
  // A job a crashed process left running.
  auto text = ReadFile(ark + "/jobs/" + std::to_string(queued) + ".json");
  ASSERT_TRUE(text.ok());
  std::string running = *text;
  const size_t at = running.find("\"queued\"");
  ASSERT_NE(at, std::string::npos);
  running.replace(at, 8, "\"running\"");
  ASSERT_TRUE(WriteFileAtomic(ark + "/jobs/" + std::to_string(queued) + ".json", running).ok());

  Jobs again(ark, &ledger_mu);
  ASSERT_TRUE(again.Start().ok());
  for (int64_t id : {held, queued}) {
    auto j = again.Get(id);
    ASSERT_TRUE(j.ok());
    EXPECT_EQ(j->state, "failed") << id;
    EXPECT_EQ(j->error, "the server stopped before the job finished");
    EXPECT_FALSE(j->finished.empty());
  }
  // New jobs get new ids and run.
  auto next = again.Add(Request(true));
  ASSERT_TRUE(next.ok());
  EXPECT_GT(next->id, queued);
  auto done = again.WaitFinished(next->id);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, "succeeded") << done->error;
}

TEST(Jobs, ACorruptJobFileIsReportedAndTheWorkerStillRuns) {
  const std::string ark = MakeArk("corrupt");
  ASSERT_TRUE(MakeDirs(ark + "/jobs").ok());
  ASSERT_TRUE(WriteFileAtomic(ark + "/jobs/1.json", "{not json").ok());
  std::mutex ledger_mu;
  Jobs jobs(ark, &ledger_mu);
  Status s = jobs.Start();
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("jobs/1.json"), std::string::npos) << s.message();
  // The worker runs anyway: no new job waits forever behind a bad file.
  auto j = jobs.Add(Request(true));
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ(j->id, 2);  // the bad file keeps its id
  EXPECT_EQ(*ReadFile(ark + "/jobs/1.json"), "{not json");
  auto done = jobs.WaitFinished(j->id);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, "succeeded") << done->error;
}

TEST(Jobs, WorkDirectoriesOfJobsFinishedBeforeTheRetentionArePrunedTheRecordsKept) {
  const std::string ark = MakeArk("prune");
  std::mutex ledger_mu;
  int64_t id = 0;
  {
    Jobs jobs(ark, &ledger_mu);
    ASSERT_TRUE(jobs.Start().ok());
    auto j = jobs.Add(Request(true));
    ASSERT_TRUE(j.ok());
    id = j->id;
    ASSERT_EQ(jobs.WaitFinished(id)->state, "succeeded");
  }
  ASSERT_TRUE(PathExists(ark + "/jobs/" + std::to_string(id) + "/out"));
  // Within the retention (7 days by default): kept.
  {
    Jobs jobs(ark, &ledger_mu);
    ASSERT_TRUE(jobs.Start().ok());
    EXPECT_FALSE(jobs.Get(id)->pruned);
  }
  EXPECT_TRUE(PathExists(ark + "/jobs/" + std::to_string(id)));
  // Finished long ago (its record says 2020): its work directory goes, its record stays.
  const std::string file = ark + "/jobs/" + std::to_string(id) + ".json";
  std::string text = *ReadFile(file);
  auto j = nlohmann::json::parse(text);
  j["finished"] = "2020-01-01T00:00:00Z";
  ASSERT_TRUE(WriteFileAtomic(file, j.dump()).ok());
  Jobs jobs(ark, &ledger_mu);
  ASSERT_TRUE(jobs.Start().ok());
  auto pruned = jobs.Get(id);
  ASSERT_TRUE(pruned.ok());
  EXPECT_TRUE(pruned->pruned);
  EXPECT_EQ(pruned->state, "succeeded");
  EXPECT_EQ(pruned->measures, (std::vector<std::string>{"diabetes", "diabetes_by_gender"}));
  EXPECT_NE(pruned->log.back().message.find("work files deleted"), std::string::npos);
  EXPECT_FALSE(PathExists(ark + "/jobs/" + std::to_string(id)));
  EXPECT_TRUE(PathExists(file));
  // A retention of 0 days prunes a job as soon as the next one has finished.
  Jobs now(ark, &ledger_mu);
  now.retention_seconds = 0;
  ASSERT_TRUE(now.Start().ok());
  auto first = now.Add(Request(true));
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(now.WaitFinished(first->id)->state, "succeeded");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // finished times are in whole seconds
  auto second = now.Add(Request(true));
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(now.WaitFinished(second->id)->state, "succeeded");
  EXPECT_TRUE(now.Get(first->id)->pruned);
  EXPECT_FALSE(PathExists(now.Dir(first->id)));
}

TEST(Jobs, PathwayWritesOnlyTheReportAndIsOnTheLedger) {
  const std::string ark = MakeArk("pathway");
  std::mutex ledger_mu;
  Jobs jobs(ark, &ledger_mu);
  ASSERT_TRUE(jobs.Start().ok());
  auto j = jobs.Add(PathwayJob());
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ(j->kind, "pathway");
  auto done = jobs.WaitFinished(j->id);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, "succeeded") << done->error;
  EXPECT_EQ(done->progress, 1.0);
  EXPECT_EQ(done->run, 0);
  EXPECT_TRUE(done->measures.empty());
  // The published count: rounded to 5, or redacted.
  ASSERT_FALSE(done->cases.empty());
  if (done->cases != "[REDACTED]") EXPECT_EQ(std::stoll(done->cases) % 5, 0) << done->cases;
  std::string log;
  for (const auto& l : done->log) log += l.message + "\n";
  for (const char* stage : {"stage gate", "stage timelines", "stage analysis", "stage report"})
    EXPECT_NE(log.find(stage), std::string::npos) << stage << "\n" << log;
  // Only report.html: no event log, no exact figures.
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(jobs.Dir(j->id) + "/out"))
    files.push_back(e.path().filename().string());
  EXPECT_EQ(files, std::vector<std::string>{"report.html"});
  const std::string ledger = LedgerOf(ark);
  EXPECT_NE(ledger.find("\"type\":\"data.accessed\""), std::string::npos);
  EXPECT_NE(ledger.find("\"pathway_sha256\""), std::string::npos);
  EXPECT_NE(ledger.find("\"cases_published\":\"" + done->cases + "\""), std::string::npos) << ledger;
  // The JSON carries the published count (a number, or "[REDACTED]").
  const std::string json = JobJson(*done);
  EXPECT_NE(json.find("\"cases\":" + (done->cases == "[REDACTED]" ? "\"[REDACTED]\"" : done->cases)),
            std::string::npos) << json;
  // Stored and loaded again.
  Jobs again(ark, &ledger_mu);
  (void)again.Start();
  auto loaded = again.Get(j->id);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->cases, done->cases);
}

TEST(Jobs, PathwayRefusedByTheGateOrCancelledBetweenStages) {
  const std::string ark = MakeArk("pathway_cancel");
  std::mutex ledger_mu;
  Jobs jobs(ark, &ledger_mu);
  // The worker cancels the running pathway itself when it enters "timelines": it stops before
  // the analysis, whatever the timing.
  jobs.on_stage = [&](int64_t id, const std::string& stage) {
    if (stage == "timelines") EXPECT_TRUE(jobs.Cancel(id, "ana").ok());
  };
  ASSERT_TRUE(jobs.Start().ok());
  JobRequest outsider = PathwayJob();
  outsider.owner = "admin";  // not one of p1's people
  outsider.roles = {"admin"};
  auto refused = jobs.Add(outsider);
  auto cancelled = jobs.Add(PathwayJob());
  ASSERT_TRUE(refused.ok() && cancelled.ok());
  auto r = jobs.WaitFinished(refused->id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, "failed");
  EXPECT_NE(r->error.find("admin"), std::string::npos) << r->error;
  EXPECT_TRUE(r->cases.empty());
  auto c = jobs.WaitFinished(cancelled->id);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->state, "cancelled") << c->error;
  EXPECT_TRUE(c->cases.empty());
  EXPECT_FALSE(PathExists(jobs.Dir(c->id) + "/out/report.html"));
  const std::string ledger = LedgerOf(ark);
  EXPECT_EQ(ledger.find("\"type\":\"data.accessed\""), std::string::npos);  // nothing released
  EXPECT_NE(ledger.find("\"by\":\"admin\""), std::string::npos);            // the refusal
}

}  // namespace
}  // namespace ark::server
