#include "governance/gate.h"

#include <set>

#include "core/fs.h"

namespace ark::gov {

const std::vector<std::string>& GatedCommands() {
  static const std::vector<std::string> kCommands = {"run", "sql", "export", "scan", "pathways"};
  return kCommands;
}

Result<Actor> Identify(Catalog& cat, const std::string& user, const std::string& token) {
  if (user.empty()) {
    return LogRefusal(cat.ark_dir(), "-", Status::PermissionDenied("say who acts: --as USER (token in $ARK_TOKEN)"));
  }
  if (token.empty()) {
    return LogRefusal(cat.ark_dir(), user,
                      Status::PermissionDenied("no token for '" + user + "': set ARK_TOKEN or give --token-file"));
  }
  return Authenticate(cat, user, token);
}

Result<bool> Enforced(const std::string& ark_dir) {
  if (!PathExists(ark_dir + "/catalog.db")) return false;
  ARK_ASSIGN_OR_RETURN(auto cat, Catalog::Open(ark_dir));
  ARK_ASSIGN_OR_RETURN(auto v, cat->GetMeta("governance_enforced"));
  return v.value_or("") == "1";
}

namespace {

Result<std::vector<std::string>> EveryFeed(Catalog& cat) {
  ARK_ASSIGN_OR_RETURN(auto batches, cat.Batches());
  std::set<std::string> feeds;
  for (auto& b : batches) feeds.insert(b.feed);
  return std::vector<std::string>(feeds.begin(), feeds.end());
}

}  // namespace

Result<Access> Admit(Catalog& cat, const GateRequest& r, const std::string& today) {
  Access a;
  a.command = r.command;
  const std::string who = r.identified ? r.identified->user : r.user.empty() ? "-" : r.user;
  if (r.project.empty()) {
    ARK_ASSIGN_OR_RETURN(auto enforced, cat.GetMeta("governance_enforced"));
    if (enforced.value_or("") != "1") return a;  // a workspace access on an Ark that does not enforce governance
    return LogRefusal(cat.ark_dir(), who, Status::PermissionDenied(
        "this Ark enforces governance: 'ark " + r.command +
        "' needs --project and --as (an approved project and one of its people)"));
  }
  if (r.identified) {
    a.actor = *r.identified;
  } else {
    ARK_ASSIGN_OR_RETURN(a.actor, Identify(cat, r.user, r.token));
  }
  auto p = GetProject(cat, r.project);
  if (!p.ok()) return LogRefusal(cat.ark_dir(), who, p.status());
  a.project = std::move(*p);
  if (!r.purpose.empty()) {
    ARK_ASSIGN_OR_RETURN(Purpose asked, ParsePurpose(r.purpose));
    if (asked != a.project.purpose) {
      return LogRefusal(cat.ark_dir(), who, Status::PermissionDenied(
          "--purpose " + r.purpose + " differs from project '" + a.project.id + "', approved for " +
          PurposeName(a.project.purpose)));
    }
  }
  // The feeds read: those asked for (each must be approved), else the ones the project is
  // approved for — the engines then read only those (Access::Feeds).
  if (r.datasets) {
    a.datasets = *r.datasets;
  } else if (r.every_feed) {
    ARK_ASSIGN_OR_RETURN(a.datasets, EveryFeed(cat));
  } else {
    a.datasets = a.project.datasets;
  }
  ARK_RETURN_IF_ERROR(AuthoriseRun(cat, a.actor, a.project, a.datasets, today));
  a.governed = true;
  return a;
}

Result<Access> Admit(const std::string& ark_dir, const GateRequest& r, const std::string& today) {
  // A directory without a catalog holds no projects and enforces nothing: the command itself
  // reports whether it is an Ark at all. Naming a project needs one.
  if (r.project.empty() && !PathExists(ark_dir + "/catalog.db")) {
    Access a;
    a.command = r.command;
    return a;
  }
  ARK_ASSIGN_OR_RETURN(auto cat, Catalog::Open(ark_dir));
  ARK_RETURN_IF_ERROR(EnsureGovernanceSchema(*cat));
  return Admit(*cat, r, today);
}

Status RecordAccess(const std::string& ark_dir, const Access& a, Json details) {
  if (!a.governed) return Status::InvalidArgument("RecordAccess: a workspace access is not recorded as a governed one");
  ARK_ASSIGN_OR_RETURN(auto ledger, Ledger::Open(ark_dir));
  Json e = {{"type", "data.accessed"}, {"command", a.command}, {"project", a.project.id}, {"by", a.actor.user},
            {"purpose", PurposeName(a.project.purpose)}, {"datasets", a.datasets}};
  for (auto& [k, v] : details.items()) e[k] = v;
  return ledger->Append(std::move(e)).status();
}

}  // namespace ark::gov
