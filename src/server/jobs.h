// Long work as jobs (docs/api.md, "Jobs"): a study run on the Ark ("run") or on dummy data
// ("dummy-run"), a pathway analysis on the Ark ("pathway", docs/pathways.md), or an export of the
// Ark into a SQLite file inside it ("export", ARK/export/job-<id>.sqlite), queued and run one at a time by one worker thread, readable and cancellable
// through the API while it runs.
//
// Each job is persisted as ARK/jobs/<id>.json (0600, written atomically; ARK/jobs is 0700) with its
// owner, project, kind, state (queued|running|succeeded|failed|cancelled), stage, progress 0..1, a
// log of timed lines, its times, error, and result (the recorded run, the measure names; a
// pathway's published case count). Its work is in ARK/jobs/<id>/: definition.yaml (a pathway's
// YAML for a pathway job), out/ (the run's outputs: out/measures/NAME.csv disclosure-controlled,
// out/dataset.csv patient-level, never served; a pathway's out/report.html, disclosure-controlled
// and the only file it writes), and for a dummy run ark/ (the dummy-data Ark). On Start, jobs a previous process left queued or running become failed with
// "the server stopped before the job finished": no job stays pending forever. The work directory
// ARK/jobs/<id>/ of a job finished more than `retention_seconds` ago is deleted (at Start and after
// each job; the job's JSON is kept, with `pruned` set and a log line): its measures, report and
// patient-level files are gone, and the routes that read them say so.
//
// A "run" goes through runs::GovernedRun as its owner (the gate: approved project, member,
// purpose; RecordRun on the ledger), exactly as `ark run --project` does. A "dummy-run" goes through
// runs::DummyRun (no real data read; "run.dummy" on the ledger). A "pathway" goes through
// runs::GovernedPathway as its owner, exactly as `ark pathways ARK PATHWAY.yaml --project` does
// (the gate with every feed, opt-outs fail closed, "data.accessed" on the ledger, report.html only);
// it is cancelled between its stages (gate, timelines, analysis, report). An "export" goes through
// runs::GovernedExport as its owner, as `ark export ARK --to sqlite:ARK/export/… --project` does
// (the gate with every feed, "data.accessed" on the ledger, OMOP without opted-out persons); its
// file stays in the Ark and is named in the job, never served.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ark/status.h"

namespace ark::server {

struct JobLogLine {
  std::string time, message;
};

struct Job {
  int64_t id = 0;
  std::string project, kind, owner, state, stage;
  std::vector<std::string> roles;  // the owner's roles when submitted (the gate's actor)
  double progress = 0;
  std::vector<JobLogLine> log;
  std::string created, started, finished, error;  // "" = not yet (null in JSON)
  int64_t run = 0;                                // the recorded run; 0 = none (null in JSON)
  std::vector<std::string> measures;
  std::string cases;                              // a pathway's published case count (sdc::Show:
                                                  // a number rounded to 5, or "[REDACTED]"); "" = none
  std::string schema;                             // export: "ark" or "omop"
  std::string file;  // export: the SQLite file written, relative to the Ark ("export/job-3.sqlite"); never served
  int people = 500;                               // dummy runs
  bool pruned = false;  // its work directory was deleted after the retention
  bool Finished() const { return state == "succeeded" || state == "failed" || state == "cancelled"; }
};

// The API's JSON of a job (docs/api/openapi.json, Job).
std::string JobJson(const Job& j);

struct JobRequest {
  std::string owner;
  std::vector<std::string> roles;
  std::string project;
  bool dummy = false;
  int people = 500;
  std::string definition;  // YAML text: a study definition (checked by CheckDefinition first) or,
                           // for a pathway, a pathway definition (parsed first)
  std::string kind;        // "" = a study run ("run", or "dummy-run" with dummy); "pathway"; "export"
  std::string schema;      // export: "ark" or "omop"
};

class Jobs {
 public:
  // `ledger_mutex` serialises ledger appends with the rest of the server.
  Jobs(std::string ark_dir, std::mutex* ledger_mutex);
  ~Jobs();  // stops the worker; a running job is stopped and recorded as failed (server stopped)
  Jobs(const Jobs&) = delete;
  Jobs& operator=(const Jobs&) = delete;

  // Loads ARK/jobs (ending jobs a previous process left unfinished) and starts the worker, always.
  // Errors (the first): Corruption naming a job file that is not a job (skipped, and its id
  // never reused), or an IOError.
  Status Start();
  // Queues a job; its definition is written to ARK/jobs/<id>/definition.yaml.
  Result<Job> Add(const JobRequest& r);
  std::vector<Job> List() const;
  Result<Job> Get(int64_t id) const;  // NotFound
  // A queued job ends cancelled at once; a running one is asked to stop (its state becomes
  // cancelled when the run returns). FailedPrecondition when it has already finished.
  Result<Job> Cancel(int64_t id, const std::string& by);
  std::string Dir(int64_t id) const;  // ARK/jobs/<id>
  // Blocks until job `id` has finished (or the worker stops); returns it then. NotFound.
  Result<Job> WaitFinished(int64_t id);

  // How long a finished job's work directory is kept (default 7 days). Set before Start.
  int64_t retention_seconds = 7 * 86400;

  // Test hook: called by the worker before it starts each job; it may block (tests hold a job in
  // the queue with it). Set before Start.
  std::function<void(int64_t id)> before_run;
  // Test hook: called by the worker (no lock held) when a running job enters a stage.
  std::function<void(int64_t id, const std::string& stage)> on_stage;
  bool stopping() const { return stopping_; }

 private:
  void Work();
  struct Outcome {
    std::vector<std::string> measures;
    int64_t run = 0;
    std::string cases, file;
  };
  Status RunJob(const Job& j, Outcome* out);
  Status Save(const Job& j);  // under mu_
  void Prune();               // under mu_: deletes the work directories past the retention
  void Log(Job& j, const std::string& message);

  const std::string ark_dir_;
  std::mutex* ledger_mutex_;
  mutable std::mutex mu_;
  std::condition_variable cv_;       // the queue, and stopping
  std::condition_variable done_cv_;  // a job finished
  std::map<int64_t, Job> jobs_;
  std::deque<int64_t> queue_;
  int64_t next_id_ = 1;
  int64_t running_ = 0;
  std::atomic<bool> cancel_running_{false};
  std::atomic<bool> stopping_{false};
  std::thread worker_;
};

}  // namespace ark::server
