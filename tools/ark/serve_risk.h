// `ark serve --model DIR --project P --as USER [--risk-alert R] [--risk-at DATE]`: the live risk of
// docs/live.md ("Live risk"), built before the server starts. Direct care only: the project must be
// an approved direct-care project (AdmitModelProject, then the purpose), its population is put on
// the ledger (RecordRun, as `ark model score` does) before anything is scored, and the alerts name
// pseudonymous person keys and practices for the practices' care teams.
#pragma once

#include <memory>
#include <string>

#include "ark/status.h"
#include "live/risk.h"
#include "who.h"

namespace ark::cli {

struct ServeRiskOptions {
  std::string ark_dir, model_dir, project;
  std::string at;  // YYYY-MM-DD: the baseline date ("" = today, UTC)
  Who who;
  int threads = 2;
};

// The model's features of everyone in the definition's population at the baseline date (batch
// engine), which of them live events update (plain exists/count aggregates of a codelist), and
// each person's practice. Errors: the model's (LoadTrainedModel), the gate's (not direct care:
// PermissionDenied), the engine's; InvalidArgument for a bad --risk-at.
Result<std::unique_ptr<live::LiveRisk>> BuildLiveRisk(const ServeRiskOptions& o, const live::RuleSet& rules,
                                                     live::Metrics* metrics);

}  // namespace ark::cli
