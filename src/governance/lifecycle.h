// A project's life after its application (docs/governance.md, "The committee"): the committee (a
// user with the `admin` role, who also approves and rejects) suspends, reinstates, revokes or
// amends a project, always with a reason, and each action is on the ledger.
//
//   pending --approve--> approved --suspend--> suspended --reinstate--> approved
//      |                    |                     |
//    reject               revoke               revoke
//      v                    v                     v
//   rejected             revoked (final)       revoked
//
// Only an approved project runs (AuthoriseRun, and so the gate, Admit): a suspended or revoked
// project's runs are refused from the moment the status is written. Amending changes the terms
// of a pending, approved or suspended project (title, legal basis, datasets, people, end date,
// opt-out exemption); its status does not change, and the next run is authorised against the new
// terms. A rejected or revoked project cannot be amended (apply again).
//
// Errors: PermissionDenied (on the ledger) for anyone but an admin; InvalidArgument for an empty
// reason or bad new terms; NotFound for an unknown project; FailedPrecondition for an action the
// project's status does not allow ("project 'p' is revoked, not approved").
//
// Thread safety: one Catalog per thread; callers serialise ledger writes as for ApproveProject.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ark/status.h"
#include "catalog/catalog.h"
#include "governance/governance.h"
#include "governance/ledger.h"

namespace ark::gov {

// approved -> suspended; "project.suspended" (id, by, reason).
Status SuspendProject(Catalog& cat, Ledger& ledger, const Actor& by, const std::string& id, const std::string& reason);
// suspended -> approved, unless the project expired before `today`; "project.reinstated".
Status ReinstateProject(Catalog& cat, Ledger& ledger, const Actor& by, const std::string& id, const std::string& reason,
                        const std::string& today = Today());
// approved or suspended -> revoked (final); "project.revoked".
Status RevokeProject(Catalog& cat, Ledger& ledger, const Actor& by, const std::string& id, const std::string& reason);

// The terms an amendment changes (unset: unchanged). An empty optout_exemption removes it.
struct Amendment {
  std::optional<std::string> title, legal_basis, end, optout_exemption;
  std::optional<std::vector<std::string>> datasets, people;
  bool empty() const { return !title && !legal_basis && !end && !optout_exemption && !datasets && !people; }
};
// Changes the terms; "project.amended" (id, by, reason, changed: the new values). InvalidArgument
// for an amendment that changes nothing, or new terms CreateProject would refuse.
Status AmendProject(Catalog& cat, Ledger& ledger, const Actor& by, const std::string& id, const Amendment& a,
                    const std::string& reason);

}  // namespace ark::gov
