#include "governance/governance.h"

#include <openssl/rand.h>

#include <algorithm>
#include <ctime>
#include <set>
#include <sstream>

#include "core/fs.h"
#include "core/time.h"
#include "disclosure/opensafely.h"
#include "governance/gate.h"
#include "privacy/key.h"
#include "store/store.h"

namespace ark::gov {
namespace {

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS gov_users (name TEXT PRIMARY KEY, roles TEXT NOT NULL, token_sha256 TEXT NOT NULL,
  created_at TEXT NOT NULL, created_by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS gov_projects (id TEXT PRIMARY KEY, title TEXT NOT NULL, purpose TEXT NOT NULL,
  legal_basis TEXT NOT NULL, datasets TEXT NOT NULL, people TEXT NOT NULL, start_date TEXT NOT NULL,
  end_date TEXT NOT NULL, optout_exemption TEXT NOT NULL, status TEXT NOT NULL, created_by TEXT NOT NULL,
  approved_by TEXT NOT NULL DEFAULT '', approved_at TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS gov_runs (id INTEGER PRIMARY KEY, project TEXT NOT NULL, user TEXT NOT NULL,
  definition_hash TEXT NOT NULL, datasets TEXT NOT NULL, population INTEGER NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS gov_run_members (run INTEGER NOT NULL, person INTEGER NOT NULL,
  PRIMARY KEY (run, person)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gov_optouts (pseudonym BLOB NOT NULL, kind TEXT NOT NULL,
  PRIMARY KEY (pseudonym, kind)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gov_outputs (id INTEGER PRIMARY KEY, project TEXT NOT NULL, run INTEGER NOT NULL,
  author TEXT NOT NULL, name TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL, kind TEXT NOT NULL,
  population INTEGER NOT NULL, status TEXT NOT NULL, state TEXT NOT NULL, results TEXT NOT NULL,
  checker TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '', decided_at TEXT NOT NULL DEFAULT '',
  submitted_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS gov_output_reviews (output INTEGER NOT NULL, checker TEXT NOT NULL,
  decision TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS gov_dp_budget (project TEXT PRIMARY KEY, total_micro INTEGER NOT NULL,
  spent_micro INTEGER NOT NULL);
)";

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string TokenHash(const std::string& token) { return merkle::HexOf(merkle::Sha256("ark-token:" + token)); }

Result<std::string> NewToken() {
  uint8_t b[24];
  if (RAND_bytes(b, sizeof b) != 1) return Status::Internal("no randomness for a token");
  return "ark_" + ToHex(b, sizeof b);
}

bool Contains(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

Status Refuse(Catalog& cat, const std::string& actor, const std::string& why) {
  return LogRefusal(cat.ark_dir(), actor, Status::PermissionDenied(why));
}

Result<Project> ProjectFrom(Stmt& s) {
  Project p;
  p.id = s.Text(0);
  p.title = s.Text(1);
  ARK_ASSIGN_OR_RETURN(p.purpose, ParsePurpose(s.Text(2)));
  p.legal_basis = s.Text(3);
  p.datasets = Split(s.Text(4));
  p.people = Split(s.Text(5));
  p.start = s.Text(6);
  p.end = s.Text(7);
  p.optout_exemption = s.Text(8);
  p.status = s.Text(9);
  p.created_by = s.Text(10);
  p.approved_by = s.Text(11);
  p.approved_at = s.Text(12);
  return p;
}

constexpr const char* kProjectCols =
    "id, title, purpose, legal_basis, datasets, people, start_date, end_date, optout_exemption, status, created_by, "
    "approved_by, approved_at";

}  // namespace

Status CheckDate(const std::string& field, const std::string& d) {
  auto digits = [&](size_t at, size_t n) {
    return std::all_of(d.begin() + at, d.begin() + at + n, [](char c) { return c >= '0' && c <= '9'; });
  };
  if (d.size() != 10 || d[4] != '-' || d[7] != '-' || !digits(0, 4) || !digits(5, 2) || !digits(8, 2)) {
    return Status::InvalidArgument(field + " '" + d + "' is not a date written YYYY-MM-DD");
  }
  const int y = std::stoi(d.substr(0, 4));
  const unsigned m = static_cast<unsigned>(std::stoi(d.substr(5, 2))), day = static_cast<unsigned>(std::stoi(d.substr(8, 2)));
  if (m < 1 || m > 12) return Status::InvalidArgument(field + " '" + d + "' is not a date: there is no month " + std::to_string(m));
  if (day < 1 || !IsValidDate(y, m, day)) {
    return Status::InvalidArgument(field + " '" + d + "' is not a date: month " + d.substr(0, 7) + " has no day " + std::to_string(day));
  }
  return Status::OK();
}

bool IsRole(const std::string& r) {
  return r == "custodian" || r == "engineer" || r == "analyst" || r == "output_checker" || r == "admin" || r == "feed";
}

bool Actor::Has(const std::string& role) const { return Contains(roles, role); }

Status EnsureGovernanceSchema(Catalog& cat) { return cat.Exec(kSchema); }

std::string Today() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

Status LogRefusal(const std::string& ark_dir, const std::string& actor, const Status& s) {
  if (s.ok()) return s;
  Json e = {{"type", "refusal"}, {"by", actor.empty() ? "-" : actor}, {"reason", s.ToString()}};
  auto seq = AppendToArkLedger(ark_dir, std::move(e));
  if (seq.ok()) return s;
  // The ledger cannot take it (it does not verify, or cannot be written): the refusal is not lost.
  std::string line = UtcNow() + "\t" + (actor.empty() ? "-" : actor) + "\t" + s.ToString() +
                     "\t(not on the ledger: " + seq.status().ToString() + ")\n";
  if (MakeDirs(ark_dir + "/ledger").ok()) {
    auto f = AppendFile::Open(ark_dir + "/ledger/refusals.log", false);
    if (f.ok()) {
      (void)f->Append(line);
      (void)f->Sync();
    }
  }
  return s;
}

std::string SizeBand(int64_t n) {
  if (n < 10) return "<10";
  int64_t lo = 10;
  while (lo * 10 <= n) lo *= 10;
  return std::to_string(lo) + "-" + std::to_string(lo * 10 - 1);
}

Result<std::string> AddUser(Catalog& cat, const Actor* by, const std::string& name, const std::vector<std::string>& roles) {
  ARK_RETURN_IF_ERROR(EnsureGovernanceSchema(cat));
  if (name.empty() || name.find_first_of(" ,\t\n") != std::string::npos) return Status::InvalidArgument("bad user name '" + name + "'");
  if (roles.empty()) return Status::InvalidArgument("a user needs at least one role");
  for (auto& r : roles) {
    if (!IsRole(r)) return Status::InvalidArgument("unknown role '" + r + "' (custodian, engineer, analyst, output_checker, admin, feed)");
  }
  ARK_ASSIGN_OR_RETURN(auto count, cat.Prepare("SELECT COUNT(*) FROM gov_users"));
  ARK_RETURN_IF_ERROR(count->Step().status());
  const bool first = count->Int(0) == 0;
  if (first) {
    if (!Contains(roles, "admin")) return Status::FailedPrecondition("the first user of an Ark must be an admin");
  } else if (!by || !by->Has("admin")) {
    return Refuse(cat, by ? by->user : "", "only an admin adds users");
  }
  ARK_ASSIGN_OR_RETURN(std::string token, NewToken());
  ARK_ASSIGN_OR_RETURN(auto ins, cat.Prepare("INSERT INTO gov_users VALUES (?, ?, ?, ?, ?)"));
  ins->Bind(1, name).Bind(2, Join(roles)).Bind(3, TokenHash(token)).Bind(4, UtcNow()).Bind(5, by ? by->user : std::string("bootstrap"));
  Status s = ins->Run();
  if (!s.ok()) return Status::FailedPrecondition("user '" + name + "' exists");
  // A role change is on the ledger, or it does not happen.
  Json e = {{"type", "user.added"}, {"user", name}, {"roles", roles}, {"by", by ? by->user : std::string("bootstrap")}};
  if (auto seq = AppendToArkLedger(cat.ark_dir(), std::move(e)); !seq.ok()) {
    auto del = cat.Prepare("DELETE FROM gov_users WHERE name = ?");
    if (del.ok()) (void)(*del)->Bind(1, name).Run();
    return seq.status();
  }
  return token;
}

Result<std::string> IssueToken(Catalog& cat, const Actor& by, const std::string& name) {
  ARK_RETURN_IF_ERROR(EnsureGovernanceSchema(cat));
  if (by.user != name && !by.Has("admin")) return Refuse(cat, by.user, "only the user or an admin issues a token");
  ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare("SELECT 1 FROM gov_users WHERE name = ?"));
  q->Bind(1, name);
  ARK_ASSIGN_OR_RETURN(bool exists, q->Step());
  if (!exists) return Status::NotFound("no user '" + name + "'");
  ARK_ASSIGN_OR_RETURN(std::string token, NewToken());
  ARK_ASSIGN_OR_RETURN(auto up, cat.Prepare("UPDATE gov_users SET token_sha256 = ? WHERE name = ?"));
  up->Bind(1, TokenHash(token)).Bind(2, name);
  ARK_RETURN_IF_ERROR(up->Run());
  // Tokens are not secret-bearing on the ledger: only who replaced whose.
  ARK_RETURN_IF_ERROR(AppendToArkLedger(cat.ark_dir(), Json{{"type", "token.issued"}, {"user", name}, {"by", by.user}}).status());
  return token;
}

Result<Actor> Authenticate(Catalog& cat, const std::string& user, const std::string& token) {
  ARK_RETURN_IF_ERROR(EnsureGovernanceSchema(cat));
  ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare("SELECT roles, token_sha256 FROM gov_users WHERE name = ?"));
  q->Bind(1, user);
  ARK_ASSIGN_OR_RETURN(bool row, q->Step());
  // The same message for an unknown user and a wrong token.
  if (!row || token.empty() || q->Text(1) != TokenHash(token)) return Refuse(cat, user, "unknown user or wrong token for '" + user + "'");
  return Actor{user, Split(q->Text(0))};
}

Result<Purpose> ParsePurpose(const std::string& s) {
  if (s == "research") return Purpose::kResearch;
  if (s == "planning") return Purpose::kPlanning;
  if (s == "direct_care" || s == "direct-care") return Purpose::kDirectCare;
  return Status::InvalidArgument("unknown purpose '" + s + "' (research, planning, direct_care)");
}

const char* PurposeName(Purpose p) {
  return p == Purpose::kResearch ? "research" : p == Purpose::kPlanning ? "planning" : "direct_care";
}

Status CreateProject(Catalog& cat, const Actor& by, const Project& p) {
  ARK_RETURN_IF_ERROR(EnsureGovernanceSchema(cat));
  if (!by.Has("admin") && !by.Has("analyst")) return Refuse(cat, by.user, "only an analyst or an admin proposes a project");
  if (p.id.empty() || p.id.find_first_of(" ,/\t\n") != std::string::npos) return Status::InvalidArgument("bad project id '" + p.id + "'");
  if (p.title.empty() || p.legal_basis.empty()) return Status::InvalidArgument("a project needs a title and a legal basis");
  if (p.datasets.empty() || p.people.empty()) return Status::InvalidArgument("a project needs approved datasets and people");
  ARK_RETURN_IF_ERROR(CheckDate("start", p.start));
  ARK_RETURN_IF_ERROR(CheckDate("end", p.end));
  if (p.end < p.start) return Status::InvalidArgument("end " + p.end + " is before start " + p.start);
  ARK_ASSIGN_OR_RETURN(auto ins, cat.Prepare(std::string("INSERT INTO gov_projects (") + kProjectCols +
                                             ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, '', '')"));
  ins->Bind(1, p.id).Bind(2, p.title).Bind(3, std::string(PurposeName(p.purpose))).Bind(4, p.legal_basis);
  ins->Bind(5, Join(p.datasets)).Bind(6, Join(p.people)).Bind(7, p.start).Bind(8, p.end).Bind(9, p.optout_exemption);
  ins->Bind(10, by.user);
  if (!ins->Run().ok()) return Status::FailedPrecondition("project '" + p.id + "' exists");
  return Status::OK();
}

nlohmann::ordered_json ProjectJson(const Project& p) {
  return {{"id", p.id}, {"title", p.title}, {"purpose", PurposeName(p.purpose)}, {"legal_basis", p.legal_basis},
          {"datasets", p.datasets}, {"people", p.people}, {"start", p.start}, {"end", p.end},
          {"optout_exemption", p.optout_exemption.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(p.optout_exemption)},
          {"status", p.status}, {"approved_by", p.approved_by}, {"approved_at", p.approved_at}};
}

Status ApproveProject(Catalog& cat, Ledger& ledger, const Actor& by, const std::string& id, const std::string& today,
                      const std::string& reason) {
  ARK_ASSIGN_OR_RETURN(Project p, GetProject(cat, id));
  if (!by.Has("admin")) return Refuse(cat, by.user, "only an admin approves projects");
  if (p.status != "pending") return Status::FailedPrecondition("project '" + id + "' is " + p.status + ", not pending");
  if (!CheckDate("start", p.start).ok() || !CheckDate("end", p.end).ok()) {
    return Refuse(cat, by.user, "project '" + id + "' has no valid dates (" + p.start + ".." + p.end + "): it cannot be approved");
  }
  if (today > p.end) return Refuse(cat, by.user, "project '" + id + "' expired on " + p.end + ": it cannot be approved");
  p.status = "approved";
  p.approved_by = by.user;
  p.approved_at = UtcNow();
  ARK_ASSIGN_OR_RETURN(auto up, cat.Prepare("UPDATE gov_projects SET status = 'approved', approved_by = ?, approved_at = ? WHERE id = ?"));
  up->Bind(1, p.approved_by).Bind(2, p.approved_at).Bind(3, id);
  ARK_RETURN_IF_ERROR(up->Run());
  Json e = {{"type", "project.approved"}};
  e.update(ProjectJson(p));
  if (!reason.empty()) e["reason"] = reason;
  return ledger.Append(std::move(e)).status();
}

Status RejectProject(Catalog& cat, Ledger& ledger, const Actor& by, const std::string& id, const std::string& reason) {
  ARK_ASSIGN_OR_RETURN(Project p, GetProject(cat, id));
  if (!by.Has("admin")) return Refuse(cat, by.user, "only an admin rejects projects");
  if (reason.empty()) return Status::InvalidArgument("a rejection needs a reason");
  if (p.status != "pending") return Status::FailedPrecondition("project '" + id + "' is " + p.status + ", not pending");
  ARK_ASSIGN_OR_RETURN(auto up, cat.Prepare("UPDATE gov_projects SET status = 'rejected', approved_by = ?, approved_at = ? WHERE id = ?"));
  up->Bind(1, by.user).Bind(2, UtcNow()).Bind(3, id);
  ARK_RETURN_IF_ERROR(up->Run());
  return ledger.Append(Json{{"type", "project.rejected"}, {"id", id}, {"by", by.user}, {"reason", reason}}).status();
}

Result<Project> GetProject(Catalog& cat, const std::string& id) {
  ARK_RETURN_IF_ERROR(EnsureGovernanceSchema(cat));
  ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare(std::string("SELECT ") + kProjectCols + " FROM gov_projects WHERE id = ?"));
  q->Bind(1, id);
  ARK_ASSIGN_OR_RETURN(bool row, q->Step());
  if (!row) return Status::NotFound("no project '" + id + "'");
  return ProjectFrom(*q);
}

Result<std::vector<Project>> ListProjects(Catalog& cat) {
  ARK_RETURN_IF_ERROR(EnsureGovernanceSchema(cat));
  ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare(std::string("SELECT ") + kProjectCols + " FROM gov_projects ORDER BY id"));
  std::vector<Project> out;
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    ARK_ASSIGN_OR_RETURN(Project p, ProjectFrom(*q));
    out.push_back(std::move(p));
  }
  return out;
}

Status AuthoriseRun(Catalog& cat, const Actor& by, const Project& p, const std::vector<std::string>& datasets,
                    const std::string& today) {
  if (p.status != "approved") return Refuse(cat, by.user, "project '" + p.id + "' is not approved");
  // Fail closed on dates that are not calendar dates (a catalog written before they were checked).
  if (!CheckDate("start", p.start).ok() || !CheckDate("end", p.end).ok()) {
    return Refuse(cat, by.user, "project '" + p.id + "' has no valid dates (" + p.start + ".." + p.end + ")");
  }
  if (!Contains(p.people, by.user)) return Refuse(cat, by.user, "'" + by.user + "' is not an approved person on project '" + p.id + "'");
  if (today < p.start) return Refuse(cat, by.user, "project '" + p.id + "' starts on " + p.start);
  if (today > p.end) return Refuse(cat, by.user, "project '" + p.id + "' expired on " + p.end);
  for (auto& d : datasets) {
    if (!Contains(p.datasets, d)) return Refuse(cat, by.user, "dataset '" + d + "' is not approved for project '" + p.id + "'");
  }
  if (OptOutsApply(p)) {
    ARK_ASSIGN_OR_RETURN(auto unknown, FeedsWithUnknownOptOuts(cat));
    std::string named;
    for (auto& d : datasets) {
      if (Contains(unknown, d)) named += (named.empty() ? "'" : ", '") + d + "'";
    }
    if (!named.empty()) {
      return Refuse(cat, by.user, "the opt-out status of feed(s) " + named + " is unknown (imported without the source's "
                    "opt-outs): a " + PurposeName(p.purpose) + " run in project '" + p.id + "' cannot start; re-import "
                    "the feed with --optouts FILE or --optouts-none, or run it in a direct-care project");
    }
  }
  return Status::OK();
}

Result<std::vector<std::string>> FeedsWithUnknownOptOuts(Catalog& cat) {
  ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare("SELECT feed, manifest FROM batches ORDER BY id"));
  std::set<std::string> feeds;
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    const Json m = Json::parse(q->Text(1), nullptr, /*allow_exceptions=*/false);
    if (!m.is_object()) {
      return Status::Corruption(cat.ark_dir() + "/catalog.db: batches.manifest of feed '" + q->Text(0) + "' is not JSON");
    }
    const auto kind = m.find("kind");
    const auto optouts = m.find("optouts");
    if (kind != m.end() && *kind == "import" && optouts != m.end() && optouts->is_string() &&
        optouts->get<std::string>().rfind("not declared", 0) == 0) {
      feeds.insert(q->Text(0));
    }
  }
  return std::vector<std::string>(feeds.begin(), feeds.end());
}

bool OptOutsApply(const Project& p) { return p.purpose != Purpose::kDirectCare && p.optout_exemption.empty(); }

namespace {
// Persons on opt-out lists loaded with LoadOptOuts (mapped through the catalog's person keys).
Result<std::set<PersonKey>> ListedOptOuts(Catalog& cat) {
  ARK_RETURN_IF_ERROR(EnsureGovernanceSchema(cat));
  ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare("SELECT DISTINCT k.person FROM gov_optouts o JOIN person_keys k ON k.pseudonym = o.pseudonym"));
  std::set<PersonKey> out;
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    out.insert(static_cast<PersonKey>(q->Int(0)));
  }
  return out;
}

// allowed[k] = person k may be used for a secondary purpose (store flags: fail closed).
Result<std::vector<bool>> AllowedPersons(Catalog& cat, const Store& store) {
  std::vector<bool> allowed(store.num_persons(), false);
  ARK_RETURN_IF_ERROR(store.ForEachPerson([&](const Person& p, std::span<const Event>) {
    if (p.key < allowed.size()) allowed[p.key] = AllowedForSecondaryUse(p);
    return Status::OK();
  }, 1, Store::Columns::kCore));  // only the persons are read: the events' sources are not decoded
  ARK_ASSIGN_OR_RETURN(auto listed, ListedOptOuts(cat));
  for (PersonKey k : listed) {
    if (k < allowed.size()) allowed[k] = false;
  }
  return allowed;
}
}  // namespace

Result<std::vector<PersonKey>> FilterPopulation(Catalog& cat, const Store& store, const Project& p,
                                                const std::vector<PersonKey>& candidates, uint64_t* excluded) {
  if (!OptOutsApply(p)) {
    if (excluded) *excluded = 0;
    return candidates;
  }
  ARK_ASSIGN_OR_RETURN(auto allowed, AllowedPersons(cat, store));
  std::vector<PersonKey> out;
  for (PersonKey k : candidates) {
    if (k < allowed.size() && allowed[k]) out.push_back(k);
  }
  if (excluded) *excluded = candidates.size() - out.size();
  return out;
}

namespace {
// gov_run_members rows (run, person) for `persons`, kRows to a statement (?1 is the run): a
// population of 10^5 persons is a few hundred statements, not 10^5. The table is keyed by run
// first, so a new run's rows go after every earlier run's: the cost of recording a run does not
// grow with the runs before it. (Arks made before this keep their table keyed by person first;
// the columns are named here and in every query, so either order reads and writes the same.)
Status InsertRunMembers(Catalog& cat, int64_t run, const std::vector<PersonKey>& persons) {
  constexpr size_t kRows = 256;
  auto statement = [](size_t rows) {
    std::string sql = "INSERT OR IGNORE INTO gov_run_members(run, person) VALUES ";
    for (size_t i = 0; i < rows; ++i) sql += (i ? ",(?1,?" : "(?1,?") + std::to_string(i + 2) + ")";
    return sql;
  };
  std::unique_ptr<Stmt> full;
  for (size_t at = 0; at < persons.size();) {
    const size_t rows = std::min(kRows, persons.size() - at);
    std::unique_ptr<Stmt> part;
    if (rows == kRows && !full) {
      ARK_ASSIGN_OR_RETURN(full, cat.Prepare(statement(kRows)));
    } else if (rows < kRows) {
      ARK_ASSIGN_OR_RETURN(part, cat.Prepare(statement(rows)));
    }
    Stmt& st = rows == kRows ? *full : *part;
    st.Bind(1, run);
    for (size_t i = 0; i < rows; ++i) st.Bind(static_cast<int>(i + 2), static_cast<int64_t>(persons[at + i]));
    ARK_RETURN_IF_ERROR(st.Run());
    at += rows;
  }
  return Status::OK();
}
}  // namespace

Result<RunRecord> RecordRun(Catalog& cat, Ledger& ledger, const Store& store, const Actor& by, const Project& p,
                            const std::vector<std::string>& datasets, const std::string& definition_hash,
                            const std::vector<PersonKey>& persons, const std::string& today) {
  ARK_RETURN_IF_ERROR(EnsureGovernanceSchema(cat));
  ARK_RETURN_IF_ERROR(AuthoriseRun(cat, by, p, datasets, today));
  if (OptOutsApply(p)) {
    ARK_ASSIGN_OR_RETURN(auto allowed, AllowedPersons(cat, store));
    uint64_t bad = 0;
    for (PersonKey k : persons) bad += !(k < allowed.size() && allowed[k]);
    if (bad) {
      return Refuse(cat, by.user, "the population of a " + std::string(PurposeName(p.purpose)) + " run in project '" + p.id +
                                      "' includes people who opted out or whose opt-out status is unknown (fail closed); "
                                      "filter it with the opt-out lists first");
    }
  }
  RunRecord r;
  r.project = p.id;
  r.user = by.user;
  r.definition_hash = definition_hash;
  r.population = static_cast<int64_t>(persons.size());
  r.at = UtcNow();
  ARK_RETURN_IF_ERROR(cat.Begin());
  Status s = [&]() -> Status {
    ARK_ASSIGN_OR_RETURN(auto ins, cat.Prepare("INSERT INTO gov_runs (project, user, definition_hash, datasets, population, at) VALUES (?, ?, ?, ?, ?, ?)"));
    ins->Bind(1, p.id).Bind(2, by.user).Bind(3, definition_hash).Bind(4, Join(datasets)).Bind(5, r.population).Bind(6, r.at);
    ARK_RETURN_IF_ERROR(ins->Run());
    ARK_ASSIGN_OR_RETURN(auto last, cat.Prepare("SELECT last_insert_rowid()"));
    ARK_RETURN_IF_ERROR(last->Step().status());
    r.id = last->Int(0);
    return InsertRunMembers(cat, r.id, persons);
  }();
  if (!s.ok()) {
    cat.Rollback();
    return s;
  }
  ARK_RETURN_IF_ERROR(cat.Commit());
  Json e = {{"type", "run.executed"}, {"project", p.id}, {"run", r.id}, {"by", by.user},
            {"purpose", PurposeName(p.purpose)}, {"definition_sha256", definition_hash},
            {"population_band", SizeBand(r.population)}, {"datasets", datasets}};
  ARK_RETURN_IF_ERROR(ledger.Append(std::move(e)).status());
  return r;
}

Result<int64_t> LoadOptOuts(Catalog& cat, Ledger& ledger, const Actor& by, const std::string& kind,
                            const std::string& custodian, const std::string& path) {
  ARK_RETURN_IF_ERROR(EnsureGovernanceSchema(cat));
  if (kind != "national" && kind != "type1") return Status::InvalidArgument("opt-out kind must be national or type1");
  if (!by.Has("custodian") && !by.Has("engineer") && !by.Has("admin")) {
    return Refuse(cat, by.user, "only a custodian, engineer or admin loads opt-out lists");
  }
  ARK_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  std::vector<Digest> list;
  std::stringstream ss(text);
  std::string line;
  int64_t n = 0;
  while (std::getline(ss, line)) {
    ++n;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line == "pseudonym") continue;
    Digest d;
    if (!FromHex(line, &d)) return Status::InvalidArgument(path + ":" + std::to_string(n) + ": not a 64-hex-digit pseudonym");
    list.push_back(d);
  }
  ARK_RETURN_IF_ERROR(cat.Begin());
  Status s = [&]() -> Status {
    ARK_ASSIGN_OR_RETURN(auto ins, cat.Prepare("INSERT OR IGNORE INTO gov_optouts VALUES (?, ?)"));
    for (auto& d : list) {
      ins->BindBlob(1, d.data(), 32).Bind(2, kind);
      ARK_RETURN_IF_ERROR(ins->Run());
    }
    return Status::OK();
  }();
  if (!s.ok()) {
    cat.Rollback();
    return s;
  }
  ARK_RETURN_IF_ERROR(cat.Commit());
  auto band = sdc::PublishCount(static_cast<int64_t>(list.size()));
  Json e = {{"type", "optout.loaded"}, {"kind", kind}, {"custodian", custodian}, {"by", by.user},
            {"count_rounded", sdc::Show(band.ok() ? *band : std::nullopt)}};
  ARK_RETURN_IF_ERROR(ledger.Append(std::move(e)).status());
  return static_cast<int64_t>(list.size());
}

Result<int64_t> SpendDpBudget(Catalog& cat, const std::string& project, uint64_t eps_num, uint64_t eps_den,
                              int64_t total_micro) {
  ARK_RETURN_IF_ERROR(EnsureGovernanceSchema(cat));
  if (eps_num == 0 || eps_den == 0) return Status::InvalidArgument("epsilon must be positive");
  const int64_t spend = static_cast<int64_t>((eps_num * 1'000'000 + eps_den - 1) / eps_den);
  ARK_RETURN_IF_ERROR(cat.Begin());
  Result<int64_t> r = [&]() -> Result<int64_t> {
    ARK_ASSIGN_OR_RETURN(auto ins, cat.Prepare("INSERT OR IGNORE INTO gov_dp_budget VALUES (?, ?, 0)"));
    ins->Bind(1, project).Bind(2, total_micro);
    ARK_RETURN_IF_ERROR(ins->Run());
    ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare("SELECT total_micro, spent_micro FROM gov_dp_budget WHERE project = ?"));
    q->Bind(1, project);
    ARK_RETURN_IF_ERROR(q->Step().status());
    const int64_t total = q->Int(0), spent = q->Int(1);
    if (spent + spend > total) {
      return Refuse(cat, "", "project '" + project + "' has " + std::to_string(total - spent) +
                                 " millionths of epsilon left; this release needs " + std::to_string(spend));
    }
    ARK_ASSIGN_OR_RETURN(auto up, cat.Prepare("UPDATE gov_dp_budget SET spent_micro = ? WHERE project = ?"));
    up->Bind(1, spent + spend).Bind(2, project);
    ARK_RETURN_IF_ERROR(up->Run());
    return total - spent - spend;
  }();
  if (!r.ok()) {
    cat.Rollback();
    return r;
  }
  ARK_RETURN_IF_ERROR(cat.Commit());
  return r;
}

Result<std::vector<Use>> CitizenUses(Catalog& cat, const std::string& pseudonym_hex) {
  ARK_RETURN_IF_ERROR(EnsureGovernanceSchema(cat));
  Digest d;
  if (!FromHex(pseudonym_hex, &d)) return Status::InvalidArgument("a pseudonym is 64 hex digits");
  ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare(
      // The person's key, then each run probed for them by its primary key (CROSS JOIN keeps that
      // order: gov_run_members has no index by person).
      "SELECT r.project, p.title, p.purpose, r.at FROM person_keys k CROSS JOIN gov_runs r "
      "CROSS JOIN gov_run_members m ON m.run = r.id AND m.person = k.person JOIN gov_projects p ON p.id = r.project "
      "WHERE k.pseudonym = ? ORDER BY r.at, r.id"));
  q->BindBlob(1, d.data(), 32);
  std::vector<Use> out;
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    out.push_back({q->Text(0), q->Text(1), q->Text(2), q->Text(3).substr(0, 10)});
  }
  return out;
}

}  // namespace ark::gov
