// The Five Safes in code: users with roles and API tokens (stored only as SHA-256 hashes),
// projects (purpose, legal basis, approved datasets and people, dates, any opt-out exemption),
// runs authorised against them, opt-out lists, and the citizen's data-use receipt. Every
// significant event goes to the transparency ledger (ledger.h). Tables live in the Ark's catalog
// (gov_* tables, created by EnsureGovernanceSchema). docs/governance.md is the user's guide.
//
// Who acts: every mutating function takes an authenticated Actor (Authenticate checks a token).
// Refusals are PermissionDenied / FailedPrecondition with the reason for a person, and are put on
// the signed ledger ("refusal": who, reason); reasons name users, projects, files and rules, never
// an exact count of people. Role changes are on the ledger too ("user.added", "token.issued").
//
// Thread safety: functions take a Catalog (one per thread) and are otherwise stateless.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ark/status.h"
#include "catalog/catalog.h"
#include "core/event.h"
#include "governance/ledger.h"

namespace ark {
class Store;
}

namespace ark::gov {

// Roles (a user may hold several): custodian, engineer, analyst, output_checker, admin, and feed
// (a system that writes data into the Ark: `ark serve`'s POST /fhir; no other role may).
bool IsRole(const std::string& role);

struct Actor {
  std::string user;
  std::vector<std::string> roles;
  bool Has(const std::string& role) const;
};

Status EnsureGovernanceSchema(Catalog& cat);

// Today's date (UTC) as YYYY-MM-DD.
std::string Today();
// OK when `d` is a calendar date written YYYY-MM-DD; otherwise InvalidArgument naming `field`.
Status CheckDate(const std::string& field, const std::string& d);

// Adds a user and returns their new API token (shown once; only its hash is stored). The first
// user of an Ark may be added without an actor and must be an admin (bootstrap); after that only
// an admin adds users.
// Appends "user.added" (user, roles, by) to the ledger; if that fails the user is not added.
Result<std::string> AddUser(Catalog& cat, const Actor* by, const std::string& name, const std::vector<std::string>& roles);
// Replaces a user's token (the user themself or an admin); returns the new token.
Result<std::string> IssueToken(Catalog& cat, const Actor& by, const std::string& name);
// PermissionDenied unless `token` is the user's current token.
Result<Actor> Authenticate(Catalog& cat, const std::string& user, const std::string& token);

enum class Purpose { kResearch, kPlanning, kDirectCare };
Result<Purpose> ParsePurpose(const std::string& s);
const char* PurposeName(Purpose p);

struct Project {
  std::string id, title;
  Purpose purpose = Purpose::kResearch;
  std::string legal_basis;
  std::vector<std::string> datasets;  // custodians / feeds
  std::vector<std::string> people;    // users who may run analyses
  std::string start, end;             // YYYY-MM-DD, inclusive
  std::string optout_exemption;       // empty: none; else the recorded basis (shown publicly)
  std::string status = "pending";     // pending | approved | rejected | suspended | revoked (lifecycle.h)
  std::string created_by, approved_by, approved_at;
};

Status CreateProject(Catalog& cat, const Actor& by, const Project& p);
// An admin approves a pending project whose end date is not before `today`; appends
// "project.approved" to the ledger. A project that has expired is refused (and logged).
// `reason` (optional here, required by the HTTP API) goes into the ledger entry.
Status ApproveProject(Catalog& cat, Ledger& ledger, const Actor& by, const std::string& id,
                      const std::string& today = Today(), const std::string& reason = "");
// An admin rejects a pending project with a reason (required); appends "project.rejected" (id,
// by, reason). A rejected project never runs (AuthoriseRun needs "approved").
Status RejectProject(Catalog& cat, Ledger& ledger, const Actor& by, const std::string& id,
                     const std::string& reason);
Result<Project> GetProject(Catalog& cat, const std::string& id);
Result<std::vector<Project>> ListProjects(Catalog& cat);
nlohmann::ordered_json ProjectJson(const Project& p);  // the public register's view

// A run is allowed only in an approved project, by one of its people, on `today` within its
// dates, on its datasets. Otherwise PermissionDenied with the reason (and the refusal logged).
Status AuthoriseRun(Catalog& cat, const Actor& by, const Project& p, const std::vector<std::string>& datasets,
                    const std::string& today);

// Opt-outs apply unless the project is for direct care or has a recorded exemption.
bool OptOutsApply(const Project& p);
// Fail closed: keeps only persons known not to have opted out (store flags, plus lists loaded with
// LoadOptOuts). Returns the kept persons; *excluded gets the number removed.
Result<std::vector<PersonKey>> FilterPopulation(Catalog& cat, const Store& store, const Project& p,
                                                const std::vector<PersonKey>& candidates, uint64_t* excluded);

struct RunRecord {
  int64_t id = 0;
  std::string project, user, definition_hash, at;
  int64_t population = 0;
};
// Authorises and records a run over `persons` (the population it used): refuses if any person may
// not be used for the project's purpose (an opted-out person in a research population). Appends
// "run.executed" (definition hash, population size band, purpose) to the ledger.
Result<RunRecord> RecordRun(Catalog& cat, Ledger& ledger, const Store& store, const Actor& by, const Project& p,
                            const std::vector<std::string>& datasets, const std::string& definition_hash,
                            const std::vector<PersonKey>& persons, const std::string& today);

// Loads an opt-out list (one 64-hex pseudonym per line; kind "national" or "type1") from a
// custodian; appends "optout.loaded" with the rounded count.
Result<int64_t> LoadOptOuts(Catalog& cat, Ledger& ledger, const Actor& by, const std::string& kind,
                            const std::string& custodian, const std::string& path);

// The citizen's receipt: projects whose runs included the person with this pseudonym (64 hex).
struct Use {
  std::string project, title, purpose, date;
};
Result<std::vector<Use>> CitizenUses(Catalog& cat, const std::string& pseudonym_hex);

// Differential privacy: spends epsilon = eps_num/eps_den of the project's budget (in millionths,
// rounded up), refusing (PermissionDenied, logged) when the spend would exceed the total. The total
// is set on first use to `total_micro` (default 1.0) and recorded; returns the remaining budget.
Result<int64_t> SpendDpBudget(Catalog& cat, const std::string& project, uint64_t eps_num, uint64_t eps_den,
                              int64_t total_micro = 1'000'000);

// The population size band published in the ledger (never the exact count): "<10", "10-99", ...
std::string SizeBand(int64_t n);
// Appends a refusal ("refusal": actor, reason) to the Ark's signed ledger and returns `s`
// unchanged. Only when the ledger cannot take it (it does not verify) is the refusal written to
// ARK/ledger/refusals.log instead, so that it is never lost.
Status LogRefusal(const std::string& ark_dir, const std::string& actor, const Status& s);

}  // namespace ark::gov
