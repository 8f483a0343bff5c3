#include "server/jobs.h"

#include <dirent.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "disclosure/opensafely.h"
#include "runs/governed_export.h"
#include "runs/governed_pathway.h"
#include "runs/governed_run.h"

namespace ark::server {

using OJson = nlohmann::ordered_json;

namespace {

std::string Now() {
  const time_t t = ::time(nullptr);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Seconds since the epoch of a time Now() wrote; -1 when it is not one.
int64_t UnixOf(const std::string& s) {
  struct tm tm {};
  const char* end = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (!end || *end) return -1;
  return static_cast<int64_t>(::timegm(&tm));
}

OJson OrNull(const std::string& s) { return s.empty() ? OJson(nullptr) : OJson(s); }

// A pathway's published case count: a number (rounded to 5), "[REDACTED]", or null (none).
OJson CasesJson(const std::string& cases) {
  if (cases.empty()) return nullptr;
  if (cases.find_first_not_of("0123456789") == std::string::npos && cases.size() < 18) return std::stoll(cases);
  return cases;
}

OJson ToJson(const Job& j, bool stored) {
  OJson log = OJson::array();
  for (const auto& l : j.log) log.push_back({{"time", l.time}, {"message", l.message}});
  OJson o = {{"id", j.id},
             {"project", j.project},
             {"kind", j.kind},
             {"owner", j.owner},
             {"state", j.state},
             {"stage", j.stage},
             {"progress", j.progress},
             {"log", log},
             {"created", j.created},
             {"started", OrNull(j.started)},
             {"finished", OrNull(j.finished)},
             {"error", OrNull(j.error)},
             {"run", j.run ? OJson(j.run) : OJson(nullptr)},
             {"measures", j.measures},
             {"cases", CasesJson(j.cases)},
             {"file", OrNull(j.file)}};
  if (stored) {
    o["schema"] = j.schema;
    o["pruned"] = j.pruned;
    o["roles"] = j.roles;
    o["people"] = j.people;
  }
  return o;
}

std::string Str(const OJson& o, const char* k) {
  auto it = o.find(k);
  return it == o.end() || !it->is_string() ? std::string() : it->get<std::string>();
}

Result<Job> FromJson(const std::string& file, const std::string& text) {
  try {
    const OJson o = OJson::parse(text);
    Job j;
    j.id = o.at("id").get<int64_t>();
    j.project = Str(o, "project");
    j.kind = Str(o, "kind");
    j.owner = Str(o, "owner");
    j.state = Str(o, "state");
    j.stage = Str(o, "stage");
    j.progress = o.value("progress", 0.0);
    for (const auto& l : o.at("log")) j.log.push_back({Str(l, "time"), Str(l, "message")});
    j.created = Str(o, "created");
    j.started = Str(o, "started");
    j.finished = Str(o, "finished");
    j.error = Str(o, "error");
    j.run = o.value("run", OJson(nullptr)).is_number() ? o.at("run").get<int64_t>() : 0;
    j.measures = o.value("measures", std::vector<std::string>{});
    if (auto c = o.find("cases"); c != o.end() && !c->is_null()) j.cases = c->is_number() ? c->dump() : c->get<std::string>();
    j.roles = o.value("roles", std::vector<std::string>{});
    j.people = o.value("people", 500);
    j.schema = Str(o, "schema");
    j.file = Str(o, "file");
    j.pruned = o.value("pruned", false);
    return j;
  } catch (const std::exception& e) {
    return Status::Corruption(file + ": not a job record: " + e.what());
  }
}

// The measure names a run wrote (DIR/measures/NAME.csv), sorted.
std::vector<std::string> MeasuresIn(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (struct dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n.size() > 4 && n.compare(n.size() - 4, 4, ".csv") == 0) out.push_back(n.substr(0, n.size() - 4));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::string JobJson(const Job& j) { return ToJson(j, false).dump(-1, ' ', false, OJson::error_handler_t::replace); }

Jobs::Jobs(std::string ark_dir, std::mutex* ledger_mutex) : ark_dir_(std::move(ark_dir)), ledger_mutex_(ledger_mutex) {}

Jobs::~Jobs() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
    cancel_running_ = true;
  }
  cv_.notify_all();
  done_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

std::string Jobs::Dir(int64_t id) const { return ark_dir_ + "/jobs/" + std::to_string(id); }

Status Jobs::Save(const Job& j) {
  ARK_RETURN_IF_ERROR(MakeDirs(ark_dir_ + "/jobs"));
  return WriteFileAtomic(ark_dir_ + "/jobs/" + std::to_string(j.id) + ".json", ToJson(j, true).dump(1));
}

void Jobs::Log(Job& j, const std::string& message) { j.log.push_back({Now(), message}); }

void Jobs::Prune() {
  const int64_t now = static_cast<int64_t>(::time(nullptr));
  for (auto& [id, j] : jobs_) {
    if (!j.Finished() || j.pruned) continue;
    const int64_t finished = UnixOf(j.finished);
    if (finished < 0 || now - finished <= retention_seconds) continue;
    if (!RemoveAll(Dir(id)).ok()) continue;  // tried again at the next prune
    j.pruned = true;
    Log(j, "work files deleted: finished more than " + std::to_string(retention_seconds / 86400) +
               " day(s) ago (the job's retention)");
    (void)Save(j);
  }
}

Status Jobs::Start() {
  const std::string dir = ark_dir_ + "/jobs";
  Status first_error;
  if (DIR* d = ::opendir(dir.c_str())) {
    std::vector<std::string> files;
    while (struct dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n.size() > 5 && n.compare(n.size() - 5, 5, ".json") == 0) files.push_back(dir + "/" + n);
    }
    ::closedir(d);
    std::lock_guard<std::mutex> l(mu_);
    for (const std::string& f : files) {
      // Ids come from the file names too, so a job file that cannot be read is never overwritten.
      const std::string base = f.substr(dir.size() + 1, f.size() - dir.size() - 6);
      if (!base.empty() && base.size() < 18 && base.find_first_not_of("0123456789") == std::string::npos)
        next_id_ = std::max<int64_t>(next_id_, std::stoll(base) + 1);
      auto text = ReadFile(f);
      auto loaded = text.ok() ? FromJson(f, *text) : Result<Job>(text.status());
      if (!loaded.ok()) {
        if (first_error.ok()) first_error = loaded.status();
        continue;
      }
      Job j = std::move(*loaded);
      if (!j.Finished()) {
        j.state = "failed";
        j.error = "the server stopped before the job finished";
        j.finished = Now();
        Log(j, j.error);
        if (Status saved = Save(j); !saved.ok() && first_error.ok()) first_error = saved;
      }
      next_id_ = std::max(next_id_, j.id + 1);
      jobs_[j.id] = std::move(j);
    }
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    Prune();
  }
  worker_ = std::thread([this] { Work(); });
  return first_error;
}

Result<Job> Jobs::Add(const JobRequest& r) {
  std::lock_guard<std::mutex> l(mu_);
  Job j;
  j.id = next_id_;
  j.project = r.project;
  j.kind = !r.kind.empty() ? r.kind : r.dummy ? "dummy-run" : "run";
  if (j.kind != "run" && j.kind != "dummy-run" && j.kind != "pathway" && j.kind != "export")
    return Status::InvalidArgument("no job kind '" + j.kind + "'");
  j.schema = r.schema;
  j.owner = r.owner;
  j.roles = r.roles;
  j.people = r.people;
  j.state = "queued";
  j.stage = "queued";
  j.created = Now();
  Log(j, std::string("queued: ") + (j.kind == "export"    ? "an export (" + r.schema + " schema) in project " + r.project
                                    : j.kind == "pathway" ? "a pathway analysis on the Ark in project " + r.project
                                    : r.dummy ? "a run on dummy data (" + std::to_string(r.people) + " people)"
                                              : "a run on the Ark in project " + r.project));
  ARK_RETURN_IF_ERROR(MakeDirs(Dir(j.id)));
  if (j.kind != "export") ARK_RETURN_IF_ERROR(WriteFileAtomic(Dir(j.id) + "/definition.yaml", r.definition));
  ARK_RETURN_IF_ERROR(Save(j));
  ++next_id_;
  jobs_[j.id] = j;
  queue_.push_back(j.id);
  cv_.notify_all();
  return j;
}

std::vector<Job> Jobs::List() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<Job> out;
  for (const auto& [id, j] : jobs_) out.push_back(j);
  return out;
}

Result<Job> Jobs::Get(int64_t id) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return Status::NotFound("no job " + std::to_string(id));
  return it->second;
}

Result<Job> Jobs::WaitFinished(int64_t id) {
  std::unique_lock<std::mutex> l(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return Status::NotFound("no job " + std::to_string(id));
  done_cv_.wait(l, [&] { return it->second.Finished() || stopping_; });
  return it->second;
}

Result<Job> Jobs::Cancel(int64_t id, const std::string& by) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return Status::NotFound("no job " + std::to_string(id));
  Job& j = it->second;
  if (j.Finished()) return Status::FailedPrecondition("job " + std::to_string(id) + " has already finished (" + j.state + ")");
  if (j.state == "queued") {
    j.state = "cancelled";
    j.stage = "cancelled";
    j.finished = Now();
    Log(j, "cancelled by " + by + " before it started");
    queue_.erase(std::remove(queue_.begin(), queue_.end(), id), queue_.end());
    done_cv_.notify_all();
  } else {
    Log(j, "cancellation asked by " + by);
    if (running_ == id) cancel_running_ = true;
  }
  ARK_RETURN_IF_ERROR(Save(j));
  return j;
}

void Jobs::Work() {
  for (;;) {
    int64_t id = 0;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      id = queue_.front();
    }
    if (before_run) before_run(id);
    Job job;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stopping_) return;
      queue_.erase(std::remove(queue_.begin(), queue_.end(), id), queue_.end());
      Job& j = jobs_[id];
      if (j.state != "queued") continue;  // cancelled while the hook held it
      j.state = "running";
      j.stage = "starting";
      j.started = Now();
      Log(j, "started");
      (void)Save(j);
      running_ = id;
      cancel_running_ = false;
      job = j;
    }
    Outcome outcome;
    const Status s = RunJob(job, &outcome);
    std::lock_guard<std::mutex> l(mu_);
    Job& j = jobs_[id];
    running_ = 0;
    j.finished = Now();
    if (s.ok()) {
      j.state = "succeeded";
      j.stage = "done";
      j.progress = 1.0;
      j.measures = outcome.measures;
      j.run = outcome.run;
      j.cases = outcome.cases;
      j.file = outcome.file;
      if (j.kind == "export") {
        Log(j, "succeeded: wrote " + j.file + " inside the Ark (" + j.schema + " schema)");
      } else if (j.kind == "pathway") {
        Log(j, "succeeded: report.html written, " + j.cases + " cases published (counts <= 7 redacted, others rounded to 5)");
      } else {
        Log(j, "succeeded: " + std::to_string(j.measures.size()) + " measure(s)" +
                   (j.run ? ", run " + std::to_string(j.run) + " recorded in project " + j.project : ""));
      }
    } else if (stopping_) {
      j.state = "failed";
      j.error = "the server stopped before the job finished";
      Log(j, j.error);
    } else if (cancel_running_ && study::IsCancelled(s)) {
      j.state = "cancelled";
      j.stage = "cancelled";
      Log(j, "cancelled: " + s.message());
    } else {
      j.state = "failed";
      j.error = s.message();
      Log(j, "failed: " + s.message());
    }
    (void)Save(j);
    Prune();
    done_cv_.notify_all();
  }
}

Status Jobs::RunJob(const Job& job, Outcome* result) {
  const std::string dir = Dir(job.id), out = dir + "/out";
  (void)RemoveAll(out);
  const int64_t id = job.id;
  std::string last_stage;
  double last_saved = -1;
  auto progress = [this, id, &last_stage, &last_saved](const std::string& stage, double f) {
    bool changed = false;
    {
      std::lock_guard<std::mutex> l(mu_);
      Job& j = jobs_[id];
      j.stage = stage;
      j.progress = std::max(j.progress, std::min(1.0, f));
      changed = stage != last_stage;
      if (changed) {
        last_stage = stage;
        Log(j, "stage " + stage);
      }
      if (changed || j.progress - last_saved >= 0.05) {
        last_saved = j.progress;
        (void)Save(j);
      }
    }
    if (changed && on_stage) on_stage(id, stage);
  };
  auto cancelled = [this] { return cancel_running_.load(); };
  if (job.kind == "export") {
    const std::string file = "export/job-" + std::to_string(job.id) + ".sqlite";
    runs::ExportRequest r;
    r.gate.project = job.project;
    r.gate.user = job.owner;
    r.gate.identified = gov::Actor{job.owner, job.roles};
    r.ark_dir = ark_dir_;
    r.schema = job.schema;
    r.file = ark_dir_ + "/" + file;
    r.progress = progress;
    r.cancelled = cancelled;
    r.ledger_mutex = ledger_mutex_;
    ARK_RETURN_IF_ERROR(runs::GovernedExport(std::move(r)));
    result->file = file;
    return Status::OK();
  }
  if (job.kind == "pathway") {
    runs::PathwayRequest r;
    r.gate.project = job.project;
    r.gate.user = job.owner;
    r.gate.identified = gov::Actor{job.owner, job.roles};
    r.ark_dir = ark_dir_;
    ARK_ASSIGN_OR_RETURN(r.definition, ReadFile(dir + "/definition.yaml"));
    r.out_dir = out;
    r.threads = 2;
    r.progress = progress;
    r.cancelled = cancelled;
    r.ledger_mutex = ledger_mutex_;
    ARK_ASSIGN_OR_RETURN(runs::PathwayOutcome o, runs::GovernedPathway(std::move(r)));
    result->cases = sdc::Show(o.cases);
    return Status::OK();
  }
  if (job.kind == "dummy-run") {
    runs::DummyRunRequest r;
    r.ark_dir = ark_dir_;
    r.project = job.project;
    r.user = job.owner;
    r.definition = dir + "/definition.yaml";
    r.work_dir = dir;
    r.out_dir = out;
    r.people = job.people;
    r.seed = 1;
    r.threads = 1;
    r.progress = progress;
    r.cancelled = cancelled;
    r.ledger_mutex = ledger_mutex_;
    ARK_RETURN_IF_ERROR(runs::DummyRun(r).status());
  } else {
    runs::RunRequest r;
    r.gate.project = job.project;
    r.gate.user = job.owner;
    r.gate.identified = gov::Actor{job.owner, job.roles};
    r.run.ark_dir = ark_dir_;
    r.run.definition = dir + "/definition.yaml";
    r.run.out_dir = out;
    r.run.threads = 2;
    r.run.progress = progress;
    r.run.cancelled = cancelled;
    r.ledger_mutex = ledger_mutex_;
    ARK_ASSIGN_OR_RETURN(runs::RunOutcome o, runs::GovernedRun(std::move(r)));
    result->run = o.run_id;
  }
  result->measures = MeasuresIn(out + "/measures");
  return Status::OK();
}

}  // namespace ark::server
