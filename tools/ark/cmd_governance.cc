// `ark user|project|optout|release|citizen`: people, projects, opt-outs, output checking and the
// citizen's receipt (src/governance/, docs/governance.md).
//
// Who acts: every command that acts as a person takes `--as USER` and reads that user's API token
// from the environment variable ARK_TOKEN (or from a file given with --token-file), so tokens never
// appear in shell history or `ps`. The first `ark user add` on an Ark needs neither (bootstrap:
// it must create an admin) and prints the new token once.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "command.h"
#include "core/fs.h"
#include "governance/citizen.h"
#include "governance/demo.h"
#include "governance/governance.h"
#include "governance/lifecycle.h"
#include "governance/release.h"
#include "store/store.h"
#include "who.h"

namespace ark::cli {

int DispatchGroup(const char* group, const std::vector<std::pair<const char*, int (*)(int, char**)>>& subs, int argc,
                  char** argv);

namespace {

using OJson = nlohmann::ordered_json;

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t p = 0;
  while (p <= s.size()) {
    size_t e = s.find(',', p);
    if (e == std::string::npos) e = s.size();
    if (e > p) out.push_back(s.substr(p, e - p));
    p = e + 1;
  }
  return out;
}

#define OPEN_CATALOG(cat, dir)                               \
  auto cat##_r = Catalog::Open(dir);                         \
  if (!cat##_r.ok()) return ReportError(cat##_r.status());   \
  Catalog& cat = **cat##_r

#define ACTOR(actor, who, cat)                     \
  auto actor##_r = (who).Resolve(cat);             \
  if (!actor##_r.ok()) return ReportError(actor##_r.status()); \
  const gov::Actor& actor = *actor##_r

int UserAdd(int argc, char** argv) {
  CLI::App app("Add a user with roles; prints their token once (only its hash is stored).", "ark user add");
  std::string dir, name, roles;
  Who who;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("name", name, "user name")->required();
  app.add_option("--roles", roles, "comma-separated: custodian, engineer, analyst, output_checker, admin")->required();
  who.Add(app);
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  OPEN_CATALOG(cat, dir);
  std::optional<gov::Actor> by;
  if (!who.user.empty()) {
    auto a = who.Resolve(cat);
    if (!a.ok()) return ReportError(a.status());
    by = *a;
  }
  auto t = gov::AddUser(cat, by ? &*by : nullptr, name, SplitList(roles));
  if (!t.ok()) return ReportError(t.status());
  std::printf("%s\n", t->c_str());
  return 0;
}

int UserToken(int argc, char** argv) {
  CLI::App app("Issue a new token for a user (the old one stops working); prints it once.", "ark user token");
  std::string dir, name;
  Who who;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("name", name, "user name")->required();
  who.Add(app);
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  OPEN_CATALOG(cat, dir);
  ACTOR(by, who, cat);
  auto t = gov::IssueToken(cat, by, name);
  if (!t.ok()) return ReportError(t.status());
  std::printf("%s\n", t->c_str());
  return 0;
}

int ProjectCreate(int argc, char** argv) {
  CLI::App app("Propose a project (pending until an admin approves it).", "ark project create");
  std::string dir, purpose = "research", datasets, people;
  gov::Project p;
  Who who;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("id", p.id, "project id")->required();
  app.add_option("--title", p.title, "what the project is for")->required();
  app.add_option("--purpose", purpose, "research | planning | direct_care")->required();
  app.add_option("--legal-basis", p.legal_basis, "legal basis")->required();
  app.add_option("--datasets", datasets, "approved datasets (custodians / feeds), comma-separated")->required();
  app.add_option("--people", people, "approved users, comma-separated")->required();
  app.add_option("--start", p.start, "YYYY-MM-DD")->required();
  app.add_option("--end", p.end, "YYYY-MM-DD (expiry, inclusive)")->required();
  app.add_option("--optout-exemption", p.optout_exemption, "the recorded basis for an opt-out exemption (shown publicly)");
  who.Add(app);
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  OPEN_CATALOG(cat, dir);
  ACTOR(by, who, cat);
  auto pu = gov::ParsePurpose(purpose);
  if (!pu.ok()) return ReportError(pu.status());
  p.purpose = *pu;
  p.datasets = SplitList(datasets);
  p.people = SplitList(people);
  if (int rc = ReportError(gov::CreateProject(cat, by, p))) return rc;
  std::printf("project %s created (pending approval)\n", p.id.c_str());
  return 0;
}

// Opens the catalog and the ledger of `dir` as `who`, runs the committee's `act` on project `id`
// (governance puts the action, or its refusal, on the ledger) and prints "project ID <what>
// (ledger entry N)", `what` being `done` or, when empty, "is <the project's status>".
int LedgeredProjectCommand(const std::string& dir, const Who& who, const std::string& id, const std::string& done,
                           const std::function<Status(Catalog&, gov::Ledger&, const gov::Actor&)>& act) {
  OPEN_CATALOG(cat, dir);
  ACTOR(by, who, cat);
  auto ledger = gov::Ledger::Open(dir);
  if (!ledger.ok()) return ReportError(ledger.status());
  if (int rc = ReportError(act(cat, **ledger, by))) return rc;
  std::string what = done;
  if (what.empty()) {
    auto p = gov::GetProject(cat, id);
    if (!p.ok()) return ReportError(p.status());
    what = "is " + p->status;
  }
  std::printf("project %s %s (ledger entry %llu)\n", id.c_str(), what.c_str(), (unsigned long long)(*ledger)->size() - 1);
  return 0;
}

int ProjectApprove(int argc, char** argv) {
  CLI::App app("Approve a project (admin); recorded in the ledger.", "ark project approve");
  std::string dir, id;
  Who who;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("id", id, "project id")->required();
  who.Add(app);
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  return LedgeredProjectCommand(dir, who, id, "approved", [&](Catalog& cat, gov::Ledger& ledger, const gov::Actor& by) {
    return gov::ApproveProject(cat, ledger, by, id);
  });
}

// `ark project reject|suspend|reinstate|revoke ARK ID --reason TEXT` (admin: the committee).
int ProjectAction(int argc, char** argv, const std::string& action) {
  CLI::App app("The committee " + std::string(action == "reject" ? "rejects a pending" : action == "suspend" ? "suspends an approved"
               : action == "reinstate" ? "reinstates a suspended" : "revokes an approved or suspended") +
               " project, with a reason (admin); recorded in the ledger.", "ark project " + action);
  std::string dir, id, reason;
  Who who;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("id", id, "project id")->required();
  app.add_option("--reason", reason, "why (on the public ledger)")->required();
  who.Add(app);
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  return LedgeredProjectCommand(dir, who, id, "", [&](Catalog& cat, gov::Ledger& ledger, const gov::Actor& by) {
    if (action == "reject") return gov::RejectProject(cat, ledger, by, id, reason);
    if (action == "suspend") return gov::SuspendProject(cat, ledger, by, id, reason);
    if (action == "reinstate") return gov::ReinstateProject(cat, ledger, by, id, reason);
    return gov::RevokeProject(cat, ledger, by, id, reason);
  });
}
int ProjectReject(int argc, char** argv) { return ProjectAction(argc, argv, "reject"); }
int ProjectSuspend(int argc, char** argv) { return ProjectAction(argc, argv, "suspend"); }
int ProjectReinstate(int argc, char** argv) { return ProjectAction(argc, argv, "reinstate"); }
int ProjectRevoke(int argc, char** argv) { return ProjectAction(argc, argv, "revoke"); }

// `ark project amend ARK ID --reason TEXT [--title ...] ...` (admin): changes the project's terms.
int ProjectAmend(int argc, char** argv) {
  CLI::App app("Amend a project's terms, with a reason (admin); recorded in the ledger.", "ark project amend");
  std::string dir, id, reason, datasets, people;
  gov::Amendment a;
  Who who;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("id", id, "project id")->required();
  app.add_option("--reason", reason, "why (on the public ledger)")->required();
  auto* title = app.add_option("--title", a.title.emplace(), "new title");
  auto* basis = app.add_option("--legal-basis", a.legal_basis.emplace(), "new legal basis");
  auto* end = app.add_option("--end", a.end.emplace(), "new end date YYYY-MM-DD");
  auto* ex = app.add_option("--optout-exemption", a.optout_exemption.emplace(), "new exemption basis (\"\": none)");
  auto* ds = app.add_option("--datasets", datasets, "new approved datasets, comma-separated");
  auto* pe = app.add_option("--people", people, "new approved users, comma-separated");
  who.Add(app);
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  if (!title->count()) a.title.reset();
  if (!basis->count()) a.legal_basis.reset();
  if (!end->count()) a.end.reset();
  if (!ex->count()) a.optout_exemption.reset();
  if (ds->count()) a.datasets = SplitList(datasets);
  if (pe->count()) a.people = SplitList(people);
  return LedgeredProjectCommand(dir, who, id, "amended", [&](Catalog& cat, gov::Ledger& ledger, const gov::Actor& by) {
    return gov::AmendProject(cat, ledger, by, id, a, reason);
  });
}

int Enforce(int argc, char** argv) {
  CLI::App app("From now on every `ark run` on this Ark needs an approved project and one of its people (admin). "
               "Recorded in the ledger; it cannot be undone from the command line.", "ark enforce");
  std::string dir;
  Who who;
  app.add_option("ark", dir, "Ark directory")->required();
  who.Add(app);
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  OPEN_CATALOG(cat, dir);
  ACTOR(by, who, cat);
  if (!by.Has("admin")) {
    return ReportError(gov::LogRefusal(dir, by.user, Status::PermissionDenied("only an admin can enforce governance")));
  }
  auto ledger = gov::Ledger::Open(dir);
  if (!ledger.ok()) return ReportError(ledger.status());
  if (int rc = ReportError(cat.SetMeta("governance_enforced", "1"))) return rc;
  auto seq = (*ledger)->Append(gov::Json{{"type", "governance.enforced"}, {"by", by.user}});
  if (!seq.ok()) return ReportError(seq.status());
  std::printf("governance enforced: every run needs --project (ledger entry %llu)\n", (unsigned long long)*seq);
  return 0;
}

int ProjectShow(int argc, char** argv) {
  CLI::App app("Show a project as the public register shows it (JSON).", "ark project show");
  std::string dir, id;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("id", id, "project id")->required();
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  OPEN_CATALOG(cat, dir);
  auto p = gov::GetProject(cat, id);
  if (!p.ok()) return ReportError(p.status());
  std::printf("%s\n", gov::ProjectJson(*p).dump(2).c_str());
  return 0;
}

int ProjectList(int argc, char** argv) {
  CLI::App app("List projects: the public register.", "ark project list");
  std::string dir;
  bool json = false;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_flag("--json", json, "print JSON");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  OPEN_CATALOG(cat, dir);
  auto ps = gov::ListProjects(cat);
  if (!ps.ok()) return ReportError(ps.status());
  OJson j = OJson::array();
  for (auto& p : *ps) j.push_back(gov::ProjectJson(p));
  if (json) {
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    for (auto& p : *ps) {
      std::printf("%-20s %-9s %-12s %s..%s  %s%s\n", p.id.c_str(), p.status.c_str(), gov::PurposeName(p.purpose), p.start.c_str(),
                  p.end.c_str(), p.title.c_str(), p.optout_exemption.empty() ? "" : "  [opt-out exemption]");
    }
  }
  return 0;
}

int OptoutLoad(int argc, char** argv) {
  CLI::App app("Load an opt-out list (one 64-hex pseudonym per line, pseudonymised with the programme key).", "ark optout load");
  std::string dir, file, kind = "national", custodian;
  Who who;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("file", file, "the list")->required();
  app.add_option("--kind", kind, "national | type1")->check(CLI::IsMember({"national", "type1"}));
  app.add_option("--custodian", custodian, "who sent it")->required();
  who.Add(app);
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  OPEN_CATALOG(cat, dir);
  ACTOR(by, who, cat);
  auto ledger = gov::Ledger::Open(dir);
  if (!ledger.ok()) return ReportError(ledger.status());
  auto n = gov::LoadOptOuts(cat, **ledger, by, kind, custodian, file);
  if (!n.ok()) return ReportError(n.status());
  std::printf("opt-out list loaded (%s from %s)\n", kind.c_str(), custodian.c_str());
  return 0;
}

int ReleaseSubmit(int argc, char** argv) {
  CLI::App app("Submit a run's output for checking: automatic checks, results.json; held until a checker decides.",
               "ark release submit");
  std::string dir, project, file, rules = "opensafely", kind = "table";
  int64_t run = 0, dof = -1;
  Who who;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("file", file, "the output (CSV table: labels, then counts)")->required();
  app.add_option("--project", project, "project id")->required();
  app.add_option("--run", run, "the run that produced it")->required();
  app.add_option("--rules", rules, "opensafely | acro")->check(CLI::IsMember({"opensafely", "acro"}));
  app.add_option("--kind", kind, "table | regression")->check(CLI::IsMember({"table", "regression"}));
  app.add_option("--residual-dof", dof, "regression: residual degrees of freedom");
  std::string dp;
  app.add_option("--dp-epsilon", dp, "tables: differentially private counts at this epsilon, spent from the project's budget");
  who.Add(app);
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  OPEN_CATALOG(cat, dir);
  ACTOR(by, who, cat);
  auto ledger = gov::Ledger::Open(dir);
  if (!ledger.ok()) return ReportError(ledger.status());
  gov::SubmitOptions o;
  o.dp_epsilon = dp;
  o.kind = kind;
  o.sdc.rules = rules == "acro" ? sdc::RuleSet::kAcro : sdc::RuleSet::kOpenSafely;
  o.residual_dof = dof;
  auto r = gov::SubmitOutput(cat, **ledger, by, project, run, file, o);
  if (!r.ok()) return ReportError(r.status());
  std::printf("%s\n", gov::OutputJson(*r).dump(2).c_str());
  return 0;
}

int Decide(int argc, char** argv, bool approve) {
  CLI::App app(approve ? "Approve an output (a checker who is not its author); the second approval, by a different "
                         "checker, releases it (copies it to ARK/releases/)."
                       : "Reject an output with a reason.",
               approve ? "ark release approve" : "ark release reject");
  std::string dir, reason;
  int64_t id = 0;
  Who who;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("output", id, "output id")->required();
  app.add_option("--reason", reason, "why")->required();
  who.Add(app);
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  OPEN_CATALOG(cat, dir);
  ACTOR(by, who, cat);
  auto ledger = gov::Ledger::Open(dir);
  if (!ledger.ok()) return ReportError(ledger.status());
  auto r = gov::DecideOutput(cat, **ledger, by, id, approve, reason);
  if (!r.ok()) return ReportError(r.status());
  if (r->state == "approved") {
    std::fprintf(stderr, "output %lld released (approved by %s and %s)\n", static_cast<long long>(id),
                 r->reviews.front().checker.c_str(), by.user.c_str());
  } else if (r->state == "submitted") {
    std::fprintf(stderr, "output %lld approved by %s: waiting for a second checker\n", static_cast<long long>(id), by.user.c_str());
  } else {
    std::fprintf(stderr, "output %lld rejected\n", static_cast<long long>(id));
  }
  std::printf("%s\n", gov::OutputJson(*r).dump(2).c_str());
  return 0;
}
int ReleaseApprove(int argc, char** argv) { return Decide(argc, argv, true); }
int ReleaseReject(int argc, char** argv) { return Decide(argc, argv, false); }

int ReleaseList(int argc, char** argv) {
  CLI::App app("List outputs and their state (submitted, approved, rejected).", "ark release list");
  std::string dir, project;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("--project", project, "only this project");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  OPEN_CATALOG(cat, dir);
  auto l = gov::ListOutputs(cat, project);
  if (!l.ok()) return ReportError(l.status());
  OJson j = OJson::array();
  for (auto& o : *l) j.push_back(gov::OutputJson(o));
  std::printf("%s\n", j.dump(2).c_str());
  return 0;
}

// Prints a receipt (the uses of one citizen's data).
int PrintUses(const Result<std::vector<gov::Use>>& uses, bool json) {
  if (!uses.ok()) return ReportError(uses.status());
  OJson j = OJson::array();
  for (auto& u : *uses) j.push_back({{"project", u.project}, {"title", u.title}, {"purpose", u.purpose}, {"date", u.date}});
  if (json) {
    std::printf("%s\n", j.dump(2).c_str());
  } else if (uses->empty()) {
    std::printf("no recorded uses\n");
  } else {
    for (auto& u : *uses) std::printf("%s  %-20s %-12s %s\n", u.date.c_str(), u.project.c_str(), u.purpose.c_str(), u.title.c_str());
  }
  return 0;
}

// The custodian's view of one pseudonym's uses (custodian or admin; what `receipt` shows).
int CitizenUsesCmd(int argc, char** argv) {
  CLI::App app("The uses of one pseudonym's data (custodian or admin). Citizens use 'ark citizen receipt --code'.",
               "ark citizen uses");
  std::string dir, pseudonym;
  bool json = false;
  Who who;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("--pseudonym", pseudonym, "the citizen's pseudonym (64 hex, computed by their custodian)")->required();
  app.add_flag("--json", json, "print JSON");
  who.Add(app);
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  OPEN_CATALOG(cat, dir);
  ACTOR(actor, who, cat);
  if (!actor.Has("custodian") && !actor.Has("admin")) {
    return ReportError(gov::LogRefusal(dir, actor.user, Status::PermissionDenied(
        "only a custodian or an admin looks up a pseudonym's uses; a citizen asks with a receipt code (ark citizen receipt --code)")));
  }
  return PrintUses(gov::CitizenUses(cat, pseudonym), json);
}

// Custodian side: a receipt code for one citizen's pseudonym (printed once; the Ark keeps its hash).
int CitizenIssueCode(int argc, char** argv) {
  CLI::App app("Issue a citizen's receipt code, bound to their pseudonym (custodian or admin). Printed once; give it to the citizen.",
               "ark citizen issue-code");
  std::string dir, pseudonym;
  bool one_time = false;
  Who who;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("--pseudonym", pseudonym, "the citizen's pseudonym (64 hex, computed from their NHS number)")->required();
  app.add_flag("--one-time", one_time, "the code works once (default: until the catalog forgets it)");
  who.Add(app);
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  OPEN_CATALOG(cat, dir);
  ACTOR(actor, who, cat);
  auto code = gov::IssueReceiptCode(cat, actor, pseudonym, one_time);
  if (!code.ok()) return ReportError(code.status());
  std::printf("%s\n", code->c_str());
  return 0;
}

// The citizen's receipt: their code, nothing else.
int CitizenReceiptCmd(int argc, char** argv) {
  CLI::App app("A citizen's data-use receipt: the projects whose runs included them, and when (needs the receipt code their GP practice issued).",
               "ark citizen receipt");
  std::string dir, code;
  bool json = false;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("--code", code, "the receipt code (ark citizen issue-code)")->required();
  app.add_flag("--json", json, "print JSON");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  OPEN_CATALOG(cat, dir);
  return PrintUses(gov::CitizenReceipt(cat, code, gov::UnixNow()), json);
}

// The citizen's local objection: their code, nothing else.
int CitizenObjectCmd(int argc, char** argv) {
  CLI::App app("A citizen objects to further use of their data (a local opt-out, from the next run on); needs their receipt code.",
               "ark citizen object");
  std::string dir, code;
  app.add_option("ark", dir, "Ark directory")->required();
  app.add_option("--code", code, "the receipt code (ark citizen issue-code)")->required();
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  OPEN_CATALOG(cat, dir);
  auto v = gov::RecordObjection(cat, code, gov::UnixNow());
  if (!v.ok()) return ReportError(v.status());
  std::printf("objection recorded: from the next run on, projects whose opt-outs apply leave your data out\n");
  return 0;
}

int GovernanceDemo(int argc, char** argv) {
  CLI::App app("Run the governance demo on a built Ark (what `ark demo` does at its end).", "ark governance-demo");
  std::string dir, work, html;
  app.add_option("ark", dir, "a built Ark")->required();
  app.add_option("--work", work, "where raw outputs are written")->required();
  app.add_option("--html", html, "write the report fragment here");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  auto d = gov::RunGovernanceDemo(dir, work);
  if (!d.ok()) return ReportError(d.status());
  if (!html.empty()) {
    if (int rc = ReportError(WriteFileAtomic(html, d->html))) return rc;
  }
  std::printf("%s\n", d->summary.dump(2).c_str());
  return 0;
}

int User(int argc, char** argv) { return DispatchGroup("user", {{"add", UserAdd}, {"token", UserToken}}, argc, argv); }
int ProjectCmd(int argc, char** argv) {
  return DispatchGroup("project", {{"create", ProjectCreate}, {"approve", ProjectApprove}, {"reject", ProjectReject}, {"suspend", ProjectSuspend},
                        {"reinstate", ProjectReinstate}, {"revoke", ProjectRevoke}, {"amend", ProjectAmend},
                        {"show", ProjectShow}, {"list", ProjectList}},
                       argc, argv);
}
int Optout(int argc, char** argv) { return DispatchGroup("optout", {{"load", OptoutLoad}}, argc, argv); }
int Release(int argc, char** argv) {
  return DispatchGroup("release", {{"submit", ReleaseSubmit}, {"approve", ReleaseApprove}, {"reject", ReleaseReject}, {"list", ReleaseList}},
                       argc, argv);
}
int Citizen(int argc, char** argv) {
  return DispatchGroup("citizen", {{"receipt", CitizenReceiptCmd}, {"object", CitizenObjectCmd}, {"issue-code", CitizenIssueCode}, {"uses", CitizenUsesCmd}}, argc, argv);
}

ARK_COMMAND(kUser, "user", "users and API tokens: add, token", User);
ARK_COMMAND(kProject, "project", "projects: create, approve, reject, suspend, reinstate, revoke, amend, show, list (the public register)", ProjectCmd);
ARK_COMMAND(kOptout, "optout", "opt-out lists: load", Optout);
ARK_COMMAND(kRelease, "release", "output checking: submit, approve, reject, list", Release);
ARK_COMMAND(kCitizen, "citizen", "a citizen's data-use receipt: receipt and object (by code), issue-code and uses (custodian)", Citizen);
ARK_COMMAND(kEnforce, "enforce", "require an approved project for every run on this Ark (admin)", Enforce);
ARK_COMMAND(kGovDemo, "governance-demo", "the governance part of the demo, on a built Ark", GovernanceDemo);

}  // namespace
}  // namespace ark::cli
