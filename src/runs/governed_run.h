// One governed study run, used by `ark run` and by the server's jobs (src/server/jobs.h), so the
// API can do nothing the CLI may not (docs/governance.md, "Every way out is governed").
//
// GovernedRun: the gate (gov::Admit, command "run") before anything is read; in a project, the
// run uses the project's purpose (direct care when it has an opt-out exemption) and reads only the
// feeds it is approved for; RecordRun checks the population against every opt-out list and puts
// "run.executed" on the ledger before anything is written. Without a project it is a workspace
// run: refused on an Ark that enforces governance, else run and still put on the ledger as one.
//
// DummyRun: a definition on a dummy-data Ark (study::MakeDummyArk) made in `work_dir`; no real
// data is read. Puts "run.dummy" (by, project, definition hash, people) on the Ark's ledger.
//
// Example:
//   runs::RunRequest r{.gate = {.command = "run", .project = "p1", .user = "ana", .token = t}};
//   r.run = {.ark_dir = ark, .definition = "def.yaml", .out_dir = "out"};
//   ARK_ASSIGN_OR_RETURN(runs::RunOutcome out, runs::GovernedRun(r));  // out.run_id: the recorded run
//
// Thread safety: calls may run concurrently with others on the same Ark (the ledger appends are
// serialised by `ledger_mutex` when given).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "ark/status.h"
#include "governance/gate.h"
#include "study/run.h"

namespace ark::runs {

struct RunRequest {
  gov::GateRequest gate;  // command is set to "run"; purpose "" = the project's
  study::RunOptions run;  // ark_dir, definition, out_dir, engine, threads, progress, cancelled;
                          // purpose, feeds and authorise are set here
  std::mutex* ledger_mutex = nullptr;  // held around each ledger append
};

struct RunOutcome {
  study::RunReport report;
  int64_t run_id = 0;  // the recorded run (in a project); 0 for a workspace run
  bool governed = false;
};

Result<RunOutcome> GovernedRun(RunRequest r);

struct DummyRunRequest {
  std::string ark_dir;     // the Ark whose ledger records the dummy run
  std::string project;     // "" = none
  std::string user;        // who runs it
  std::string definition;  // YAML file
  std::string work_dir;    // made here: work_dir/ark (the dummy Ark) and the outputs in out_dir
  std::string out_dir;
  int people = 500;
  uint64_t seed = 1;
  int threads = 1;
  std::function<void(const std::string& stage, double fraction)> progress;  // stage "dummy-data" first
  std::function<bool()> cancelled;
  std::mutex* ledger_mutex = nullptr;
};

Result<study::RunReport> DummyRun(const DummyRunRequest& r);

}  // namespace ark::runs
