// The analyst's routes (docs/api.md, "Jobs"): checking a definition, runs and pathway analyses as
// jobs (server/jobs.h), a job's measures, a pathway job's report, and submitting a measure for
// output checking.
//
// Who sees what: a job is seen (GET, cancellation) by its owner and admins; its measures only by
// its owner (they are not released: an admin or a checker sees them once they are submitted as an
// output); a pathway job's report only by its owner. Jobs are submitted by governance users (not the interim token): a dummy run by one of the
// project's people, a run on the Ark by whoever the gate admits (gov::Admit: approved project, one of
// its people, within its dates), checked at submission and again when the job starts.
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "catalog/catalog.h"
#include "core/csv.h"
#include "core/fs.h"
#include "governance/gate.h"
#include "governance/governance.h"
#include "governance/ledger.h"
#include "governance/release.h"
#include "runs/steps.h"
#include "server/api.h"
#include "server/api_ctx.h"
#include "server/api_json.h"
#include "pathways/pathway.h"
#include "server/definition_check.h"
#include "study/run.h"

namespace ark::server {

using OJson = nlohmann::ordered_json;

namespace {

ApiResponse JobResponse(int status, const Job& j) {
  ApiResponse r;
  r.status = status;
  r.body = JobJson(j);
  return r;
}

// Only fields in `allowed`; a typo would otherwise silently change nothing.
Status OnlyFields(const OJson& j, std::initializer_list<const char*> allowed) {
  for (const auto& [k, v] : j.items()) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || k == a;
    if (!ok) return Status::InvalidArgument("field '" + k + "' is not expected");
  }
  return Status::OK();
}

Result<std::string> DefinitionOf(const OJson& j) {
  auto it = j.find("definition");
  if (it == j.end() || !it->is_string()) return Status::InvalidArgument("field 'definition' must be the definition's YAML text");
  return it->get<std::string>();
}

OJson ErrorsJson(const std::vector<DefinitionError>& errors) {
  OJson a = OJson::array();
  for (const auto& e : errors) a.push_back({{"line", e.line}, {"column", e.column}, {"message", e.message}});
  return a;
}

Result<int64_t> JobIdOf(const std::string& s) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos)
    return Status::InvalidArgument("job '" + s + "' is not a number (1, 2, ...)");
  return static_cast<int64_t>(std::stoll(s));
}

bool IsUser(const Principal& p) { return p.kind == Principal::Kind::kUser; }

// The job `id_text` names, for a signed-in user (the interim token has no jobs): 403, 400 for an
// id that is not a number, 404 for no such job. Who may see it is the caller's to check.
Result<Job> FindJob(const Jobs& jobs, const Principal& who, const std::string& id_text) {
  if (!IsUser(who)) return Status::PermissionDenied("the interim API token has no jobs: sign in as a user");
  ARK_ASSIGN_OR_RETURN(int64_t id, JobIdOf(id_text));
  return jobs.Get(id);
}

// A CSV cell as JSON: empty -> null, a whole decimal number -> number, else the text.
OJson Cell(std::string_view v) {
  if (v.empty()) return nullptr;
  const std::string s(v);
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  if (end && *end == '\0' && s.find_first_not_of("0123456789.-+eE") == std::string::npos) {
    if (s.find_first_of(".eE") == std::string::npos && s.size() < 16) return std::stoll(s);
    return d;
  }
  return s;
}

}  // namespace

void Api::StartJobs(int retention_days) {
  jobs_ = std::make_unique<Jobs>(ark_dir_, &LedgerMutex());
  jobs_->retention_seconds = static_cast<int64_t>(retention_days) * 86400;
  // Test hook (tests/api_jobs_test.cc): while the file ARK_JOBS_HOLD names exists, no job starts.
  if (const char* hold = std::getenv("ARK_JOBS_HOLD"); hold && *hold) {
    Jobs* jobs = jobs_.get();
    jobs_->before_run = [jobs, file = std::string(hold)](int64_t) {
      while (PathExists(file) && !jobs->stopping()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    };
  }
  Status s = jobs_->Start();
  if (!s.ok()) std::fprintf(stderr, "api: jobs: %s\n", s.ToString().c_str());
}

ApiResponse Api::DefinitionCheck(Ctx& c) {
  auto j = BodyObject(c.req.body);
  if (!j.ok()) return FromStatus(j.status());
  if (Status s = OnlyFields(*j, {"definition"}); !s.ok()) return FromStatus(s);
  auto def = DefinitionOf(*j);
  if (!def.ok()) return FromStatus(def.status());
  const auto errors = CheckDefinition(*def);
  return Json(200, OJson{{"ok", errors.empty()}, {"errors", ErrorsJson(errors)}});
}

namespace {

// The gate now, for an answer at once (the job passes it again when it starts), under the ledger
// mutex as a job's own gate is (runs::AdmitLocked). *ledgered: a refusal is on the ledger
// (governance logged it).
Status AdmitNow(std::mutex& ledger_mutex, Catalog& cat, const std::string& user, const std::vector<std::string>& roles,
                const std::string& project, const char* command, bool every_feed, bool* ledgered) {
  gov::GateRequest g;
  g.command = command, g.project = project, g.user = user, g.every_feed = every_feed;
  g.identified = gov::Actor{user, roles};
  Status s = runs::AdmitLocked(cat, g, &ledger_mutex).status();
  if (s.code() == StatusCode::kPermissionDenied) *ledgered = true;
  return s;
}

// The gate now (AdmitNow, as command `command`), then the job queued: 202 with the job, or the
// refusal or error.
ApiResponse AdmitAndQueue(Jobs& jobs, std::mutex& ledger_mutex, const std::string& ark_dir, const JobRequest& r,
                          const char* command, bool every_feed, bool* ledgered) {
  auto cat = Catalog::Open(ark_dir);
  if (!cat.ok()) return FromStatus(cat.status());
  if (Status s = AdmitNow(ledger_mutex, **cat, r.owner, r.roles, r.project, command, every_feed, ledgered); !s.ok())
    return FromStatus(s);
  auto job = jobs.Add(r);
  if (!job.ok()) return FromStatus(job.status());
  return JobResponse(202, *job);
}

}  // namespace

// A pathway analysis: {"kind": "pathway", "pathway": "<YAML text>"}. The pathway format names no
// files (its keys are checked: docs/pathways.md), so the server reads nothing the YAML points at.
ApiResponse Api::PathwaySubmit(Ctx& c, const OJson& j) {
  const Principal& who = c.req.who;
  if (Status s = OnlyFields(j, {"kind", "pathway"}); !s.ok()) return FromStatus(s);
  auto it = j.find("pathway");
  if (it == j.end() || !it->is_string()) return Error(400, "field 'pathway' must be the pathway definition's YAML text");
  JobRequest r;
  r.owner = who.user;
  r.roles = who.roles;
  r.project = c.params[0];
  r.kind = "pathway";
  r.definition = it->get<std::string>();
  if (auto def = pathways::ParsePathwayDefinition(r.definition, "pathway"); !def.ok())
    return Error(400, "the pathway definition has errors: " + def.status().message());
  return AdmitAndQueue(*jobs_, LedgerMutex(), ark_dir_, r, "pathways", /*every_feed=*/true, &c.ledgered);
}

// An export: {"kind": "export", "schema": "ark"|"omop"}, into ARK/export/job-<id>.sqlite. The
// file stays in the Ark (the job names it; no route serves it).
ApiResponse Api::ExportSubmit(Ctx& c, const OJson& j) {
  const Principal& who = c.req.who;
  if (Status s = OnlyFields(j, {"kind", "schema"}); !s.ok()) return FromStatus(s);
  auto it = j.find("schema");
  if (it == j.end() || !it->is_string() || (*it != "ark" && *it != "omop"))
    return Error(400, "field 'schema' must be \"ark\" (what runs read) or \"omop\" (OMOP CDM 5.4)");
  JobRequest r;
  r.owner = who.user;
  r.roles = who.roles;
  r.project = c.params[0];
  r.kind = "export";
  r.schema = it->get<std::string>();
  return AdmitAndQueue(*jobs_, LedgerMutex(), ark_dir_, r, "export", /*every_feed=*/true, &c.ledgered);
}

ApiResponse Api::JobSubmit(Ctx& c) {
  const Principal& who = c.req.who;
  if (!IsUser(who)) return Error(403, "the interim API token cannot run studies: sign in as a user");
  auto j = BodyObject(c.req.body);
  if (!j.ok()) return FromStatus(j.status());
  if (auto k = j->find("kind"); k != j->end()) {
    if (!k->is_string() || (*k != "run" && *k != "pathway" && *k != "export"))
      return Error(400, "field 'kind' must be \"run\" (a study run, the default), \"pathway\" (a pathway analysis) "
                        "or \"export\" (an export into a SQLite file inside the Ark)");
    if (*k == "pathway") return PathwaySubmit(c, *j);
    if (*k == "export") return ExportSubmit(c, *j);
  }
  if (Status s = OnlyFields(*j, {"kind", "definition", "dummy", "people"}); !s.ok()) return FromStatus(s);
  auto def = DefinitionOf(*j);
  if (!def.ok()) return FromStatus(def.status());
  JobRequest r;
  r.owner = who.user;
  r.roles = who.roles;
  r.project = c.params[0];
  r.definition = *def;
  if (j->contains("dummy")) {
    if (!(*j)["dummy"].is_boolean()) return Error(400, "field 'dummy' must be true or false");
    r.dummy = (*j)["dummy"].get<bool>();
  }
  if (j->contains("people")) {
    if (!r.dummy) return Error(400, "field 'people' is for dummy runs only");
    if (!(*j)["people"].is_number_integer() || (*j)["people"].get<int64_t>() < 1 || (*j)["people"].get<int64_t>() > 100000)
      return Error(400, "field 'people' must be a whole number from 1 to 100000");
    r.people = (*j)["people"].get<int>();
  }
  const auto errors = CheckDefinition(r.definition);
  if (!errors.empty()) {
    const auto& e = errors.front();
    return Json(400, OJson{{"error", "the definition has errors (first at line " + std::to_string(e.line) + ", column " +
                                           std::to_string(e.column) + "): " + e.message},
                             {"errors", ErrorsJson(errors)}});
  }
  if (!r.dummy) return AdmitAndQueue(*jobs_, LedgerMutex(), ark_dir_, r, "run", /*every_feed=*/false, &c.ledgered);
  // No data is read: one of the project's people may try a definition before approval.
  auto cat = Catalog::Open(ark_dir_);
  if (!cat.ok()) return FromStatus(cat.status());
  auto p = gov::GetProject(**cat, r.project);
  if (!p.ok()) return FromStatus(p.status());
  if (std::find(p->people.begin(), p->people.end(), who.user) == p->people.end())
    return Error(403, "dummy runs in project " + r.project + " are for the project's people");
  auto job = jobs_->Add(r);
  if (!job.ok()) return FromStatus(job.status());
  return JobResponse(202, *job);
}

ApiResponse Api::JobList(Ctx& c) {
  const Principal& who = c.req.who;
  if (!IsUser(who)) return Error(403, "the interim API token has no jobs: sign in as a user");
  ApiResponse r;
  r.body = "{\"jobs\":[";
  bool first = true;
  for (const Job& j : jobs_->List()) {
    if (j.owner != who.user && !who.Has("admin")) continue;
    if (!first) r.body += ",";
    r.body += JobJson(j);
    first = false;
  }
  r.body += "]}";
  return r;
}

ApiResponse Api::JobShow(Ctx& c) {
  const Principal& who = c.req.who;
  auto j = FindJob(*jobs_, who, c.params[0]);
  if (!j.ok()) return FromStatus(j.status());
  if (j->owner != who.user && !who.Has("admin")) return Error(403, "job " + c.params[0] + " is seen by its owner and admins");
  return JobResponse(200, *j);
}

ApiResponse Api::JobCancel(Ctx& c) {
  const Principal& who = c.req.who;
  auto j = FindJob(*jobs_, who, c.params[0]);
  if (!j.ok()) return FromStatus(j.status());
  if (j->owner != who.user && !who.Has("admin"))
    return Error(403, "job " + c.params[0] + " is cancelled by its owner or an admin");
  auto cancelled = jobs_->Cancel(j->id, who.user);
  if (!cancelled.ok()) return FromStatus(cancelled.status());
  return JobResponse(200, *cancelled);
}

// The job's finished measure table, for its owner: Job::measures names what may be read (never the
// patient-level dataset.csv).
namespace {
Result<std::string> MeasureFile(Jobs& jobs, const Principal& who, const std::string& id_text, const std::string& name,
                                Job* job) {
  ARK_ASSIGN_OR_RETURN(*job, FindJob(jobs, who, id_text));
  if (job->owner != who.user)
    return Status::PermissionDenied("the measures of job " + id_text + " are its owner's until released");
  if (job->state != "succeeded")
    return Status::FailedPrecondition("job " + id_text + " has no measures: it is " + job->state);
  if (job->pruned)
    return Status::FailedPrecondition("job " + id_text + "'s files were deleted after the server's job retention");
  if (std::find(job->measures.begin(), job->measures.end(), name) == job->measures.end())
    return Status::NotFound("job " + id_text + " has no measure '" + name + "'");
  return jobs.Dir(job->id) + "/out/measures/" + name + ".csv";
}
}  // namespace

ApiResponse Api::JobMeasure(Ctx& c) {
  Job job;
  auto file = MeasureFile(*jobs_, c.req.who, c.params[0], c.params[1], &job);
  if (!file.ok()) return FromStatus(file.status());
  auto csv = CsvFile::Open(*file);
  if (!csv.ok()) return FromStatus(csv.status());
  OJson rows = OJson::array();
  Status s = csv->ForEachRow([&](int64_t, const std::vector<std::string_view>& row) {
    OJson r = OJson::array();
    for (std::string_view v : row) r.push_back(Cell(v));
    rows.push_back(std::move(r));
    return Status::OK();
  });
  if (!s.ok()) return FromStatus(s);
  return Json(200, OJson{{"name", c.params[1]}, {"columns", csv->header()}, {"rows", rows}});
}

// A finished pathway job's report.html (disclosure-controlled: what `ark pathways --project`
// writes), for its owner only. Never the event log nor exact counts: the job wrote neither.
ApiResponse Api::JobReport(Ctx& c) {
  const Principal& who = c.req.who;
  auto j = FindJob(*jobs_, who, c.params[0]);
  if (!j.ok()) return FromStatus(j.status());
  if (j->owner != who.user) return Error(403, "the report of job " + c.params[0] + " is its owner's");
  if (j->kind != "pathway") return Error(404, "job " + c.params[0] + " is a " + j->kind + ": only a pathway job has a report");
  if (j->state != "succeeded") return Error(409, "job " + c.params[0] + " has no report: it is " + j->state);
  if (j->pruned) return Error(409, "job " + c.params[0] + "'s report was deleted after the server's job retention");
  auto html = ReadFile(jobs_->Dir(j->id) + "/out/report.html");
  if (!html.ok()) return FromStatus(html.status());
  ApiResponse r;
  r.body = std::move(*html);
  r.content_type = "text/html; charset=utf-8";
  return r;
}

ApiResponse Api::OutputSubmit(Ctx& c) {
  const Principal& who = c.req.who;
  if (!IsUser(who)) return Error(403, "the interim API token cannot submit outputs: sign in as a user");
  auto j = BodyObject(c.req.body);
  if (!j.ok()) return FromStatus(j.status());
  if (Status s = OnlyFields(*j, {"job", "measure"}); !s.ok()) return FromStatus(s);
  if (!j->contains("job") || !(*j)["job"].is_number_integer()) return Error(400, "field 'job' must be a job id (1, 2, ...)");
  if (!j->contains("measure") || !(*j)["measure"].is_string()) return Error(400, "field 'measure' must be a measure's name");
  const std::string id = std::to_string((*j)["job"].get<int64_t>()), measure = (*j)["measure"].get<std::string>();
  Job job;
  auto file = MeasureFile(*jobs_, who, id, measure, &job);
  if (!file.ok()) return FromStatus(file.status());
  if (job.kind != "run")
    return Error(409, "job " + id + " ran on dummy data: only a run on the Ark has outputs to release");
  auto cat = Catalog::Open(ark_dir_);
  if (!cat.ok()) return FromStatus(cat.status());
  Result<gov::OutputRecord> r = Status::Internal("unset");
  {
    std::lock_guard<std::mutex> l(LedgerMutex());
    auto ledger = gov::Ledger::Open(ark_dir_);
    if (!ledger.ok()) return FromStatus(ledger.status());
    r = gov::SubmitOutput(**cat, **ledger, gov::Actor{who.user, who.roles}, job.project, job.run, *file, gov::SubmitOptions{});
  }
  // Governance logged its refusal, or the submission itself.
  if (r.ok() || r.status().code() == StatusCode::kPermissionDenied) c.ledgered = true;
  if (!r.ok()) return FromStatus(r.status());
  return Json(201, gov::OutputJson(*r));
}

}  // namespace ark::server
