#include "governance/lifecycle.h"

namespace ark::gov {
namespace {

Status Refuse(Catalog& cat, const std::string& actor, const std::string& why) {
  return LogRefusal(cat.ark_dir(), actor, Status::PermissionDenied(why));
}

// The checks every committee action shares: the project exists, `by` is an admin, there is a
// reason, and the project's status is one of `from`.
Result<Project> Check(Catalog& cat, const Actor& by, const std::string& id, const std::string& action,
                      const std::string& reason, const std::vector<std::string>& from) {
  ARK_ASSIGN_OR_RETURN(Project p, GetProject(cat, id));
  if (!by.Has("admin")) return Refuse(cat, by.user, "only an admin (the committee) may " + action + " projects");
  if (reason.empty()) return Status::InvalidArgument("every committee action needs a reason: " + action + " project '" + id + "'");
  std::string allowed;
  for (const std::string& f : from) {
    if (p.status == f) return p;
    allowed += (allowed.empty() ? "" : " or ") + f;
  }
  return Status::FailedPrecondition("project '" + id + "' is " + p.status + ", not " + allowed + ": it cannot be " +
                                    (action == "amend" ? "amended" : action + "d"));
}

Status SetStatus(Catalog& cat, Ledger& ledger, const Actor& by, const std::string& id, const std::string& status,
                 const std::string& type, const std::string& reason) {
  ARK_ASSIGN_OR_RETURN(auto up, cat.Prepare("UPDATE gov_projects SET status = ? WHERE id = ?"));
  up->Bind(1, status).Bind(2, id);
  ARK_RETURN_IF_ERROR(up->Run());
  return ledger.Append(Json{{"type", type}, {"id", id}, {"by", by.user}, {"reason", reason}}).status();
}

Status CheckList(const char* field, const std::vector<std::string>& v) {
  if (v.empty()) return Status::InvalidArgument(std::string("amendment: '") + field + "' must not be empty");
  for (const std::string& x : v) {
    if (x.empty() || x.find_first_of(", \t\n") != std::string::npos)
      return Status::InvalidArgument(std::string("amendment: '") + field + "' has a bad entry '" + x + "'");
  }
  return Status::OK();
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

}  // namespace

Status SuspendProject(Catalog& cat, Ledger& ledger, const Actor& by, const std::string& id, const std::string& reason) {
  ARK_RETURN_IF_ERROR(Check(cat, by, id, "suspend", reason, {"approved"}).status());
  return SetStatus(cat, ledger, by, id, "suspended", "project.suspended", reason);
}

Status ReinstateProject(Catalog& cat, Ledger& ledger, const Actor& by, const std::string& id, const std::string& reason,
                        const std::string& today) {
  ARK_ASSIGN_OR_RETURN(Project p, Check(cat, by, id, "reinstate", reason, {"suspended"}));
  if (today > p.end) return Refuse(cat, by.user, "project '" + id + "' expired on " + p.end + ": it cannot be reinstated");
  return SetStatus(cat, ledger, by, id, "approved", "project.reinstated", reason);
}

Status RevokeProject(Catalog& cat, Ledger& ledger, const Actor& by, const std::string& id, const std::string& reason) {
  ARK_RETURN_IF_ERROR(Check(cat, by, id, "revoke", reason, {"approved", "suspended"}).status());
  return SetStatus(cat, ledger, by, id, "revoked", "project.revoked", reason);
}

Status AmendProject(Catalog& cat, Ledger& ledger, const Actor& by, const std::string& id, const Amendment& a,
                    const std::string& reason) {
  ARK_ASSIGN_OR_RETURN(Project p, Check(cat, by, id, "amend", reason, {"pending", "approved", "suspended"}));
  if (a.empty()) return Status::InvalidArgument("the amendment of project '" + id + "' changes nothing");
  Json changed = Json::object();
  if (a.title) {
    if (a.title->empty()) return Status::InvalidArgument("amendment: 'title' must not be empty");
    p.title = *a.title;
    changed["title"] = p.title;
  }
  if (a.legal_basis) {
    if (a.legal_basis->empty()) return Status::InvalidArgument("amendment: 'legal_basis' must not be empty");
    p.legal_basis = *a.legal_basis;
    changed["legal_basis"] = p.legal_basis;
  }
  if (a.datasets) {
    ARK_RETURN_IF_ERROR(CheckList("datasets", *a.datasets));
    p.datasets = *a.datasets;
    changed["datasets"] = p.datasets;
  }
  if (a.people) {
    ARK_RETURN_IF_ERROR(CheckList("people", *a.people));
    p.people = *a.people;
    changed["people"] = p.people;
  }
  if (a.end) {
    ARK_RETURN_IF_ERROR(CheckDate("end", *a.end));
    if (*a.end < p.start) return Status::InvalidArgument("end " + *a.end + " is before start " + p.start);
    p.end = *a.end;
    changed["end"] = p.end;
  }
  if (a.optout_exemption) {
    p.optout_exemption = *a.optout_exemption;
    changed["optout_exemption"] = p.optout_exemption.empty() ? Json(nullptr) : Json(p.optout_exemption);
  }
  ARK_ASSIGN_OR_RETURN(auto up, cat.Prepare("UPDATE gov_projects SET title = ?, legal_basis = ?, datasets = ?, people = ?, "
                                            "end_date = ?, optout_exemption = ? WHERE id = ?"));
  up->Bind(1, p.title).Bind(2, p.legal_basis).Bind(3, Join(p.datasets)).Bind(4, Join(p.people)).Bind(5, p.end);
  up->Bind(6, p.optout_exemption).Bind(7, id);
  ARK_RETURN_IF_ERROR(up->Run());
  return ledger.Append(Json{{"type", "project.amended"}, {"id", id}, {"by", by.user}, {"reason", reason}, {"changed", changed}})
      .status();
}

}  // namespace ark::gov
