// The one gate every way out of an Ark's data goes through (docs/governance.md, "Every way out is
// governed"). `ark run`, `ark export`, `ark scan`, `ark pathways ARK …` and `ark sql` call Admit
// before they read anything, apply the disclosure rules for what they return when the access is
// governed, and put it on the ledger (RecordAccess; a study run: RecordRun) before they return it.
//
// Admit decides:
//  - with a project: who asks is identified (user and token), the project is approved, they are one
//    of its people, today is inside its dates, the purpose asked for (if any) is the project's,
//    every dataset read (default: the ones the project is approved for) is approved for it, and
//    none of them has an unknown opt-out status unless the project is for direct care
//    (gov::AuthoriseRun). Any failure is a refusal (PermissionDenied), logged with the reason.
//    Access::datasets is then the set of feeds the command may read: the engines read only those
//    (Access::Feeds, study::RunOptions::feeds).
//  - without a project: a workspace access. Allowed, ungoverned, on an Ark that does not enforce
//    governance (what every command did before `ark enforce`); refused and logged on one that does.
//
// Example:
//   ARK_ASSIGN_OR_RETURN(gov::Access a, gov::Admit(ark_dir, {.command = "scan", .project = p, ...}));
//   ... read; if (a.governed) apply disclosure control ...
//   if (a.governed) ARK_RETURN_IF_ERROR(gov::RecordAccess(ark_dir, a, {{"persons_published", "…"}}));
//
// Thread safety: stateless; each call opens its own catalog.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ark/status.h"
#include "catalog/catalog.h"
#include "governance/governance.h"

namespace ark::gov {

// The commands that read the Ark's data and so go through the gate (tests/governance_cli_test.cc
// checks every command of `ark` against this list and its own table of commands that do not).
const std::vector<std::string>& GatedCommands();

struct GateRequest {
  std::string command;        // what asks: "run", "export", "scan", "pathways", "sql"
  std::string project;        // "" = a workspace access
  std::string user, token;    // who asks; "" = not given
  std::string purpose;        // the purpose asked for; "" = the project's
  std::optional<std::vector<std::string>> datasets;  // the feeds read; nullopt = the project's approved ones
  // The command cannot narrow what it reads to some feeds (`pathways`, `export`): it reads every
  // feed of the Ark, so the project must be approved for each (datasets = every feed).
  bool every_feed = false;
  // Who asks, already identified by the caller (the server: a session or token that gov::Authenticate
  // checked); when set, user and token are not checked again.
  std::optional<Actor> identified;
};

struct Access {
  std::string command;
  bool governed = false;  // in an approved project: disclosure rules and a ledger entry apply
  Actor actor;            // governed only
  Project project;        // governed only
  std::vector<std::string> datasets;  // governed: the feeds the command may read
  bool OptOutsApply() const { return !governed || gov::OptOutsApply(project); }
  // The feeds the engines may read: governed, `datasets`; a workspace access, every feed (nullopt).
  std::optional<std::vector<std::string>> Feeds() const {
    if (!governed) return std::nullopt;
    return datasets;
  }
};

// Who asks: InvalidArgument never; PermissionDenied (logged) for no user, no token, or a token that
// is not the user's current one.
Result<Actor> Identify(Catalog& cat, const std::string& user, const std::string& token);

// The feeds with a batch whose opt-out status is unknown: imported (OMOP, MEDS, FHIR bulk) without
// the source's opt-outs (batch manifest "optouts": "not declared…"; src/import/import_batch.h).
// Corruption when a batch's manifest is not JSON. gov::AuthoriseRun refuses a project whose
// opt-outs apply (OptOutsApply: not direct care, no exemption) on any of these feeds, naming them.
Result<std::vector<std::string>> FeedsWithUnknownOptOuts(Catalog& cat);

// Whether the Ark enforces governance (`ark enforce`). A directory without a catalog (a bare
// store) does not.
Result<bool> Enforced(const std::string& ark_dir);

// The gate (above). `ark_dir` needs a catalog for a project; `today` is YYYY-MM-DD.
Result<Access> Admit(const std::string& ark_dir, const GateRequest& r, const std::string& today = Today());
Result<Access> Admit(Catalog& cat, const GateRequest& r, const std::string& today = Today());

// Appends "data.accessed" (command, project, by, purpose, datasets, and `details`: what was
// returned, never an exact small count) to the Ark's ledger. Only for governed accesses.
Status RecordAccess(const std::string& ark_dir, const Access& a, Json details);

}  // namespace ark::gov
