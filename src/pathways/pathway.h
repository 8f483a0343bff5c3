// Pathway definitions (YAML) and event logs derived from an Ark's linked timelines.
//
// A definition names a population, the activities (each a set of codes, optionally limited to
// one source feed), the case notion (per person, per spell/attendance, or a window after an
// index activity), a time window, and the analyses to run (waiting times, a reference pathway,
// a two-group comparison). The format is in docs/pathways.md; pathways/falls.yaml and
// pathways/copd.yaml are examples.
//
// The population block is a stopgap: it moves to the study definition language (issue 4) when
// that exists. Opt-outs are always applied, fail closed: only people known not to have opted out
// (AllowedForSecondaryUse) are included, whatever the definition says.
//
// Example:
//   ARK_ASSIGN_OR_RETURN(auto run, RunPathway(ark_dir, "pathways/falls.yaml"));
//   ARK_RETURN_IF_ERROR(WriteOutputs(run->analysis, out_dir));
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ark/status.h"
#include "core/time.h"
#include "pathways/analysis.h"
#include "pathways/event_log.h"
#include "pathways/output.h"

namespace ark::pathways {

struct PathwayDefinition {
  std::string name;         // short id ("falls")
  std::string title;        // report heading
  std::string description;  // one paragraph
  struct Population {
    int min_age = 0, max_age = 200;  // age in whole years at the case's index (or window start)
    std::string sex;                 // "", "F" or "M"
    bool registered = false;         // registered with a GP practice (latest registration)
  } population;
  struct Activity {
    std::string name;
    std::vector<std::string> codes;  // exact codes, or prefixes ending in '*' ("AE/*")
    std::string source;              // feed name ("gp", "acute", ...), "" = any
    bool at_end = false;             // use the event's end time (e.g. a spell's discharge)
  };
  std::vector<Activity> activities;
  enum class CaseNotion { kPerson, kSpell, kWindow };
  CaseNotion case_notion = CaseNotion::kPerson;
  std::vector<std::string> index;  // kWindow: activities that open a case
  double window_days = 90;         // kWindow: case length after the index
  double lookback_days = 0;        // kWindow: events this long before the index also count
  Seconds from = kNoTime, to = kNoTime;  // events (and index events) in [from, to)
  std::vector<std::pair<std::string, std::string>> waits;  // waiting times to report
  std::vector<std::string> reference;                      // reference pathway, may be empty
  struct Compare {
    std::string by = "imd_decile";  // case attribute: imd_decile, sex, age_band
    std::vector<std::string> a, b;
    std::string label_a, label_b;
  };
  std::optional<Compare> compare;
};

Result<PathwayDefinition> ParsePathwayDefinition(const std::string& yaml_text, const std::string& name);
Result<PathwayDefinition> LoadPathwayDefinition(const std::string& path);

// The event log of a definition over the Ark's timeline store. Case attributes: imd_decile,
// sex, age_band ("65-74"), person (the Ark's person key, never an identifier).
Result<EventLog> BuildLogFromArk(const std::string& ark_dir, const PathwayDefinition& def, int threads = 2);

// A log and the analyses of it.
struct PathwayRun {
  EventLog log;
  Analysis analysis;  // analysis.log points at log
};
// Builds the log and runs every analysis the definition asks for.
Result<std::unique_ptr<PathwayRun>> RunPathway(const std::string& ark_dir, const PathwayDefinition& def, int threads = 2);
// The analyses of `def` on run.log (from BuildLogFromArk): RunPathway is BuildLogFromArk then this.
// Fills run.analysis (its log points at run.log; disclosure control on), all but read_seconds.
Status AnalysePathway(const std::string& ark_dir, const PathwayDefinition& def, PathwayRun& run, int threads = 2);
Result<std::unique_ptr<PathwayRun>> RunPathway(const std::string& ark_dir, const std::string& yaml_path, int threads = 2);

// For the demo report: the pathway's section (graph, variants, durations, comparison by
// deprivation, conformance), with disclosure control applied to every count.
Result<std::string> PathwaySectionHtml(const std::string& ark_dir, const std::string& pathway_yaml_path, int threads = 2);

}  // namespace ark::pathways
