// One governed pathway analysis (process mining on an Ark's timelines, docs/pathways.md), used by
// `ark pathways ARK PATHWAY.yaml --project` and by the server's "pathway" jobs (src/server/jobs.h),
// so the API can do nothing the CLI may not (docs/governance.md, "Every way out is governed").
//
// PublishPathway: the governed end of a pathway run the gate admitted (command "pathways", every
// feed). Opt-outs fail closed: the log holds only persons the store clears for secondary use; when
// the project's opt-outs apply and a person on an opt-out list loaded since is among the cases, it
// is refused (and the refusal put on the ledger). Otherwise "data.accessed" (the definition's
// SHA-256, the published case count) goes on the ledger, then only the disclosure-controlled
// report is written: OUT/report.html (counts <= 7 redacted, others rounded to 5, rare variants not
// shown). The exact figures and the patient-level event log are never written.
//
// GovernedPathway: the whole of it from a definition's YAML text, for a caller that has not been
// through the gate yet (the server's jobs): the gate (gov::Admit, command "pathways", every feed;
// a project is required), parsing, the log from the timelines, the analyses, then PublishPathway.
// Stages reported through `progress`: "gate", "timelines", "analysis", "report"; `cancelled` is
// checked between them (study::Cancelled: nothing is written nor recorded once it returns true).
//
// Example:
//   runs::PathwayRequest r{.gate = {.project = "p1", .identified = actor}, .ark_dir = ark,
//                          .definition = yaml_text, .out_dir = "out"};
//   ARK_ASSIGN_OR_RETURN(runs::PathwayOutcome o, runs::GovernedPathway(r));  // o.cases: published
//
// Thread safety: calls may run concurrently with others on the same Ark (the ledger appends are
// serialised by `ledger_mutex` when given).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "ark/status.h"
#include "governance/gate.h"
#include "pathways/pathway.h"

namespace ark::runs {

struct PathwayOutcome {
  std::optional<int64_t> cases;  // the published case count; nullopt = redacted (<= 7)
  std::string report;            // the file written: OUT/report.html
};

// `definition`: the YAML text (hashed on the ledger). `access` must be governed.
Result<PathwayOutcome> PublishPathway(const std::string& ark_dir, const std::string& definition, const gov::Access& access,
                                      const pathways::PathwayRun& run, const std::string& out_dir,
                                      std::mutex* ledger_mutex = nullptr);

struct PathwayRequest {
  gov::GateRequest gate;   // command "pathways" and every_feed are set here; the project is required
  std::string ark_dir;
  std::string definition;  // YAML text
  std::string out_dir;
  int threads = 2;
  std::function<void(const std::string& stage, double fraction)> progress;
  std::function<bool()> cancelled;
  std::mutex* ledger_mutex = nullptr;  // held around each ledger append
};

Result<PathwayOutcome> GovernedPathway(PathwayRequest r);

}  // namespace ark::runs
