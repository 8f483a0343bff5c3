#include "governance/demo.h"

#include <sys/stat.h>

#include <map>
#include <set>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "core/time.h"
#include "governance/encoding.h"
#include "governance/governance.h"
#include "governance/ledger.h"
#include "governance/release.h"
#include "store/store.h"

namespace ark::gov {
namespace {

std::string Esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

// A released CSV as an HTML table (header row first). A file with quoted fields is shown as text, as it is.
std::string CsvAsTable(const std::string& csv) {
  if (csv.find('"') != std::string::npos) return "<pre>" + Esc(csv) + "</pre>\n";
  std::string h = "<table>";
  size_t start = 0;
  for (bool header = true; start < csv.size(); header = false) {
    size_t end = csv.find('\n', start);
    if (end == std::string::npos) end = csv.size();
    std::string line = csv.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    h += "<tr>";
    for (size_t at = 0;;) {
      size_t comma = line.find(',', at);
      std::string cell = line.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
      h += (header ? "<th>" : "<td>") + Esc(cell) + (header ? "</th>" : "</td>");
      if (comma == std::string::npos) break;
      at = comma + 1;
    }
    h += "</tr>";
  }
  return h + "</table>\n";
}

// The same day `years` later; 29 February becomes 28 February in a year that has none.
std::string AddYear(const std::string& d, int years) {
  std::string out = std::to_string(std::stoi(d.substr(0, 4)) + years) + d.substr(4);
  return out.substr(4) == "-02-29" && !IsValidDate(std::stoi(out.substr(0, 4)), 2, 29) ? out.substr(0, 8) + "28" : out;
}

}  // namespace

Result<GovernanceDemo> RunGovernanceDemo(const std::string& ark_dir, const std::string& work_dir) {
  ARK_ASSIGN_OR_RETURN(auto cat, Catalog::Open(ark_dir));
  ARK_RETURN_IF_ERROR(EnsureGovernanceSchema(*cat));
  ARK_ASSIGN_OR_RETURN(auto ledger, Ledger::Open(ark_dir));
  ARK_RETURN_IF_ERROR(MakeDirs(work_dir));
  GovernanceDemo out;

  // People: an admin (bootstrap), an analyst, two output checkers (an output is released only when
  // two different checkers approve it); each acts through their token.
  ARK_ASSIGN_OR_RETURN(std::string t_admin, AddUser(*cat, nullptr, "admin", {"admin"}));
  ARK_ASSIGN_OR_RETURN(Actor admin, Authenticate(*cat, "admin", t_admin));
  ARK_ASSIGN_OR_RETURN(std::string t_ana, AddUser(*cat, &admin, "ana", {"analyst"}));
  ARK_ASSIGN_OR_RETURN(std::string t_chris, AddUser(*cat, &admin, "chris", {"output_checker"}));
  ARK_ASSIGN_OR_RETURN(std::string t_dee, AddUser(*cat, &admin, "dee", {"output_checker"}));
  ARK_ASSIGN_OR_RETURN(std::string t_olu, AddUser(*cat, &admin, "olu", {"analyst"}));
  ARK_ASSIGN_OR_RETURN(Actor ana, Authenticate(*cat, "ana", t_ana));
  ARK_ASSIGN_OR_RETURN(Actor chris, Authenticate(*cat, "chris", t_chris));
  ARK_ASSIGN_OR_RETURN(Actor dee, Authenticate(*cat, "dee", t_dee));
  ARK_ASSIGN_OR_RETURN(Actor olu, Authenticate(*cat, "olu", t_olu));
  // The synthetic demo's users' tokens, so that a person can try the commands on the demo Ark
  // (`. tokens.env; ARK_TOKEN=$ANA ark run ... --as ana`). A real Ark never writes tokens down.
  ARK_RETURN_IF_ERROR(WriteFileAtomic(work_dir + "/tokens.env",
                                      "# Tokens of the synthetic demo's users (a real Ark never writes tokens down).\n"
                                      "ADMIN=" + t_admin + "\nANA=" + t_ana + "\nCHRIS=" + t_chris + "\nDEE=" + t_dee + "\nOLU=" + t_olu + "\n"));
  ::chmod((work_dir + "/tokens.env").c_str(), 0600);

  std::set<std::string> feeds;
  ARK_ASSIGN_OR_RETURN(auto batches, cat->Batches());
  for (auto& b : batches) feeds.insert(b.feed);
  const std::string today = Today();
  Project p;
  p.id = "demo-planning";
  p.title = "Population profile of the region for service planning";
  p.purpose = Purpose::kPlanning;
  p.legal_basis = "UK GDPR 6(1)(e) and 9(2)(h); NHS Act 2006 s251 support (illustrative)";
  p.datasets.assign(feeds.begin(), feeds.end());
  p.people = {"ana"};
  p.start = today;
  p.end = AddYear(today, 1);
  ARK_RETURN_IF_ERROR(CreateProject(*cat, ana, p));
  ARK_RETURN_IF_ERROR(ApproveProject(*cat, *ledger, admin, p.id));
  ARK_ASSIGN_OR_RETURN(p, GetProject(*cat, p.id));

  // The analysis: everyone with a timeline, opt-outs applied (fail closed), by age band and sex.
  ARK_ASSIGN_OR_RETURN(auto store, Store::Open(ark_dir + "/store"));
  std::vector<PersonKey> all;
  std::vector<Person> persons(store->num_persons());
  ARK_RETURN_IF_ERROR(store->ForEachPerson([&](const Person& q, std::span<const Event> ev) {
    if (q.key < persons.size()) persons[q.key] = q;
    return Status::OK();
  }));
  for (const Person& q : persons) all.push_back(q.key);
  uint64_t excluded = 0;
  ARK_ASSIGN_OR_RETURN(std::vector<PersonKey> pop, FilterPopulation(*cat, *store, p, all, &excluded));
  const int year = std::stoi(today.substr(0, 4));
  const char* bands[] = {"0-17", "18-39", "40-64", "65-79", "80+"};
  std::map<int, std::pair<int64_t, int64_t>> by_band;  // band -> (female, male)
  std::map<int, int64_t> by_decile;
  for (PersonKey k : pop) {
    const Person& q = persons[k];
    int age = q.birth_year ? year - q.birth_year : -1;
    int band = age < 0 ? -1 : age < 18 ? 0 : age < 40 ? 1 : age < 65 ? 2 : age < 80 ? 3 : 4;
    if (band >= 0) {
      if (q.sex == 'F') by_band[band].first++;
      if (q.sex == 'M') by_band[band].second++;
    }
    if (q.imd_decile) by_decile[q.imd_decile]++;
  }
  std::string t1 = "age_band,female,male\n";
  for (int b = 0; b < 5; ++b) t1 += std::string(bands[b]) + "," + std::to_string(by_band[b].first) + "," + std::to_string(by_band[b].second) + "\n";
  std::string t2 = "imd_decile,people\n";
  for (int d = 1; d <= 10; ++d) t2 += std::to_string(d) + "," + std::to_string(by_decile[d]) + "\n";
  ARK_RETURN_IF_ERROR(WriteFileAtomic(work_dir + "/age_sex.csv", t1));
  ARK_RETURN_IF_ERROR(WriteFileAtomic(work_dir + "/deprivation.csv", t2));
  const std::string def = "population: persons with a timeline, opt-outs applied\ntables: age band x sex; IMD decile\n";
  ARK_ASSIGN_OR_RETURN(RunRecord run, RecordRun(*cat, *ledger, *store, ana, p, p.datasets, merkle::HexOf(merkle::Sha256(def)), pop, today));

  // Output checking: submitted by the analyst, released when two different checkers approve.
  std::vector<OutputRecord> released;
  for (const char* f : {"age_sex.csv", "deprivation.csv"}) {
    ARK_ASSIGN_OR_RETURN(OutputRecord o, SubmitOutput(*cat, *ledger, ana, p.id, run.id, work_dir + "/" + f, SubmitOptions{}));
    ARK_ASSIGN_OR_RETURN(o, DecideOutput(*cat, *ledger, chris, o.id, true, "counts redacted and rounded under the opensafely rules; no small cells"));
    ARK_ASSIGN_OR_RETURN(o, DecideOutput(*cat, *ledger, dee, o.id, true, "second check: no small cells, no differencing"));
    released.push_back(o);
  }

  // The security rules, each refused with its reason (and put on the signed ledger as "refusal" entries).
  std::vector<std::pair<std::string, std::string>> refusals;
  auto expect_refused = [&](const std::string& what, const Status& s) {
    refusals.emplace_back(what, s.ok() ? "NOT REFUSED" : s.message());
  };
  expect_refused("analyst outside the project", AuthoriseRun(*cat, olu, p, p.datasets, today));
  {
    Project expired = p;
    expired.end = AddYear(today, -1);
    expired.start = AddYear(today, -2);
    expect_refused("expired project", AuthoriseRun(*cat, ana, expired, p.datasets, today));
  }
  expect_refused("run on an unapproved dataset", AuthoriseRun(*cat, ana, p, {"prison_health"}, today));
  {
    std::vector<PersonKey> with_optouts = all;  // the unfiltered population
    auto r = excluded ? RecordRun(*cat, *ledger, *store, ana, p, p.datasets, "x", with_optouts, today).status()
                      : Status::PermissionDenied("(no opted-out people in this region)");
    expect_refused("opted-out people in a planning population", r);
  }
  {
    ARK_RETURN_IF_ERROR(WriteFileAtomic(work_dir + "/patients.csv", "pseudonym,age\nabc,40\n"));
    expect_refused("patient-level file submitted", SubmitOutput(*cat, *ledger, ana, p.id, run.id, work_dir + "/patients.csv", SubmitOptions{}).status());
    // A second run whose population is 3 people smaller: its output would reveal those 3.
    std::vector<PersonKey> fewer(pop.begin(), pop.end() - std::min<std::ptrdiff_t>(3, static_cast<std::ptrdiff_t>(pop.size())));
    ARK_ASSIGN_OR_RETURN(RunRecord near, RecordRun(*cat, *ledger, *store, ana, p, p.datasets, merkle::HexOf(merkle::Sha256(def)), fewer, today));
    expect_refused("release differing from an earlier one by 3 people",
                   SubmitOutput(*cat, *ledger, ana, p.id, near.id, work_dir + "/deprivation.csv", SubmitOptions{}).status());
  }
  ARK_RETURN_IF_ERROR(WriteFileAtomic(work_dir + "/age_sex_v2.csv", t1));
  {
    ARK_ASSIGN_OR_RETURN(OutputRecord o, SubmitOutput(*cat, *ledger, ana, p.id, run.id, work_dir + "/age_sex_v2.csv", SubmitOptions{}));
    expect_refused("release without a checker", DecideOutput(*cat, *ledger, ana, o.id, true, "self-release").status());
    Actor author_checker{"ana", {"analyst", "output_checker"}};
    expect_refused("checker who is the author", DecideOutput(*cat, *ledger, author_checker, o.id, true, "mine").status());
    ARK_RETURN_IF_ERROR(DecideOutput(*cat, *ledger, chris, o.id, true, "counts redacted and rounded").status());
    expect_refused("the same checker approving twice", DecideOutput(*cat, *ledger, chris, o.id, true, "again").status());
    ARK_RETURN_IF_ERROR(DecideOutput(*cat, *ledger, dee, o.id, false, "duplicate of output " + std::to_string(released[0].id)).status());
  }

  ARK_ASSIGN_OR_RETURN(LedgerReport rep, VerifyLedger(ark_dir + "/ledger"));

  // The report fragment.
  std::string h = "<section id=\"governance\"><h2>Governance: the public register and the ledger</h2>\n";
  h += "<p>Every use of the region's data happens in an approved project, by an approved person, on approved datasets, "
       "with opt-outs applied (fail closed); outputs leave only after disclosure control and a second person's check. "
       "Each step is an entry in an append-only Merkle log with a signed checkpoint anyone can verify "
       "(<code>ark ledger verify</code>).</p>\n<h3>Projects</h3>\n<table class=\"text\"><tr><th>id</th><th>title</th><th>purpose</th>"
       "<th>legal basis</th><th>datasets</th><th>people</th><th>dates</th><th>opt-out exemption</th><th>approved by</th></tr>\n";
  ARK_ASSIGN_OR_RETURN(auto projects, ListProjects(*cat));
  for (auto& q : projects) {
    std::string ds, pe;
    for (auto& d : q.datasets) ds += (ds.empty() ? "" : ", ") + d;
    for (auto& d : q.people) pe += (pe.empty() ? "" : ", ") + d;
    h += "<tr><td>" + Esc(q.id) + "</td><td>" + Esc(q.title) + "</td><td>" + PurposeName(q.purpose) + "</td><td>" + Esc(q.legal_basis) +
         "</td><td>" + Esc(ds) + "</td><td>" + Esc(pe) + "</td><td>" + q.start + " to " + q.end + "</td><td>" +
         (q.optout_exemption.empty() ? "none" : Esc(q.optout_exemption)) + "</td><td>" + Esc(q.approved_by) + "</td></tr>\n";
  }
  h += "</table>\n<h3>Outputs</h3>\n<table class=\"text\"><tr><th>#</th><th>project</th><th>file</th><th>checks</th><th>decision</th>"
       "<th>author</th><th>checkers</th><th>reason</th><th>SHA-256</th></tr>\n";
  ARK_ASSIGN_OR_RETURN(auto outputs, ListOutputs(*cat));
  nlohmann::ordered_json rel = nlohmann::ordered_json::array();
  for (auto& o : outputs) {
    std::string checkers;
    for (auto& v : o.reviews) checkers += (checkers.empty() ? "" : ", ") + v.checker + " (" + v.decision + ")";
    h += "<tr><td>" + std::to_string(o.id) + "</td><td>" + Esc(o.project) + "</td><td>" + Esc(o.name) + "</td><td>" + o.status +
         "</td><td>" + o.state + "</td><td>" + Esc(o.author) + "</td><td>" + Esc(checkers) + "</td><td>" + Esc(o.reason) +
         "</td><td><code>" + o.sha256.substr(0, 16) + "…</code></td></tr>\n";
    rel.push_back(OutputJson(o));
  }
  h += "</table>\n";
  {
    ARK_ASSIGN_OR_RETURN(std::string published, ReadFile(ark_dir + "/" + released[0].path));
    h += "<h3>Released: " + Esc(released[0].name) + " (opensafely rules)</h3>\n" + CsvAsTable(published);
  }
  h += "<h3>Refused, as they must be</h3>\n<table class=\"text\"><tr><th>attempt</th><th>reason logged</th></tr>\n";
  nlohmann::ordered_json ref = nlohmann::ordered_json::array();
  for (auto& [what, why] : refusals) {
    h += "<tr><td>" + Esc(what) + "</td><td>" + Esc(why) + "</td></tr>\n";
    ref.push_back({{"attempt", what}, {"reason", why}});
  }
  h += "</table>\n<h3>Signed checkpoint</h3>\n<p>" + std::to_string(rep.entries) +
       " ledger entries. Verifier key: <code>" + Esc(ledger->verifier_key()) + "</code></p>\n<pre>" + Esc(ledger->checkpoint()) +
       "</pre>\n</section>\n";
  out.html = std::move(h);
  out.summary = {{"project", ProjectJson(p)},
                 {"population_band", SizeBand(static_cast<int64_t>(pop.size()))},
                 {"outputs", rel},
                 {"refusals", ref},
                 {"ledger", {{"entries", rep.entries}, {"root", Base64Encode(merkle::View(rep.checkpoint.root))},
                             {"origin", rep.checkpoint.origin}, {"verifier_key", ledger->verifier_key()}}}};
  return out;
}

}  // namespace ark::gov
