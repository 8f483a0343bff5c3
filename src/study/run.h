// `ark run`: one study definition on one Ark with one engine, outputs written (output.h).
//
// Example:
//   study::RunOptions o{.ark_dir = "myark", .definition = "definitions/diabetes.yaml", .out_dir = "out"};
//   ARK_ASSIGN_OR_RETURN(study::RunReport rep, study::RunStudy(o));
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ark/status.h"
#include "core/event.h"
#include "study/engine.h"
#include "study/feeds.h"

namespace ark::study {

enum class Engine { kNative, kSqlite, kPostgres };
Result<Engine> ParseEngine(const std::string& s);
const char* EngineName(Engine e);

struct RunOptions {
  std::string ark_dir;
  std::string definition;  // YAML file
  std::string out_dir;
  Engine engine = Engine::kNative;
  Purpose purpose = Purpose::kResearch;
  // PostgreSQL: this URL, else env ARK_POSTGRES_URL, else a private server (sql::PgCluster)
  // started in a temporary directory and stopped afterwards.
  std::string pg_url;
  int threads = 2;  // native engine
  // false: no dataset.csv is written. The rows are still found (the population, authorise and the
  // manifest count them); the native engine then skips their text and the variables only they need.
  bool dataset = true;
  // The feeds the run reads (in a project: those it is approved for, gov::Access::datasets);
  // nullopt = every feed (a workspace run).
  Feeds feeds;
  // Called after the engine has computed the results and before anything is written, with the
  // population's distinct persons and the definition's SHA-256: the governance layer records
  // (and may refuse) the run here. A non-OK status stops the run with nothing written.
  std::function<Status(const std::vector<PersonKey>& persons, const std::string& definition_sha256)> authorise;
  // Called with each stage ("parse", "evaluate", "authorise", "write", "done") and the run's
  // fraction done, 0..1, non-decreasing; during "evaluate" from the native engine's threads (one
  // call at a time).
  std::function<void(const std::string& stage, double fraction)> progress;
  // Checked between stages and, in the native engine, every few hundred persons: once it returns
  // true before "authorise", RunStudy returns Cancelled(stage) (engine.h) and writes nothing (the
  // out dir is left as it was, and authorise is not called). Not checked after authorise: a
  // recorded run is written.
  std::function<bool()> cancelled;
};

struct RunReport {
  uint64_t population = 0;
  uint64_t optout_excluded = 0;  // raw (the manifest has it rounded)
  uint64_t persons = 0;          // in the store
  uint64_t optout_unknown = 0;   // persons in the store whose opt-out status is not known (counted only when the population is empty)
  bool optouts_applied = true;
  double seconds = 0;            // whole run
};

// What a user must be told on the terminal about opt-outs, or "" when nothing: when opt-outs
// applied and the population is empty, how many rows opt-outs left out and how many persons have
// no known opt-out status
// (imported OMOP/MEDS persons have no known opt-out status, so a research run on them is empty).
std::string OptOutNote(const RunReport& rep);

Result<RunReport> RunStudy(const RunOptions& opts);

// Runs a parsed definition with an engine without writing anything (tests, benchmarks).
// `ark_dir` is needed for every engine (the SQL engines export it first if needed). `feeds`: only
// events of these sources are read (nullopt: every source).
Result<EngineResult> Evaluate(const Definition& def, const std::string& ark_dir, Engine engine, Purpose purpose,
                              const std::string& pg_url, int threads, const Feeds& feeds = std::nullopt);
// The same with RunOptions' progress (fractions 0..1 of the evaluation) and cancellation.
// `row_text` false: the native engine gives the rows' persons only (EngineResult::row_persons);
// the SQL engines give their rows as always.
Result<EngineResult> Evaluate(const Definition& def, const std::string& ark_dir, Engine engine, Purpose purpose,
                              const std::string& pg_url, int threads, const Feeds& feeds,
                              const std::function<void(double)>& progress, const std::function<bool()>& cancelled,
                              bool row_text = true);

}  // namespace ark::study
