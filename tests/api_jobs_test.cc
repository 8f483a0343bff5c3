// The analyst's routes on a real `ark serve` (docs/api.md, "Jobs"): a definition checked with its
// errors at line and column, run on dummy data then on the Ark as jobs followed to the end through
// GET /jobs/{id}, its measures read by the owner only, and one submitted for output checking (it
// appears pending in the checker's queue); a job queued when the server is killed ends failed at
// the next start, and a queued job is cancelled (the worker is held by the ARK_JOBS_HOLD hook, so
// nothing depends on timing). A pathway analysis as a job: refused for a bad pathway, an unknown
// field and a non-member; run through the gate as its owner with its stages in the log; its
// report is the very report.html `ark pathways --project` writes, served to the owner only; its
// published count is in the job and on the ledger; a queued one is cancelled.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "core/process.h"
#include "governance/governance.h"
#include "governance/ledger.h"
#include "server/test_util.h"
#include "study/dummy.h"

namespace ark::server {
namespace {

using nlohmann::json;
using live::testing::Http;

constexpr const char* kDefinition = R"(name: api_jobs
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

// A dummy-data Ark (feed "dummy") with an admin, an analyst "ana", a checker "olive", and project
// p1 approved for the feed with ana as its person.
struct Ark {
  std::string ark, log;
  std::string admin, ana, olive;  // "user:token"
  explicit Ark(const std::string& name) {
    const std::string dir = ::testing::TempDir() + "ark_api_jobs_" + name + "_" + std::to_string(::getpid());
    std::filesystem::remove_all(dir);
    EXPECT_TRUE(MakeDirs(dir).ok());
    ark = dir + "/ark";
    log = dir + "/serve.log";
    auto def = study::ParseDefinition(kDefinition, "def", "");
    EXPECT_TRUE(def.ok()) << def.status().ToString();
    EXPECT_TRUE(study::MakeDummyArk(*def, ark, {.people = 300, .seed = 9, .threads = 1}).ok());
    auto cat = Catalog::Open(ark);
    EXPECT_TRUE(cat.ok());
    auto t = gov::AddUser(**cat, nullptr, "admin", {"admin"});
    EXPECT_TRUE(t.ok());
    admin = "admin:" + *t;
    const gov::Actor by{"admin", {"admin"}};
    t = gov::AddUser(**cat, &by, "ana", {"analyst"});
    ana = "ana:" + *t;
    t = gov::AddUser(**cat, &by, "olive", {"output_checker"});
    olive = "olive:" + *t;
    gov::Project p;
    p.id = "p1";
    p.title = "diabetes by sex";
    p.legal_basis = "UK GDPR 6(1)(e)";
    p.datasets = {"dummy"};
    p.people = {"ana"};
    p.start = "2020-01-01";
    p.end = "2099-12-31";
    EXPECT_TRUE(gov::CreateProject(**cat, by, p).ok());
    auto ledger = gov::Ledger::Open(ark);
    EXPECT_TRUE(ledger.ok());
    EXPECT_TRUE(gov::ApproveProject(**cat, **ledger, by, "p1", gov::Today(), "fine").ok());
  }
  std::string Ledger() const {
    auto t = ReadFile(ark + "/ledger/entries.jsonl");
    return t.ok() ? *t : "";
  }
};

// A pathway over the dummy Ark: diabetes codes, then any other event (docs/pathways.md).
constexpr const char* kPathway = R"(name: diabetes_path
title: Diabetes and what follows
activities:
  - {name: Diabetes, codes: [SNOMED/44054006, SNOMED/73211009]}
  - {name: Any event, codes: ["*"]}
)";

json Parse(const std::string& body) { return json::parse(body, nullptr, false); }

// Polls GET /jobs/{id} until the job has finished (a bound, not a timing assertion).
json WaitJob(uint16_t port, const std::string& who, int64_t id) {
  json j;
  for (int i = 0; i < 3000; ++i) {
    auto r = Http(port, "GET", "/api/v1/jobs/" + std::to_string(id), who);
    j = Parse(r.body);
    if (r.status != 200) return j;
    const std::string state = j.value("state", "");
    if (state == "succeeded" || state == "failed" || state == "cancelled") return j;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return j;
}

TEST(ApiJobs, CheckRunOnDummyThenOnTheArkAndRequestRelease) {
  Ark a("flow");
  auto started = StartServe(ARK_BINARY, a.ark, a.log, {}, 20000);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  const ServeProcess proc = *started;
  const uint16_t port = proc.http;

  // Check: an unknown key at line 7, column 18 (the key, after "{"); a codelist file at line 3; a good definition.
  std::string typo = kDefinition;
  typo.replace(typo.find("{exists:"), 8, "{exist: ");
  auto r = Http(port, "POST", "/api/v1/definitions/check", a.ana, json{{"definition", typo}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  json check = Parse(r.body);
  EXPECT_FALSE(check.at("ok").get<bool>());
  ASSERT_EQ(check.at("errors").size(), 1u) << r.body;
  EXPECT_EQ(check["errors"][0].at("line"), 7) << r.body;
  EXPECT_EQ(check["errors"][0].at("column"), 18) << r.body;
  EXPECT_NE(check["errors"][0].at("message").get<std::string>().find("exist"), std::string::npos) << r.body;
  std::string file = kDefinition;
  file.replace(file.find("codes: [\"44054006\", \"73211009\"]"), 31, "file: /etc/passwd");
  r = Http(port, "POST", "/api/v1/definitions/check", a.ana, json{{"definition", file}}.dump());
  check = Parse(r.body);
  ASSERT_EQ(check.at("errors").size(), 1u) << r.body;
  EXPECT_EQ(check["errors"][0].at("line"), 3) << r.body;
  EXPECT_NE(check["errors"][0].at("message").get<std::string>().find("inline"), std::string::npos) << r.body;
  r = Http(port, "POST", "/api/v1/definitions/check", a.ana, json{{"definition", kDefinition}}.dump());
  EXPECT_EQ(Parse(r.body), (json{{"ok", true}, {"errors", json::array()}})) << r.body;
  // A job with a bad definition is a 400 with the errors.
  r = Http(port, "POST", "/api/v1/projects/p1/jobs", a.ana, json{{"definition", typo}, {"dummy", true}}.dump());
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Parse(r.body).at("errors")[0].at("line"), 7) << r.body;
  // Not one of p1's people: refused, and on the ledger.
  r = Http(port, "POST", "/api/v1/projects/p1/jobs", a.olive, json{{"definition", kDefinition}}.dump());
  EXPECT_EQ(r.status, 403) << r.body;

  // On dummy data, then on the Ark.
  r = Http(port, "POST", "/api/v1/projects/p1/jobs", a.ana,
           json{{"definition", kDefinition}, {"dummy", true}, {"people", 200}}.dump());
  ASSERT_EQ(r.status, 202) << r.body;
  const int64_t dummy = Parse(r.body).at("id");
  EXPECT_EQ(Parse(r.body).at("kind"), "dummy-run");
  json d = WaitJob(port, a.ana, dummy);
  ASSERT_EQ(d.value("state", ""), "succeeded") << d.dump();
  EXPECT_EQ(d.at("measures"), json::array({"diabetes_by_gender"}));
  EXPECT_TRUE(d.at("run").is_null());
  r = Http(port, "POST", "/api/v1/projects/p1/jobs", a.ana, json{{"definition", kDefinition}}.dump());
  ASSERT_EQ(r.status, 202) << r.body;
  const int64_t real = Parse(r.body).at("id");
  json j = WaitJob(port, a.ana, real);
  ASSERT_EQ(j.value("state", ""), "succeeded") << j.dump();
  EXPECT_TRUE(j.at("run").is_number_integer());
  EXPECT_EQ(j.at("progress"), 1.0);
  const std::string measure = "/api/v1/jobs/" + std::to_string(real) + "/measures/diabetes_by_gender";
  r = Http(port, "GET", measure, a.ana);
  ASSERT_EQ(r.status, 200) << r.body;
  json table = Parse(r.body);
  EXPECT_EQ(table.at("name"), "diabetes_by_gender");
  EXPECT_FALSE(table.at("columns").empty());
  EXPECT_FALSE(table.at("rows").empty());
  // Only the owner reads measures; the dataset is never a measure.
  EXPECT_EQ(Http(port, "GET", measure, a.admin).status, 403);
  EXPECT_EQ(Http(port, "GET", "/api/v1/jobs/" + std::to_string(real) + "/measures/dataset", a.ana).status, 404);
  // The owner and the admin see the job; the checker does not.
  EXPECT_EQ(Http(port, "GET", "/api/v1/jobs/" + std::to_string(real), a.olive).status, 403);
  EXPECT_EQ(Http(port, "GET", "/api/v1/jobs/" + std::to_string(real), a.admin).status, 200);
  EXPECT_EQ(Parse(Http(port, "GET", "/api/v1/jobs", a.ana).body).at("jobs").size(), 2u);
  EXPECT_EQ(Parse(Http(port, "GET", "/api/v1/jobs", a.olive).body).at("jobs").size(), 0u);
  EXPECT_EQ(Http(port, "POST", "/api/v1/jobs/" + std::to_string(real) + "/cancellation", a.ana).status, 409);

  // Release: a dummy run's measure never; the run's goes to the checker's queue, pending.
  r = Http(port, "POST", "/api/v1/outputs", a.ana, json{{"job", dummy}, {"measure", "diabetes_by_gender"}}.dump());
  EXPECT_EQ(r.status, 409) << r.body;
  r = Http(port, "POST", "/api/v1/outputs", a.ana, json{{"job", real}, {"measure", "diabetes_by_gender"}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  const json output = Parse(r.body);
  EXPECT_EQ(output.at("state"), "submitted");
  EXPECT_EQ(output.at("run"), j.at("run"));
  r = Http(port, "GET", "/api/v1/outputs", a.olive);
  ASSERT_EQ(r.status, 200);
  bool queued = false;
  for (const auto& o : Parse(r.body)) queued = queued || (o.at("id") == output.at("id") && o.at("state") == "submitted");
  EXPECT_TRUE(queued) << r.body;
  const std::string ledger = a.Ledger();
  EXPECT_NE(ledger.find("\"type\":\"run.dummy\""), std::string::npos);
  EXPECT_NE(ledger.find("\"type\":\"run.executed\""), std::string::npos);
  EXPECT_NE(ledger.find("\"by\":\"olive\""), std::string::npos);  // the refused job
  StopServe(proc);
}

TEST(ApiJobs, QueuedJobsCancelledOrEndedFailedAfterAKill) {
  Ark a("restart");
  const std::string hold = a.ark + ".hold";
  ASSERT_TRUE(WriteFileAtomic(hold, "held").ok());
  ::setenv("ARK_JOBS_HOLD", hold.c_str(), 1);
  auto started = StartServe(ARK_BINARY, a.ark, a.log, {}, 20000);
  ::unsetenv("ARK_JOBS_HOLD");
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  const json body = {{"definition", kDefinition}, {"dummy", true}};
  auto r1 = Http(started->http, "POST", "/api/v1/projects/p1/jobs", a.ana, body.dump());
  auto r2 = Http(started->http, "POST", "/api/v1/projects/p1/jobs", a.ana, body.dump());
  ASSERT_EQ(r1.status, 202) << r1.body;
  ASSERT_EQ(r2.status, 202) << r2.body;
  const int64_t first = Parse(r1.body).at("id"), second = Parse(r2.body).at("id");
  // Cancelled while queued (the worker is held): at once.
  auto c = Http(started->http, "POST", "/api/v1/jobs/" + std::to_string(second) + "/cancellation", a.ana);
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(Parse(c.body).at("state"), "cancelled");
  EXPECT_EQ(Http(started->http, "POST", "/api/v1/jobs/" + std::to_string(second) + "/cancellation", a.olive).status, 403);
  StopServe(*started, SIGKILL);

  auto again = StartServe(ARK_BINARY, a.ark, a.log, {}, 20000);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  json j = Parse(Http(again->http, "GET", "/api/v1/jobs/" + std::to_string(first), a.ana).body);
  EXPECT_EQ(j.value("state", ""), "failed") << j.dump();
  EXPECT_EQ(j.value("error", ""), "the server stopped before the job finished");
  EXPECT_EQ(Parse(Http(again->http, "GET", "/api/v1/jobs/" + std::to_string(second), a.ana).body).value("state", ""),
            "cancelled");
  // The worker is free: a new job runs to the end.
  auto r3 = Http(again->http, "POST", "/api/v1/projects/p1/jobs", a.ana, body.dump());
  ASSERT_EQ(r3.status, 202) << r3.body;
  EXPECT_EQ(WaitJob(again->http, a.ana, Parse(r3.body).at("id")).value("state", ""), "succeeded");
  StopServe(*again);
}

TEST(ApiJobs, PathwayJobThroughTheGateWithItsReportForTheOwnerOnly) {
  Ark a("pathway");
  auto started = StartServe(ARK_BINARY, a.ark, a.log, {}, 20000);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  const ServeProcess proc = *started;
  const uint16_t port = proc.http;
  const std::string jobs = "/api/v1/projects/p1/jobs";

  // Refusals: a pathway with errors (a key the format does not have, such as a file), an unknown
  // field, a kind that is not one, and someone who is not one of p1's people (on the ledger).
  std::string bad = kPathway;
  bad.replace(bad.find("title:"), 6, "file: /etc/passwd\ntitle:");
  auto r = Http(port, "POST", jobs, a.ana, json{{"kind", "pathway"}, {"pathway", bad}}.dump());
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("file"), std::string::npos) << r.body;
  r = Http(port, "POST", jobs, a.ana, json{{"kind", "pathway"}, {"pathway", kPathway}, {"dummy", true}}.dump());
  EXPECT_EQ(r.status, 400) << r.body;
  r = Http(port, "POST", jobs, a.ana, json{{"kind", "export"}, {"pathway", kPathway}}.dump());
  EXPECT_EQ(r.status, 400) << r.body;
  r = Http(port, "POST", jobs, a.ana, json{{"kind", "pathway"}}.dump());
  EXPECT_EQ(r.status, 400) << r.body;
  r = Http(port, "POST", jobs, a.olive, json{{"kind", "pathway"}, {"pathway", kPathway}}.dump());
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(a.Ledger().find("\"by\":\"olive\""), std::string::npos);

  // The owner's job: queued, then through its stages to the end.
  r = Http(port, "POST", jobs, a.ana, json{{"kind", "pathway"}, {"pathway", kPathway}}.dump());
  ASSERT_EQ(r.status, 202) << r.body;
  const json queued = Parse(r.body);
  EXPECT_EQ(queued.at("kind"), "pathway");
  EXPECT_TRUE(queued.at("cases").is_null());
  const int64_t id = queued.at("id");
  const std::string path = "/api/v1/jobs/" + std::to_string(id);
  json j = WaitJob(port, a.ana, id);
  ASSERT_EQ(j.value("state", ""), "succeeded") << j.dump();
  EXPECT_EQ(j.at("progress"), 1.0);
  std::string log;
  for (const auto& l : j.at("log")) log += l.at("message").get<std::string>() + "\n";
  for (const char* stage : {"stage gate", "stage timelines", "stage analysis", "stage report"})
    EXPECT_NE(log.find(stage), std::string::npos) << stage << "\n" << log;
  // The published count only: a multiple of 5 above 7, or redacted.
  const json cases = j.at("cases");
  ASSERT_TRUE(cases.is_number_integer() || cases == "[REDACTED]") << j.dump();
  if (cases.is_number_integer()) {
    EXPECT_EQ(cases.get<int64_t>() % 5, 0);
    EXPECT_GT(cases.get<int64_t>(), 7);
  }
  const std::string shown = cases.is_number_integer() ? std::to_string(cases.get<int64_t>()) : "[REDACTED]";
  EXPECT_NE(a.Ledger().find("\"cases_published\":\"" + shown + "\""), std::string::npos);
  EXPECT_NE(a.Ledger().find("\"command\":\"pathways\""), std::string::npos);

  // The report, to the owner: the same bytes as `ark pathways ARK PATHWAY.yaml --project` writes.
  r = Http(port, "GET", path + "/report", a.ana);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.head.find("text/html"), std::string::npos) << r.head;
  const std::string yaml = a.ark + ".pathway.yaml", out = a.ark + ".pathway_out";
  ASSERT_TRUE(WriteFileAtomic(yaml, kPathway).ok());
  const CommandOutput cli = RunCommand("ARK_TOKEN='" + a.ana.substr(4) + "' '" + std::string(ARK_BINARY) + "' pathways '" +
                                       a.ark + "' '" + yaml + "' --project p1 --as ana --out '" + out + "' 2>&1");
  ASSERT_EQ(cli.exit_code, 0) << cli.output;
  EXPECT_NE(cli.output.find(shown + " cases (project p1"), std::string::npos) << cli.output;
  auto written = ReadFile(out + "/report.html");
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(r.body, *written);
  // Not the admin's, not the checker's; a study run has no report; nothing else was written.
  EXPECT_EQ(Http(port, "GET", path + "/report", a.admin).status, 403);
  EXPECT_EQ(Http(port, "GET", path + "/report", a.olive).status, 403);
  EXPECT_EQ(Http(port, "GET", path + "/report").status, 401);
  EXPECT_EQ(Http(port, "GET", "/api/v1/jobs/99999/report", a.ana).status, 404);
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(a.ark + "/jobs/" + std::to_string(id)))
    files.push_back(e.path().lexically_relative(a.ark + "/jobs/" + std::to_string(id)).string());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"definition.yaml", "out", "out/report.html"}));
  // A study job has no report.
  r = Http(port, "POST", jobs, a.ana, json{{"kind", "run"}, {"definition", kDefinition}, {"dummy", true}}.dump());
  ASSERT_EQ(r.status, 202) << r.body;
  const int64_t study = Parse(r.body).at("id");
  ASSERT_EQ(WaitJob(port, a.ana, study).value("state", ""), "succeeded");
  EXPECT_EQ(Http(port, "GET", "/api/v1/jobs/" + std::to_string(study) + "/report", a.ana).status, 404);
  StopServe(proc);
}

TEST(ApiJobs, ExportJobWritesASqliteFileInsideTheArkOnly) {
  Ark a("export");
  auto started = StartServe(ARK_BINARY, a.ark, a.log, {}, 20000);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  const uint16_t port = started->http;
  const std::string jobs = "/api/v1/projects/p1/jobs";
  EXPECT_EQ(Http(port, "POST", jobs, a.ana, json{{"kind", "export"}, {"schema", "csv"}}.dump()).status, 400);
  EXPECT_EQ(Http(port, "POST", jobs, a.ana, json{{"kind", "export"}, {"schema", "ark"}, {"to", "/tmp/x"}}.dump()).status, 400);
  EXPECT_EQ(Http(port, "POST", jobs, a.olive, json{{"kind", "export"}, {"schema", "ark"}}.dump()).status, 403);
  for (const char* schema : {"ark", "omop"}) {
    auto r = Http(port, "POST", jobs, a.ana, json{{"kind", "export"}, {"schema", schema}}.dump());
    ASSERT_EQ(r.status, 202) << r.body;
    const int64_t id = Parse(r.body).at("id");
    EXPECT_EQ(Parse(r.body).at("kind"), "export");
    json j = WaitJob(port, a.ana, id);
    ASSERT_EQ(j.value("state", ""), "succeeded") << j.dump();
    const std::string file = "export/job-" + std::to_string(id) + ".sqlite";
    EXPECT_EQ(j.at("file"), file);
    EXPECT_TRUE(j.at("cases").is_null());
    // A SQLite database inside the Ark, with the schema's tables.
    auto head = ReadFile(a.ark + "/" + file);
    ASSERT_TRUE(head.ok());
    EXPECT_EQ(head->substr(0, 15), "SQLite format 3");
    EXPECT_NE(head->find(std::string(schema) == "omop" ? "CREATE TABLE person" : "CREATE TABLE ark_event"), std::string::npos);
  }
  const std::string ledger = a.Ledger();
  EXPECT_NE(ledger.find("\"command\":\"export\""), std::string::npos);
  EXPECT_NE(ledger.find("\"schema\":\"omop\""), std::string::npos);
  EXPECT_NE(ledger.find("\"by\":\"olive\""), std::string::npos);  // the refusal
  StopServe(*started);
}

TEST(ApiJobs, QueuedPathwayJobCancelledHasNoReport) {
  Ark a("pathway_cancel");
  const std::string hold = a.ark + ".hold";
  ASSERT_TRUE(WriteFileAtomic(hold, "held").ok());
  ::setenv("ARK_JOBS_HOLD", hold.c_str(), 1);
  auto started = StartServe(ARK_BINARY, a.ark, a.log, {}, 20000);
  ::unsetenv("ARK_JOBS_HOLD");
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  const uint16_t port = started->http;
  auto r = Http(port, "POST", "/api/v1/projects/p1/jobs", a.ana, json{{"kind", "pathway"}, {"pathway", kPathway}}.dump());
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string path = "/api/v1/jobs/" + std::to_string(Parse(r.body).at("id").get<int64_t>());
  EXPECT_EQ(Http(port, "GET", path + "/report", a.ana).status, 409);  // not finished
  EXPECT_EQ(Http(port, "POST", path + "/cancellation", a.olive).status, 403);
  auto c = Http(port, "POST", path + "/cancellation", a.ana);
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(Parse(c.body).at("state"), "cancelled");
  EXPECT_TRUE(Parse(c.body).at("cases").is_null());
  EXPECT_EQ(Http(port, "GET", path + "/report", a.ana).status, 409);
  (void)RemoveAll(hold);
  EXPECT_EQ(a.Ledger().find("\"type\":\"data.accessed\""), std::string::npos);
  StopServe(*started);
}

}  // namespace
}  // namespace ark::server
