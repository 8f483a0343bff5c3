// The HTTP API /api/v1 of a real `ark serve` on a loopback port, walked with real HTTP requests
// (docs/api.md):
//  - ApiMatrix.EveryRoleOnEveryRoute: every role (anonymous included) × every route of the served
//    OpenAPI description → the expected status; fails on a route of the description that has no
//    row (and on a row whose route is not described). Every response is then validated against
//    its schema in the description by ajv (tests/api/validate_responses.mjs, pinned in
//    tests/api/package-lock.json; `make test` installs it).
//    The jobs' rows use finished jobs (on dummy data and on the Ark) and queued ones held by the
//    ARK_JOBS_HOLD test hook, so every status is deterministic.
//  - ApiSession.*: the cookie's attributes, CSRF, sign-out, throttling, and the ledger.
//  - ApiBadInput.*: oversized bodies, malformed JSON, path traversal, unknown routes, each refused
//    while /healthz keeps answering.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "core/net.h"
#include "core/process.h"
#include "governance/citizen.h"
#include "governance/governance.h"
#include "governance/lifecycle.h"
#include "governance/ledger.h"
#include "governance/release.h"
#include "privacy/key.h"
#include "server/api.h"
#include "server/serve_process.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace ark::server {
namespace {

using nlohmann::json;

struct Reply {
  int status = 0;
  std::string head, body;
  std::string Header(const std::string& name) const {
    std::string lower_head = head, key = "\r\n" + name + ":";
    for (auto& c : lower_head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const size_t at = lower_head.find(key);
    if (at == std::string::npos) return "";
    const size_t from = at + key.size(), to = head.find("\r\n", from);
    std::string v = head.substr(from, to == std::string::npos ? std::string::npos : to - from);
    while (!v.empty() && v.front() == ' ') v.erase(0, 1);
    return v;
  }
};

// One HTTP/1.1 request with Connection: close. An event stream is read up to its first event.
Reply Request(uint16_t port, const std::string& method, const std::string& target,
              const std::vector<std::pair<std::string, std::string>>& headers = {}, const std::string& body = "",
              bool send_length = true) {
  Reply r;
  const int fd = ConnectLocal(port);
  if (fd < 0) return r;
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (send_length && (!body.empty() || method == "POST"))
    req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  (void)::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string resp;
  char buf[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) break;
    const ssize_t k = ::recv(fd, buf, sizeof buf, 0);
    if (k <= 0) break;
    resp.append(buf, static_cast<size_t>(k));
    const size_t e = resp.find("\r\n\r\n");
    if (e != std::string::npos && resp.find("text/event-stream") < e && resp.find("\n\n", e + 4) != std::string::npos)
      break;
  }
  ::close(fd);
  const size_t sp = resp.find(' ');
  if (sp != std::string::npos) r.status = std::atoi(resp.c_str() + sp + 1);
  const size_t e = resp.find("\r\n\r\n");
  r.head = resp.substr(0, e);
  if (e != std::string::npos) r.body = resp.substr(e + 4);
  return r;
}

// An Ark with a user of each role and projects to decide, served by `ark serve` on free ports.
struct Served {
  std::string ark, log;
  std::map<std::string, std::string> tokens;  // role -> "user:token"
  std::string interim;
  ServeProcess proc;

  explicit Served(const std::string& name) {
    ark = ::testing::TempDir() + "ark_api_" + name + "_" + std::to_string(::getpid());
    (void)RemoveAll(ark);
    log = ark + ".serve.log";
    (void)RemoveAll(log);
    auto cat = Catalog::Create(ark);
    EXPECT_TRUE(cat.ok()) << cat.status().ToString();
    if (!cat.ok()) return;
    auto admin_token = gov::AddUser(**cat, nullptr, "admin", {"admin"});
    EXPECT_TRUE(admin_token.ok()) << admin_token.status().ToString();
    tokens["admin"] = "admin:" + *admin_token;
    const gov::Actor admin{"admin", {"admin"}};
    for (const char* role : {"analyst", "output_checker", "custodian", "engineer", "feed"}) {
      auto t = gov::AddUser(**cat, &admin, role, {role});
      EXPECT_TRUE(t.ok()) << t.status().ToString();
      tokens[role] = std::string(role) + ":" + *t;
    }
    auto started = StartServe(ARK_BINARY, ark, log, {}, 20000);
    EXPECT_TRUE(started.ok()) << started.status().ToString();
    if (started.ok()) proc = *started;
    auto t = ReadFile(ark + "/live/api.token");
    EXPECT_TRUE(t.ok());
    interim = t.ok() ? t->substr(0, t->find('\n')) : "";
  }
  ~Served() { StopServe(proc); }
  bool ok() const { return proc.pid > 0; }
  uint16_t http() const { return proc.http; }
  std::string Ledger() const {
    auto t = ReadFile(ark + "/ledger/entries.jsonl");
    return t.ok() ? *t : "";
  }
};

json ProjectBody(const std::string& id) {
  return {{"id", id},          {"title", "COPD admissions"}, {"purpose", "research"},
          {"legal_basis", "UK GDPR 6(1)(e), 9(2)(j)"}, {"datasets", {"gp", "acute"}},
          {"people", {"analyst"}}, {"start", "2026-01-01"},   {"end", "2099-12-31"}};
}

// Signs in; returns the session cookie and the CSRF token.
std::pair<std::string, std::string> SignIn(uint16_t port, const std::string& user_token) {
  const size_t colon = user_token.find(':');
  json body = {{"user", user_token.substr(0, colon)}, {"token", user_token.substr(colon + 1)}};
  Reply r = Request(port, "POST", "/api/v1/session", {}, body.dump());
  EXPECT_EQ(r.status, 201) << r.body;
  const std::string cookie = r.Header("Set-Cookie");
  const std::string session = cookie.substr(0, cookie.find(';'));
  auto j = json::parse(r.body, nullptr, false);
  return {session, j.is_object() ? j.value("csrf_token", "") : ""};
}

// A definition whose codes are inline (definitions sent to the server read no files).
constexpr const char* kJobDefinition = R"(name: matrix
codelists:
  diabetes: {codes: ["44054006"], system: SNOMED}
index_date: 2025-03-31
population: {alive: true}
variables:
  has_diabetes: {exists: diabetes, to: 0d}
  counted: "true"
  gender: sex
measures:
  people_by_gender:
    numerator: has_diabetes
    denominator: counted
    group_by: [gender]
    intervals: {every: year, from: 2023-04-01, to: 2025-03-31}
)";

// A pathway (docs/pathways.md) over the Ark's timelines.
constexpr const char* kMatrixPathway = R"(name: matrix_path
activities:
  - {name: Diabetes, codes: [SNOMED/44054006]}
  - {name: Any event, codes: ["*"]}
)";

// Submits a job as `who` (headers) and, when `wait`, polls GET /jobs/{id} until it has finished
// (a bound, not a timing assertion). Returns the last Job seen.
json SubmitJob(uint16_t port, const std::vector<std::pair<std::string, std::string>>& who, const std::string& project,
               bool dummy, bool wait) {
  Reply r = Request(port, "POST", "/api/v1/projects/" + project + "/jobs", who,
                    json{{"definition", kJobDefinition}, {"dummy", dummy}}.dump());
  EXPECT_EQ(r.status, 202) << r.body;
  json j = json::parse(r.body, nullptr, false);
  for (int i = 0; wait && i < 3000 && j.is_object(); ++i) {
    const std::string state = j.value("state", "");
    if (state == "succeeded" || state == "failed" || state == "cancelled") break;
    ::usleep(20000);
    j = json::parse(Request(port, "GET", "/api/v1/jobs/" + std::to_string(j.value("id", 0)), who).body, nullptr, false);
  }
  return j;
}

TEST(ApiMatrix, EveryRoleOnEveryRoute) {
  const std::string node_dir = std::string(ARK_SOURCE_DIR) + "/tests/api";
  if (!PathExists(node_dir + "/node_modules/ajv/package.json")) {
    FAIL() << node_dir << "/node_modules is missing: run `make test` (it runs `npm ci --prefix tests/api`)";
  }
  // The jobs' test hook: while this file exists no job starts (created once the finished jobs
  // the rows read are done, so that the jobs the rows cancel are still queued).
  const std::string hold = ::testing::TempDir() + "ark_api_matrix_hold_" + std::to_string(::getpid());
  (void)RemoveAll(hold);
  ::setenv("ARK_JOBS_HOLD", hold.c_str(), 1);
  Served s("matrix");
  ::unsetenv("ARK_JOBS_HOLD");
  ASSERT_TRUE(s.ok());
  const uint16_t port = s.http();
  // Pending projects for the decision rows, one per role (created as the CLI does).
  {
    auto cat = Catalog::Open(s.ark);
    ASSERT_TRUE(cat.ok());
    const gov::Actor admin{"admin", {"admin"}};
    for (const char* who : {"anonymous", "interim", "admin", "analyst", "output_checker", "custodian", "engineer", "feed",
                            "session"}) {
      gov::Project p;
      p.id = std::string("d-") + who;
      p.title = "to decide";
      p.legal_basis = "UK GDPR 6(1)(e)";
      p.datasets = {"gp"};
      p.people = {"analyst"};
      p.start = "2026-01-01";
      p.end = "2099-12-31";
      ASSERT_TRUE(gov::CreateProject(**cat, admin, p).ok());
      // For the lifecycle rows: approved ones to suspend ("s-") and revoke ("r-"), a suspended
      // one to reinstate ("u-"), and a pending one to amend ("a-").
      auto ledger = gov::Ledger::Open(s.ark);
      ASSERT_TRUE(ledger.ok());
      for (const char* prefix : {"s-", "r-", "u-", "a-"}) {
        p.id = std::string(prefix) + who;
        ASSERT_TRUE(gov::CreateProject(**cat, admin, p).ok());
        if (prefix[0] == 'a') continue;
        ASSERT_TRUE(gov::ApproveProject(**cat, **ledger, admin, p.id, gov::Today(), "fine").ok());
        if (prefix[0] == 'u') ASSERT_TRUE(gov::SuspendProject(**cat, **ledger, admin, p.id, "audit").ok());
      }
    }
  }
  // A run of the analyst's approved project, and one submitted output of it per role (each role
  // reviews its own), as the CLI records them (`ark run`, `ark release submit`).
  std::map<std::string, int64_t> output_of;
  int64_t run_id = 0;
  std::string receipt_code;
  {
    auto cat = Catalog::Open(s.ark);
    ASSERT_TRUE(cat.ok());
    auto ledger = gov::Ledger::Open(s.ark);
    ASSERT_TRUE(ledger.ok());
    const gov::Actor admin{"admin", {"admin"}}, analyst{"analyst", {"analyst"}};
    gov::Project p;
    p.id = "p-out";
    p.title = "outputs";
    p.legal_basis = "UK GDPR 6(1)(e)";
    p.datasets = {"gp"};
    p.people = {"analyst"};
    p.start = "2020-01-01";
    p.end = "2099-12-31";
    ASSERT_TRUE(gov::CreateProject(**cat, admin, p).ok());
    ASSERT_TRUE(gov::ApproveProject(**cat, **ledger, admin, "p-out", gov::Today(), "meets the criteria").ok());
    auto approved = gov::GetProject(**cat, "p-out");
    ASSERT_TRUE(approved.ok());
    const std::string store_dir = s.ark + ".store";
    (void)RemoveAll(store_dir);
    auto data = store::testing::MakeData(60, 2, 3, 7);
    for (auto& person : data.persons) person.flags = kLinkedByNhsNumber | kOptOutKnown;
    ASSERT_TRUE(store::testing::WriteData(store_dir, data).ok());
    auto store = Store::Open(store_dir);
    ASSERT_TRUE(store.ok());
    std::vector<PersonKey> all;
    for (PersonKey k = 0; k < 60; ++k) all.push_back(k);
    auto run = gov::RecordRun(**cat, **ledger, **store, analyst, *approved, {"gp"}, "def", all, gov::Today());
    ASSERT_TRUE(run.ok()) << run.status().ToString();
    run_id = run->id;
    // A citizen (person 3) with a receipt code, for the citizen rows: their receipt lists the run.
    Digest pseudonym;
    ASSERT_TRUE(FromHex(std::string(64, 'b'), &pseudonym));
    auto key = (*cat)->Prepare("INSERT INTO person_keys VALUES (?, 3)");
    ASSERT_TRUE(key.ok());
    ASSERT_TRUE((*key)->BindBlob(1, pseudonym.data(), 32).Run().ok());
    auto code = gov::IssueReceiptCode(**cat, gov::Actor{"custodian", {"custodian"}}, std::string(64, 'b'), false);
    ASSERT_TRUE(code.ok()) << code.status().ToString();
    receipt_code = *code;
    const std::string csv = s.ark + ".table.csv";
    ASSERT_TRUE(WriteFileAtomic(csv, "group,count\na,30\nb,80\nc,160\n").ok());
    for (const char* who : {"anonymous", "interim", "admin", "analyst", "output_checker", "custodian", "engineer", "feed",
                            "session"}) {
      auto o = gov::SubmitOutput(**cat, **ledger, analyst, "p-out", run_id, csv, gov::SubmitOptions{});
      ASSERT_TRUE(o.ok()) << o.status().ToString();
      output_of[who] = o->id;
    }
    // The checker's output has one approval already (another checker's): theirs releases it.
    const gov::Actor first_checker{"first_checker", {"output_checker"}};
    ASSERT_TRUE(gov::DecideOutput(**cat, **ledger, first_checker, output_of["output_checker"], true, "rules applied").ok());
  }
  // Jobs of the analyst in p-out: finished on dummy data and on the Ark (its live store), and
  // queued ones (held) for the cancellation rows, one per role that may cancel and one for the rest.
  const std::vector<std::pair<std::string, std::string>> analyst_bearer = {{"Authorization", "Bearer " + s.tokens["analyst"]}};
  const json dummy_job = SubmitJob(port, analyst_bearer, "p-out", true, true);
  ASSERT_EQ(dummy_job.value("state", ""), "succeeded") << dummy_job.dump();
  const json real_job = SubmitJob(port, analyst_bearer, "p-out", false, true);
  ASSERT_EQ(real_job.value("state", ""), "succeeded") << real_job.dump();
  // A finished pathway analysis of the analyst's (a pathway over the Ark's timelines: its report).
  Reply pathway = Request(port, "POST", "/api/v1/projects/p-out/jobs", analyst_bearer,
                          json{{"kind", "pathway"}, {"pathway", kMatrixPathway}}.dump());
  ASSERT_EQ(pathway.status, 202) << pathway.body;
  json pathway_job = json::parse(pathway.body);
  for (int i = 0; i < 3000 && pathway_job.value("state", "") != "succeeded" && pathway_job.value("state", "") != "failed"; ++i) {
    ::usleep(20000);
    pathway_job = json::parse(Request(port, "GET", "/api/v1/jobs/" + std::to_string(pathway_job.value("id", 0)),
                                      analyst_bearer).body, nullptr, false);
  }
  ASSERT_EQ(pathway_job.value("state", ""), "succeeded") << pathway_job.dump();
  const std::string pathway_job_path = "/api/v1/jobs/" + std::to_string(pathway_job.value("id", 0));
  ASSERT_TRUE(WriteFileAtomic(hold, "held").ok());
  std::map<std::string, int64_t> queued_job;
  for (const char* who : {"admin", "analyst", "session", "others"})
    queued_job[who] = SubmitJob(port, analyst_bearer, "p-out", true, false).value("id", 0);
  const std::string real_job_path = "/api/v1/jobs/" + std::to_string(real_job.value("id", 0));
  const std::string first_output = std::to_string(output_of["admin"]), run_path = "/api/v1/runs/" + std::to_string(run_id);
  const auto signed_in = SignIn(port, s.tokens["analyst"]);
  const std::string cookie = signed_in.first, csrf = signed_in.second;  // (clang 14: no lambda capture of bindings)
  ASSERT_FALSE(cookie.empty());

  const std::vector<std::string> roles = {"anonymous", "interim", "admin", "analyst", "output_checker",
                                          "custodian", "engineer", "feed", "session"};
  auto headers_of = [&](const std::string& role, bool unsafe) {
    std::vector<std::pair<std::string, std::string>> h;
    if (role == "interim") h.emplace_back("Authorization", "Bearer " + s.interim);
    else if (role == "session") {
      h.emplace_back("Cookie", cookie);
      if (unsafe) h.emplace_back("X-CSRF-Token", csrf);
    } else if (role != "anonymous") h.emplace_back("Authorization", "Bearer " + s.tokens[role]);
    return h;
  };
  auto sign_in_body = [&](const std::string& role) {
    if (role == "anonymous") return json{{"user", "nobody"}, {"token", "ark_wrong"}}.dump();
    if (role == "interim") return json{{"user", "interim"}, {"token", s.interim}}.dump();
    const std::string ut = s.tokens[role == "session" ? "analyst" : role];
    return json{{"user", ut.substr(0, ut.find(':'))}, {"token", ut.substr(ut.find(':') + 1)}}.dump();
  };

  struct Row {
    std::string method, route;
    std::function<std::string(const std::string&)> path, body;
    std::map<std::string, int> expect;  // role -> status; roles not named get `others`
    int others;
  };
  auto fixed = [](std::string p) { return [p](const std::string&) { return p; }; };
  auto none = [](const std::string&) { return std::string(); };
  const std::map<std::string, int> kAnon401 = {{"anonymous", 401}};
  const std::vector<Row> rows = {
      {"GET", "/healthz", fixed("/healthz"), none, {}, 200},
      {"GET", "/api/v1/openapi.json", fixed("/api/v1/openapi.json"), none, {}, 200},
      {"GET", "/api/v1/projects", fixed("/api/v1/projects"), none, {}, 200},
      {"POST", "/api/v1/projects", fixed("/api/v1/projects"),
       [](const std::string& role) { return ProjectBody("apply-" + role).dump(); },
       {{"anonymous", 401}, {"admin", 201}, {"analyst", 201}, {"session", 201}}, 403},
      {"GET", "/api/v1/projects/{id}", fixed("/api/v1/projects/d-admin"), none, {}, 200},
      {"POST", "/api/v1/projects/{id}/decision",
       [](const std::string& role) { return "/api/v1/projects/d-" + role + "/decision"; },
       [](const std::string&) { return json{{"decision", "approve"}, {"reason", "meets the criteria"}}.dump(); },
       {{"anonymous", 401}, {"admin", 200}}, 403},
      {"POST", "/api/v1/projects/{id}/suspension",
       [](const std::string& role) { return "/api/v1/projects/s-" + role + "/suspension"; },
       [](const std::string&) { return json{{"reason", "complaint under review"}}.dump(); },
       {{"anonymous", 401}, {"admin", 200}}, 403},
      {"POST", "/api/v1/projects/{id}/reinstatement",
       [](const std::string& role) { return "/api/v1/projects/u-" + role + "/reinstatement"; },
       [](const std::string&) { return json{{"reason", "audit passed"}}.dump(); },
       {{"anonymous", 401}, {"admin", 200}}, 403},
      {"POST", "/api/v1/projects/{id}/revocation",
       [](const std::string& role) { return "/api/v1/projects/r-" + role + "/revocation"; },
       [](const std::string&) { return json{{"reason", "breach of the agreement"}}.dump(); },
       {{"anonymous", 401}, {"admin", 200}}, 403},
      {"POST", "/api/v1/projects/{id}/amendment",
       [](const std::string& role) { return "/api/v1/projects/a-" + role + "/amendment"; },
       [](const std::string&) { return json{{"reason", "clearer title"}, {"title", "COPD admissions, 2020-2025"}}.dump(); },
       {{"anonymous", 401}, {"admin", 200}}, 403},
      {"GET", "/api/v1/releases", fixed("/api/v1/releases"), none, {}, 200},
      // The citizen's routes take the code alone: the same for every role.
      {"POST", "/api/v1/citizen/receipt", fixed("/api/v1/citizen/receipt"),
       [&](const std::string&) { return json{{"code", receipt_code}}.dump(); }, {}, 200},
      {"POST", "/api/v1/citizen/objection", fixed("/api/v1/citizen/objection"),
       [&](const std::string&) { return json{{"code", receipt_code}}.dump(); }, {}, 200},
      {"GET", "/api/v1/ledger/checkpoint", fixed("/api/v1/ledger/checkpoint"), none, {}, 200},
      {"GET", "/api/v1/ledger/proof/{seq}", fixed("/api/v1/ledger/proof/0"), none, {}, 200},
      {"POST", "/api/v1/session", fixed("/api/v1/session"), sign_in_body, {{"anonymous", 401}, {"interim", 401}}, 201},
      {"GET", "/api/v1/me", fixed("/api/v1/me"), none, kAnon401, 200},
      {"GET", "/api/v1/outputs", fixed("/api/v1/outputs"), none,
       {{"anonymous", 401}, {"admin", 200}, {"output_checker", 200}, {"analyst", 200}, {"session", 200}}, 403},
      {"GET", "/api/v1/outputs/{id}", fixed("/api/v1/outputs/" + first_output), none,
       {{"anonymous", 401}, {"admin", 200}, {"output_checker", 200}, {"analyst", 200}, {"session", 200}}, 403},
      {"POST", "/api/v1/outputs/{id}/review",
       [&](const std::string& role) { return "/api/v1/outputs/" + std::to_string(output_of[role]) + "/review"; },
       [](const std::string&) { return json{{"decision", "approve"}, {"reason", "rules applied"}}.dump(); },
       {{"anonymous", 401}, {"output_checker", 200}}, 403},
      {"GET", "/api/v1/runs", fixed("/api/v1/runs"), none, {{"anonymous", 401}, {"interim", 403}}, 200},
      {"GET", "/api/v1/runs/{id}", fixed(run_path), none,
       {{"anonymous", 401}, {"admin", 200}, {"analyst", 200}, {"session", 200}}, 403},
      {"GET", "/api/v1/users", fixed("/api/v1/users"), none, {{"anonymous", 401}, {"admin", 200}}, 403},
      {"GET", "/api/v1/ledger/entries", fixed("/api/v1/ledger/entries?from=0&limit=5"), none,
       {{"anonymous", 401}, {"admin", 200}}, 403},
      {"GET", "/api/v1/live/indicators", fixed("/api/v1/live/indicators"), none, kAnon401, 200},
      {"GET", "/api/v1/live/alerts", fixed("/api/v1/live/alerts"), none, kAnon401, 200},
      {"GET", "/api/v1/live/alerts/stream", fixed("/api/v1/live/alerts/stream"), none, kAnon401, 200},
      // Operations: engineer, admin and the interim token (src/server/ops.h).
      {"GET", "/api/v1/live/feeds", fixed("/api/v1/live/feeds"), none,
       {{"anonymous", 401}, {"interim", 200}, {"admin", 200}, {"engineer", 200}}, 403},
      {"GET", "/api/v1/live/latency", fixed("/api/v1/live/latency"), none,
       {{"anonymous", 401}, {"interim", 200}, {"admin", 200}, {"engineer", 200}}, 403},
      // Jobs (api_jobs.cc): the analyst's jobs in p-out.
      {"POST", "/api/v1/definitions/check", fixed("/api/v1/definitions/check"),
       [](const std::string&) { return json{{"definition", kJobDefinition}}.dump(); }, kAnon401, 200},
      {"POST", "/api/v1/projects/{id}/jobs", fixed("/api/v1/projects/p-out/jobs"),
       [](const std::string&) { return json{{"definition", kJobDefinition}, {"dummy", true}, {"people", 50}}.dump(); },
       {{"anonymous", 401}, {"analyst", 202}, {"session", 202}}, 403},
      {"GET", "/api/v1/jobs", fixed("/api/v1/jobs"), none, {{"anonymous", 401}, {"interim", 403}}, 200},
      {"GET", "/api/v1/jobs/{id}", fixed(real_job_path), none,
       {{"anonymous", 401}, {"admin", 200}, {"analyst", 200}, {"session", 200}}, 403},
      {"POST", "/api/v1/jobs/{id}/cancellation",
       [&](const std::string& role) {
         const int64_t id = queued_job.count(role) ? queued_job[role] : queued_job["others"];
         return "/api/v1/jobs/" + std::to_string(id) + "/cancellation";
       },
       none, {{"anonymous", 401}, {"admin", 200}, {"analyst", 200}, {"session", 200}}, 403},
      {"GET", "/api/v1/jobs/{id}/measures/{name}", fixed(real_job_path + "/measures/people_by_gender"), none,
       {{"anonymous", 401}, {"analyst", 200}, {"session", 200}}, 403},
      {"GET", "/api/v1/jobs/{id}/report", fixed(pathway_job_path + "/report"), none,
       {{"anonymous", 401}, {"analyst", 200}, {"session", 200}}, 403},
      {"POST", "/api/v1/outputs", fixed("/api/v1/outputs"),
       [&](const std::string&) { return json{{"job", real_job.value("id", 0)}, {"measure", "people_by_gender"}}.dump(); },
       {{"anonymous", 401}, {"analyst", 201}, {"session", 201}}, 403},
      // Last: it ends the session of the "session" role.
      {"DELETE", "/api/v1/session", fixed("/api/v1/session"), none, kAnon401, 204},
  };

  // Every route of the served description has a row, and every row a route.
  Reply spec = Request(port, "GET", "/api/v1/openapi.json");
  ASSERT_EQ(spec.status, 200);
  const json doc = json::parse(spec.body);
  std::set<std::string> described, tabled;
  for (const auto& [path, item] : doc.at("paths").items()) {
    for (const auto& [method, op] : item.items()) {
      std::string m = method;
      for (auto& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      described.insert(m + " " + path);
    }
  }
  for (const Row& r : rows) tabled.insert(r.method + " " + r.route);
  for (const auto& d : described) EXPECT_TRUE(tabled.count(d)) << "route " << d << " has no row in the role matrix";
  for (const auto& t : tabled) EXPECT_TRUE(described.count(t)) << "row " << t << " is not in the OpenAPI description";

  json recorded = json::array();
  for (const Row& row : rows) {
    for (const std::string& role : roles) {
      const bool unsafe = row.method != "GET";
      const int want = row.expect.count(role) ? row.expect.at(role) : row.others;
      Reply r = Request(port, row.method, row.path(role), headers_of(role, unsafe), row.body(role));
      EXPECT_EQ(r.status, want) << role << " " << row.method << " " << row.path(role) << ": " << r.body;
      recorded.push_back({{"method", row.method}, {"route", row.route}, {"status", r.status},
                          {"content_type", r.Header("Content-Type")}, {"body", r.body}, {"role", role}});
    }
  }
  (void)RemoveAll(hold);
  // A finished job cannot be cancelled; a dummy run's measures are not released.
  EXPECT_EQ(Request(port, "POST", real_job_path + "/cancellation", headers_of("analyst", true)).status, 409);
  EXPECT_EQ(Request(port, "POST", "/api/v1/outputs", headers_of("analyst", true),
                    json{{"job", dummy_job.value("id", 0)}, {"measure", "people_by_gender"}}.dump())
                .status,
            409);
  // The checker's approval is on the ledger and in the public releases; it cannot be decided again.
  const std::string released = std::to_string(output_of["output_checker"]);
  EXPECT_NE(s.Ledger().find("\"type\":\"output.released\""), std::string::npos);
  EXPECT_NE(Request(port, "GET", "/api/v1/releases").body.find("\"id\":" + released + ","), std::string::npos);
  EXPECT_EQ(Request(port, "POST", "/api/v1/outputs/" + released + "/review", headers_of("output_checker", true),
                    json{{"decision", "reject"}, {"reason", "second thoughts"}}.dump())
                .status,
            409);
  // A first approval waits for a second checker; the same checker approving again is refused.
  const std::string waiting = std::to_string(output_of["admin"]);
  Reply first = Request(port, "POST", "/api/v1/outputs/" + waiting + "/review", headers_of("output_checker", true),
                        json{{"decision", "approve"}, {"reason", "rules applied"}}.dump());
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(json::parse(first.body).value("state", ""), "submitted");
  EXPECT_EQ(json::parse(first.body).at("reviews").size(), 1u);
  EXPECT_EQ(Request(port, "POST", "/api/v1/outputs/" + waiting + "/review", headers_of("output_checker", true),
                    json{{"decision", "approve"}, {"reason", "again"}}.dump())
                .status,
            403);
  // Bad ids and queries are 400s; an unknown output 404.
  EXPECT_EQ(Request(port, "GET", "/api/v1/outputs/abc", headers_of("admin", false)).status, 400);
  EXPECT_EQ(Request(port, "GET", "/api/v1/outputs/99999", headers_of("admin", false)).status, 404);
  EXPECT_EQ(Request(port, "GET", "/api/v1/ledger/entries?limit=0", headers_of("admin", false)).status, 400);
  Reply entries = Request(port, "GET", "/api/v1/ledger/entries?from=1&limit=2", headers_of("admin", false));
  ASSERT_EQ(entries.status, 200);
  EXPECT_EQ(json::parse(entries.body).at("entries").size(), 2u);
  EXPECT_EQ(json::parse(entries.body).at("entries")[0].at("seq"), 1);
  // The old live paths are aliases.
  EXPECT_EQ(Request(port, "GET", "/api/live/indicators", headers_of("interim", false)).status, 200);
  EXPECT_EQ(Request(port, "GET", "/api/live/indicators").status, 401);
  EXPECT_EQ(Request(port, "GET", "/api/v1/healthz").status, 200);

  const std::string file = s.ark + "/recorded_responses.json";
  ASSERT_TRUE(WriteFileAtomic(file, recorded.dump()).ok());
  ASSERT_TRUE(WriteFileAtomic(s.ark + "/openapi.json", spec.body).ok());
  const CommandOutput check = RunCommand("cd '" + node_dir + "' && node validate_responses.mjs '" + s.ark +
                                         "/openapi.json' '" + file + "' 2>&1");
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find(std::to_string(recorded.size()) + " responses checked"), std::string::npos)
      << check.output;
}

// One source of truth: the binary serves the checked-in description, and serves exactly its routes.
TEST(ApiSpec, EmbeddedDocumentIsTheCheckedInFileAndMatchesTheRoutes) {
  auto file = ReadFile(std::string(ARK_SOURCE_DIR) + "/docs/api/openapi.json");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(std::string(OpenApiSpec()), *file) << "rebuild: the embedded description is stale";
  const json doc = json::parse(OpenApiSpec());
  std::set<std::string> described;
  for (const auto& [path, item] : doc.at("paths").items()) {
    for (const auto& [method, op] : item.items()) {
      std::string m = method;
      for (auto& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      described.insert(m + " " + path);
    }
  }
  Auth auth("unused", "");
  Api api("unused", nullptr, &auth);
  const auto routes = api.Routes();
  EXPECT_EQ(std::set<std::string>(routes.begin(), routes.end()), described);
}

TEST(ApiSession, CookieCsrfSignOutAndTheLedger) {
  Served s("session");
  ASSERT_TRUE(s.ok());
  const uint16_t port = s.http();
  const std::string& ana = s.tokens["analyst"];
  json body = {{"user", "analyst"}, {"token", ana.substr(ana.find(':') + 1)}};
  Reply in = Request(port, "POST", "/api/v1/session", {}, body.dump());
  ASSERT_EQ(in.status, 201) << in.body;
  const std::string set_cookie = in.Header("Set-Cookie");
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos) << set_cookie;
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos) << set_cookie;
  EXPECT_EQ(set_cookie.find("Secure"), std::string::npos) << "no TLS here: " << set_cookie;
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  const std::string csrf = json::parse(in.body).at("csrf_token");
  Reply me = Request(port, "GET", "/api/v1/me", {{"Cookie", cookie}});
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(json::parse(me.body).at("user"), "analyst");
  EXPECT_EQ(json::parse(me.body).at("via"), "session");
  // An unsafe request of the session without (or with a wrong) CSRF token is refused.
  const std::string apply = ProjectBody("csrf-1").dump();
  EXPECT_EQ(Request(port, "POST", "/api/v1/projects", {{"Cookie", cookie}}, apply).status, 403);
  EXPECT_EQ(Request(port, "POST", "/api/v1/projects", {{"Cookie", cookie}, {"X-CSRF-Token", "00"}}, apply).status, 403);
  EXPECT_EQ(Request(port, "POST", "/api/v1/projects", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}, apply).status, 201);
  // Sign-out ends the session.
  EXPECT_EQ(Request(port, "DELETE", "/api/v1/session", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}).status, 204);
  EXPECT_EQ(Request(port, "GET", "/api/v1/me", {{"Cookie", cookie}}).status, 401);
  // On the ledger: the sign-in, the refusals (CSRF), the application, the sign-out.
  const std::string ledger = s.Ledger();
  EXPECT_NE(ledger.find("\"type\":\"session.started\",\"by\":\"analyst\""), std::string::npos) << ledger;
  EXPECT_NE(ledger.find("X-CSRF-Token"), std::string::npos) << ledger;
  EXPECT_NE(ledger.find("\"route\":\"POST /api/v1/projects\""), std::string::npos) << ledger;
  EXPECT_NE(ledger.find("\"type\":\"session.ended\",\"by\":\"analyst\""), std::string::npos) << ledger;
  // The committee's decision through the API: reject with a reason, on the ledger.
  Reply rej = Request(port, "POST", "/api/v1/projects/csrf-1/decision", {{"Authorization", "Bearer " + s.tokens["admin"]}},
                      json{{"decision", "reject"}, {"reason", "no legal basis for the acute feed"}}.dump());
  EXPECT_EQ(rej.status, 200) << rej.body;
  EXPECT_EQ(json::parse(rej.body).at("status"), "rejected");
  EXPECT_NE(s.Ledger().find("\"type\":\"project.rejected\",\"id\":\"csrf-1\""), std::string::npos);
  // The latest entry is provable under the latest checkpoint, and the proof verifies (also after
  // the ledger grew since the last proof was served).
  uint64_t previous = 0;
  for (int round = 0; round < 2; ++round) {
    Reply cp = Request(port, "GET", "/api/v1/ledger/checkpoint");
    ASSERT_EQ(cp.status, 200);
    const uint64_t size = json::parse(cp.body).at("size");
    EXPECT_GT(size, previous);
    previous = size;
    Reply proof = Request(port, "GET", "/api/v1/ledger/proof/" + std::to_string(size - 1));
    ASSERT_EQ(proof.status, 200) << proof.body;
    EXPECT_EQ(json::parse(proof.body).at("treeSize"), size);
    const std::string file = s.ark + "/proof" + std::to_string(round) + ".json";
    ASSERT_TRUE(WriteFileAtomic(file, proof.body).ok());
    const CommandOutput v = RunCommand(std::string(ARK_BINARY) + " ledger verify-proof '" + file + "' 2>&1");
    EXPECT_EQ(v.exit_code, 0) << v.output;
    EXPECT_EQ(Request(port, "GET", "/api/v1/ledger/proof/" + std::to_string(size)).status, 404);
    // The ledger grows: a refusal of a request without a valid credential (once a minute per address).
    EXPECT_EQ(Request(port, "POST", "/api/v1/projects", {{"Authorization", "Bearer wrong-" + std::to_string(round)}},
                      ProjectBody("x").dump())
                  .status,
              401);
  }
  // The ledger is public (proofs, bundles): no client address is written onto it, for a sign-in or a
  // refusal.
  const std::string after = s.Ledger();
  EXPECT_NE(after.find("\"type\":\"refusal\""), std::string::npos) << after;
  EXPECT_EQ(after.find("127.0.0.1"), std::string::npos) << after;
  // A decided project cannot be decided again.
  EXPECT_EQ(Request(port, "POST", "/api/v1/projects/csrf-1/decision", {{"Authorization", "Bearer " + s.tokens["admin"]}},
                    json{{"decision", "approve"}, {"reason", "second thoughts"}}.dump())
                .status,
            409);
}

// The committee's lifecycle through the API: each action with its reason on the ledger; only an
// admin acts; bad bodies are 400s naming the field; a state that does not allow it is a 409.
TEST(ApiCommittee, SuspendReinstateAmendRevokeWithReasonsOnTheLedger) {
  Served s("lifecycle");
  ASSERT_TRUE(s.ok());
  const uint16_t port = s.http();
  const std::vector<std::pair<std::string, std::string>> admin = {{"Authorization", "Bearer " + s.tokens["admin"]}},
                                                           analyst = {{"Authorization", "Bearer " + s.tokens["analyst"]}};
  ASSERT_EQ(Request(port, "POST", "/api/v1/projects", analyst, ProjectBody("life").dump()).status, 201);
  auto act = [&](const std::string& action, const json& body, const std::vector<std::pair<std::string, std::string>>& who) {
    return Request(port, "POST", "/api/v1/projects/life/" + action, who, body.dump());
  };
  auto status_of = [&](const Reply& r) { return json::parse(r.body).value("status", ""); };
  // Pending: it cannot be suspended yet; it can be amended.
  EXPECT_EQ(act("suspension", {{"reason", "early"}}, admin).status, 409);
  Reply am = act("amendment", {{"reason", "only the GP feed is needed"}, {"datasets", {"gp"}}, {"end", "2098-12-31"}}, admin);
  ASSERT_EQ(am.status, 200) << am.body;
  EXPECT_EQ(json::parse(am.body).at("datasets"), json({"gp"}));
  EXPECT_EQ(json::parse(am.body).at("end"), "2098-12-31");
  EXPECT_EQ(status_of(am), "pending");
  ASSERT_EQ(Request(port, "POST", "/api/v1/projects/life/decision", admin,
                    json{{"decision", "approve"}, {"reason", "meets the criteria"}}.dump()).status, 200);
  // The analyst (not the committee) is refused, on the ledger; the project is unchanged.
  Reply refused = act("suspension", {{"reason", "I say so"}}, analyst);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_NE(s.Ledger().find("only an admin (the committee) may suspend projects"), std::string::npos);
  EXPECT_EQ(act("revocation", {{"reason", "I say so"}}, analyst).status, 403);
  EXPECT_EQ(act("amendment", {{"reason", "mine"}, {"people", {"analyst", "custodian"}}}, analyst).status, 403);
  // Bad bodies.
  for (const std::string& action : {"suspension", "reinstatement", "revocation", "amendment"}) {
    Reply missing = act(action, json::object(), admin);
    EXPECT_EQ(missing.status, 400) << action;
    EXPECT_NE(missing.body.find("'reason'"), std::string::npos) << missing.body;
    EXPECT_EQ(act(action, {{"reason", ""}}, admin).status, 400) << action;
    EXPECT_EQ(act(action, {{"reason", 7}}, admin).status, 400) << action;
    EXPECT_EQ(Request(port, "POST", "/api/v1/projects/life/" + action, admin, "{\"reason\":").status, 400) << action;
  }
  EXPECT_EQ(act("suspension", {{"reason", "r"}, {"until", "2027-01-01"}}, admin).status, 400);
  Reply typo = act("amendment", {{"reason", "r"}, {"titel", "x"}}, admin);
  EXPECT_EQ(typo.status, 400);
  EXPECT_NE(typo.body.find("'titel' cannot be amended"), std::string::npos) << typo.body;
  EXPECT_EQ(act("amendment", {{"reason", "r"}}, admin).status, 400);  // changes nothing
  EXPECT_EQ(act("amendment", {{"reason", "r"}, {"people", "analyst"}}, admin).status, 400);
  EXPECT_EQ(act("amendment", {{"reason", "r"}, {"end", "2098-02-30"}}, admin).status, 400);
  EXPECT_EQ(Request(port, "POST", "/api/v1/projects/nope/revocation", admin, json{{"reason", "r"}}.dump()).status, 404);
  // Suspend, reinstate, revoke: each on the ledger with its reason; revoked is final.
  Reply sus = act("suspension", {{"reason", "complaint under review"}}, admin);
  ASSERT_EQ(sus.status, 200) << sus.body;
  EXPECT_EQ(status_of(sus), "suspended");
  EXPECT_EQ(act("suspension", {{"reason", "again"}}, admin).status, 409);
  Reply rein = act("reinstatement", {{"reason", "complaint not upheld"}}, admin);
  ASSERT_EQ(rein.status, 200) << rein.body;
  EXPECT_EQ(status_of(rein), "approved");
  Reply rev = act("revocation", {{"reason", "breach of the data sharing agreement"}}, admin);
  ASSERT_EQ(rev.status, 200) << rev.body;
  EXPECT_EQ(status_of(rev), "revoked");
  EXPECT_EQ(act("reinstatement", {{"reason", "undo"}}, admin).status, 409);
  EXPECT_EQ(act("amendment", {{"reason", "undo"}, {"title", "x"}}, admin).status, 409);
  EXPECT_EQ(status_of(Request(port, "GET", "/api/v1/projects/life")), "revoked");
  const std::string ledger = s.Ledger();
  for (const char* e : {"\"type\":\"project.amended\",\"id\":\"life\",\"by\":\"admin\",\"reason\":\"only the GP feed is needed\"",
                        "\"type\":\"project.suspended\",\"id\":\"life\",\"by\":\"admin\",\"reason\":\"complaint under review\"",
                        "\"type\":\"project.reinstated\",\"id\":\"life\",\"by\":\"admin\",\"reason\":\"complaint not upheld\"",
                        "\"type\":\"project.revoked\",\"id\":\"life\",\"by\":\"admin\",\"reason\":\"breach of the data sharing agreement\""})
    EXPECT_NE(ledger.find(e), std::string::npos) << e << "\n" << ledger;
}

// A citizen's receipt and objection through the API, by the code alone: the receipt lists the
// run that used them; bad bodies are 400s; a wrong code and a spent one-time code get the same
// 403; the objection is on the ledger (never the code or the pseudonym) and the next run leaves
// them out; wrong codes from one address are throttled (429) even for a right code.
TEST(ApiCitizen, ReceiptAndObjectionByCodeOnly) {
  Served s("citizen");
  ASSERT_TRUE(s.ok());
  const uint16_t port = s.http();
  const std::string pseud(64, 'b');
  std::string code, once;
  const std::string store_dir = s.ark + ".store";
  std::vector<PersonKey> all;
  gov::Project project;
  {
    auto cat = Catalog::Open(s.ark);
    ASSERT_TRUE(cat.ok());
    auto ledger = gov::Ledger::Open(s.ark);
    ASSERT_TRUE(ledger.ok());
    const gov::Actor admin{"admin", {"admin"}}, analyst{"analyst", {"analyst"}}, gp{"custodian", {"custodian"}};
    gov::Project p;
    p.id = "p-cit";
    p.title = "Heart failure readmissions";
    p.legal_basis = "UK GDPR 6(1)(e)";
    p.datasets = {"gp"};
    p.people = {"analyst"};
    p.start = "2020-01-01";
    p.end = "2099-12-31";
    ASSERT_TRUE(gov::CreateProject(**cat, admin, p).ok());
    ASSERT_TRUE(gov::ApproveProject(**cat, **ledger, admin, "p-cit", gov::Today(), "fine").ok());
    project = *gov::GetProject(**cat, "p-cit");
    (void)RemoveAll(store_dir);
    auto data = store::testing::MakeData(20, 2, 3, 7);
    for (auto& person : data.persons) person.flags = kLinkedByNhsNumber | kOptOutKnown;
    ASSERT_TRUE(store::testing::WriteData(store_dir, data).ok());
    auto store = Store::Open(store_dir);
    ASSERT_TRUE(store.ok());
    for (PersonKey k = 0; k < 20; ++k) all.push_back(k);
    ASSERT_TRUE(gov::RecordRun(**cat, **ledger, **store, analyst, project, {"gp"}, "def", all, gov::Today()).ok());
    Digest d;
    ASSERT_TRUE(FromHex(pseud, &d));
    ASSERT_TRUE((*cat)->Prepare("INSERT INTO person_keys VALUES (?, 3)").value()->BindBlob(1, d.data(), 32).Run().ok());
    code = *gov::IssueReceiptCode(**cat, gp, pseud, false);
    once = *gov::IssueReceiptCode(**cat, gp, std::string(64, 'c'), true);
  }
  auto post = [&](const std::string& route, const std::string& body,
                  const std::vector<std::pair<std::string, std::string>>& h = {}) {
    return Request(port, "POST", "/api/v1/citizen/" + route, h, body);
  };
  auto with = [](const std::string& c) { return json{{"code", c}}.dump(); };
  // The receipt: the run that used them; no objection yet; not cached.
  Reply r = post("receipt", with(code));
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  ASSERT_EQ(j.at("uses").size(), 1u) << r.body;
  EXPECT_EQ(j.at("uses")[0].at("project"), "p-cit");
  EXPECT_EQ(j.at("uses")[0].at("purpose"), "research");
  EXPECT_EQ(j.at("objected"), false);
  EXPECT_EQ(r.Header("Cache-Control"), "no-store");
  std::string upper = code;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_EQ(post("receipt", with("  " + upper + " ")).status, 200);
  // Bad bodies: 400, naming the field.
  EXPECT_EQ(post("receipt", "{\"code\":").status, 400);
  EXPECT_EQ(post("receipt", "[]").status, 400);
  EXPECT_NE(post("receipt", "{}").body.find("'code'"), std::string::npos);
  EXPECT_EQ(post("receipt", json{{"code", 12}}.dump()).status, 400);
  EXPECT_EQ(post("receipt", json{{"code", code}, {"nhs_number", "9434765919"}}.dump()).status, 400);
  Reply malformed = post("objection", with("ark-rc-not-a-code"));
  EXPECT_EQ(malformed.status, 400);
  EXPECT_NE(malformed.body.find("32 hex digits"), std::string::npos) << malformed.body;
  EXPECT_EQ(post("receipt", std::string(2000, ' ')).status, 413);
  // A wrong code and a spent one-time code: the same refusal.
  EXPECT_EQ(post("receipt", with(once)).status, 200);
  Reply spent = post("receipt", with(once));
  Reply wrong = post("receipt", with("ark-rc-" + std::string(32, '0')));
  EXPECT_EQ(spent.status, 403);
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(spent.body, wrong.body);
  // A signed-in user asking is not linked to the code on the ledger.
  EXPECT_EQ(post("receipt", with(code), {{"Authorization", "Bearer " + s.tokens["admin"]}}).status, 200);
  EXPECT_EQ(s.Ledger().find("citizen/receipt"), std::string::npos);
  // The objection: on record, on the ledger once, and the next run leaves them out.
  Reply obj = post("objection", with(code));
  ASSERT_EQ(obj.status, 200) << obj.body;
  EXPECT_EQ(json::parse(obj.body).at("objected"), true);
  EXPECT_EQ(json::parse(obj.body).at("optouts"), json({"local"}));
  EXPECT_EQ(post("objection", with(code)).status, 200);
  EXPECT_EQ(json::parse(post("receipt", with(code)).body).at("objected"), true);
  const std::string ledger = s.Ledger();
  const size_t first = ledger.find("\"type\":\"citizen.objected\"");
  EXPECT_NE(first, std::string::npos) << ledger;
  EXPECT_EQ(ledger.find("\"type\":\"citizen.objected\"", first + 1), std::string::npos) << "recorded twice";
  EXPECT_EQ(ledger.find(code), std::string::npos);
  EXPECT_EQ(ledger.find(pseud), std::string::npos);
  {
    auto cat = Catalog::Open(s.ark);
    ASSERT_TRUE(cat.ok());
    auto store = Store::Open(store_dir);
    ASSERT_TRUE(store.ok());
    uint64_t excluded = 0;
    auto pop = gov::FilterPopulation(**cat, **store, project, all, &excluded);
    ASSERT_TRUE(pop.ok());
    EXPECT_EQ(excluded, 1u);
    EXPECT_EQ(std::count(pop->begin(), pop->end(), PersonKey{3}), 0);
  }
  // Wrong codes from this address: throttled, then even the right code waits.
  for (int i = 1; i < 25; ++i) {
    Reply guess = post("receipt", with("ark-rc-" + std::string(31, '0') + std::to_string(i % 10)));
    if (guess.status == 429) break;
    EXPECT_EQ(guess.status, 403);
  }
  Reply throttled = post("receipt", with(code));
  EXPECT_EQ(throttled.status, 429) << throttled.body;
  EXPECT_FALSE(throttled.Header("Retry-After").empty());
  EXPECT_EQ(s.Ledger().find("127.0.0.1"), std::string::npos);
}

TEST(ApiSession, SignInIsThrottledPerUser) {
  Served s("throttle");
  ASSERT_TRUE(s.ok());
  const std::string& ana = s.tokens["analyst"];
  const json wrong = {{"user", "analyst"}, {"token", "ark_wrong"}};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Request(s.http(), "POST", "/api/v1/session", {}, wrong.dump()).status, 401);
  // Throttled now, even with the right token.
  Reply r = Request(s.http(), "POST", "/api/v1/session", {},
                    json{{"user", "analyst"}, {"token", ana.substr(ana.find(':') + 1)}}.dump());
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_FALSE(r.Header("Retry-After").empty());
  EXPECT_NE(s.Ledger().find("HTTP 429 on POST /api/v1/session"), std::string::npos);
  // Another user is not throttled (5 failures from this address are under its limit of 20).
  const std::string& adm = s.tokens["admin"];
  EXPECT_EQ(Request(s.http(), "POST", "/api/v1/session", {},
                    json{{"user", "admin"}, {"token", adm.substr(adm.find(':') + 1)}}.dump())
                .status,
            201);
}

TEST(ApiBadInput, RefusedCleanlyWhileHealthzAnswers) {
  Served s("bad");
  ASSERT_TRUE(s.ok());
  const uint16_t port = s.http();
  const std::vector<std::pair<std::string, std::string>> admin = {{"Authorization", "Bearer " + s.tokens["admin"]}};
  // Oversized: the JSON routes take 64 KiB.
  Reply big = Request(port, "POST", "/api/v1/projects", admin, std::string(70000, ' '));
  EXPECT_EQ(big.status, 413) << big.body;
  // Announced but never sent: refused from the head.
  Reply announced = Request(port, "POST", "/api/v1/session", {{"Content-Length", "100000000"}}, "", false);
  EXPECT_EQ(announced.status, 413) << announced.body;
  // Malformed JSON: 400 naming the problem and the place.
  Reply bad = Request(port, "POST", "/api/v1/projects", admin, "{\"id\": \"x\",");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("malformed JSON"), std::string::npos) << bad.body;
  EXPECT_NE(bad.body.find("column"), std::string::npos) << bad.body;
  json wrong_type = ProjectBody("t");
  wrong_type["datasets"] = "gp";
  Reply typed = Request(port, "POST", "/api/v1/projects", admin, wrong_type.dump());
  EXPECT_EQ(typed.status, 400);
  EXPECT_NE(typed.body.find("'datasets'"), std::string::npos) << typed.body;
  // Path traversal, raw and escaped.
  for (const char* t : {"/api/v1/../../etc/passwd", "/api/v1/projects/..%2F..%2Fetc%2Fpasswd",
                        "/api/v1/projects/%2e%2e", "/api/v1/ledger/proof/..%2f..%2fledger.key"}) {
    Reply r = Request(port, "GET", t);
    EXPECT_EQ(r.status, 400) << t << ": " << r.body;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << t;
  }
  // Unknown routes, a wrong method, a bad sequence number.
  EXPECT_EQ(Request(port, "GET", "/api/v1/nope").status, 404);
  EXPECT_EQ(Request(port, "GET", "/api/v1/projects/no-such-project").status, 404);
  Reply method = Request(port, "PUT", "/api/v1/projects", admin, "{}");
  EXPECT_EQ(method.status, 405);
  EXPECT_EQ(method.Header("Allow"), "GET, POST");
  EXPECT_EQ(Request(port, "GET", "/api/v1/ledger/proof/abc").status, 400);
  EXPECT_EQ(Request(port, "GET", "/api/v1/ledger/proof/999999").status, 404);
  // Still serving.
  Reply h = Request(port, "GET", "/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_NE(h.body.find("\"status\":\"ok\""), std::string::npos);
}

// The public web app at / of a real `ark serve`: under the CSP, only its embedded assets, no
// traversal out of /assets (raw or percent-encoded), and the API it reads is public.
TEST(ApiWeb, AppAtRootUnderCspAndNoTraversal) {
  Served s("web");
  ASSERT_TRUE(s.ok());
  const uint16_t port = s.http();
  const std::string csp =
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
      "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
  for (const char* p : {"/", "/index.html", "/assets/app.js", "/assets/proof.js", "/assets/app.css"}) {
    Reply r = Request(port, "GET", p);
    EXPECT_EQ(r.status, 200) << p;
    EXPECT_EQ(r.Header("Content-Security-Policy"), csp) << p;
    EXPECT_EQ(r.Header("X-Content-Type-Options"), "nosniff") << p;
  }
  Reply root = Request(port, "GET", "/");
  EXPECT_EQ(root.Header("Content-Type").rfind("text/html", 0), 0u) << root.head;
  EXPECT_NE(root.body.find("<script type=\"module\" src=\"/assets/app.js\""), std::string::npos);
  for (const char* p : {"/assets/../../etc/passwd", "/assets/..%2f..%2f..%2f..%2fetc%2fpasswd",
                        "/assets/%2e%2e/%2e%2e/etc/passwd", "/../../../../etc/passwd", "/assets/nope.js",
                        "/assets/..%2f..%2fledger%2fledger.key"}) {
    Reply r = Request(port, "GET", p);
    EXPECT_TRUE(r.status == 400 || r.status == 404) << p << ": " << r.status << " " << r.body;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << p;
    EXPECT_EQ(r.Header("Content-Security-Policy"), csp) << p;
  }
  EXPECT_EQ(Request(port, "GET", "/assets/../../etc/passwd").status, 400);
  EXPECT_EQ(Request(port, "POST", "/", {}, "{}").status, 405);
  // What the page reads answers without credentials.
  for (const char* p : {"/api/v1/projects", "/api/v1/releases", "/api/v1/ledger/checkpoint"})
    EXPECT_EQ(Request(port, "GET", p).status, 200) << p;
  EXPECT_EQ(Request(port, "GET", "/healthz").status, 200);
}

}  // namespace
}  // namespace ark::server
