#include "governance/release.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include <fmt/format.h>

#include "core/csv.h"
#include "disclosure/dp.h"
#include "core/fs.h"

namespace ark::gov {

nlohmann::ordered_json SdcTableJsonForResults(const sdc::TableCheck& t);

namespace {

bool PatientLevelColumn(std::string c) {
  std::transform(c.begin(), c.end(), c.begin(), [](unsigned char x) { return std::tolower(x); });
  for (const char* bad : {"person", "person_id", "patient", "patient_id", "pseudonym", "nhs_number", "nhs", "subject_id",
                          "date_of_birth", "dob", "postcode", "record", "mrn"}) {
    if (c == bad) return true;
  }
  return false;
}

std::string FileSha256(const std::string& data) { return merkle::HexOf(merkle::Sha256(data)); }

std::string PublishedCsv(const sdc::TableCheck& t) {
  auto show = [](const std::optional<int64_t>& v) { return v ? std::to_string(*v) : std::string("[REDACTED]"); };
  std::string s = "label";
  for (auto& c : t.col_labels) s += "," + c;
  if (t.col_labels.size() > 1) s += ",Total";
  s += "\n";
  for (size_t r = 0; r < t.row_labels.size(); ++r) {
    s += t.row_labels[r];
    for (size_t c = 0; c < t.col_labels.size(); ++c) s += "," + show(t.cells[r][c].published);
    if (t.col_labels.size() > 1) s += "," + show(t.row_totals[r]);
    s += "\n";
  }
  s += "Total";
  for (size_t c = 0; c < t.col_labels.size(); ++c) s += "," + show(t.col_totals[c]);
  if (t.col_labels.size() > 1) s += "," + show(t.total);
  return s + "\n";
}


Result<OutputRecord> FromRow(Stmt& q) {
  OutputRecord r;
  r.id = q.Int(0);
  r.project = q.Text(1);
  r.run = q.Int(2);
  r.author = q.Text(3);
  r.name = q.Text(4);
  r.path = q.Text(5);
  r.sha256 = q.Text(6);
  r.kind = q.Text(7);
  r.population = q.Int(8);
  r.status = q.Text(9);
  r.state = q.Text(10);
  r.checker = q.Text(11);
  r.reason = q.Text(12);
  r.decided_at = q.Text(13);
  r.submitted_at = q.Text(14);
  return r;
}

constexpr const char* kCols =
    "id, project, run, author, name, path, sha256, kind, population, status, state, checker, reason, decided_at, submitted_at";

Status LoadReviews(Catalog& cat, OutputRecord* r) {
  ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare("SELECT checker, decision, reason, at FROM gov_output_reviews WHERE output = ? ORDER BY rowid"));
  q->Bind(1, r->id);
  r->reviews.clear();
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    r->reviews.push_back({q->Text(0), q->Text(1), q->Text(2), q->Text(3)});
  }
  return Status::OK();
}

Result<OutputRecord> GetOutput(Catalog& cat, int64_t id) {
  ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare(std::string("SELECT ") + kCols + " FROM gov_outputs WHERE id = ?"));
  q->Bind(1, id);
  ARK_ASSIGN_OR_RETURN(bool row, q->Step());
  if (!row) return Status::NotFound("no output " + std::to_string(id));
  ARK_ASSIGN_OR_RETURN(OutputRecord r, FromRow(*q));
  q.reset();
  ARK_RETURN_IF_ERROR(LoadReviews(cat, &r));
  return r;
}

Status AddReview(Catalog& cat, OutputRecord* r, const OutputReview& v) {
  ARK_ASSIGN_OR_RETURN(auto ins, cat.Prepare("INSERT INTO gov_output_reviews (output, checker, decision, reason, at) VALUES (?, ?, ?, ?, ?)"));
  ins->Bind(1, r->id).Bind(2, v.checker).Bind(3, v.decision).Bind(4, v.reason).Bind(5, v.at);
  ARK_RETURN_IF_ERROR(ins->Run());
  r->reviews.push_back(v);
  return Status::OK();
}

}  // namespace

// A measure table (`ark run`'s shape) published as it came: same columns and rows, numerator and
// denominator as the rules publish them, the ratio kept where both counts are unchanged, redacted
// where either is hidden, else recomputed from the published counts.
Result<std::string> PublishedMeasureCsv(const std::string& file, const sdc::TableCheck& t) {
  ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(file));
  std::string s;
  for (size_t c = 0; c < f.header().size(); ++c) {
    if (c) s += ",";
    AppendCsvField(&s, f.header()[c]);
  }
  s += "\n";
  CsvParser p(f.body(), f.body_first_line());
  std::vector<std::string_view> row;
  for (size_t r = 0;; ++r) {
    ARK_ASSIGN_OR_RETURN(bool more, p.Next(&row));
    if (!more) break;
    if (row.size() == 1 && row[0].empty()) continue;
    if (r >= t.cells.size()) return Status::Internal(file + ": changed while it was checked");
    const auto& num = t.cells[r][0].published;
    const auto& den = t.cells[r][1].published;
    auto show = [](const std::optional<int64_t>& v) { return v ? std::to_string(*v) : std::string("[REDACTED]"); };
    std::string ratio;
    if (!num || !den || *den == 0) {
      ratio = "[REDACTED]";
    } else if (show(num) == row[4] && show(den) == row[5]) {
      ratio = std::string(row[3]);
    } else {
      ratio = fmt::format("{:.6g}", static_cast<double>(*num) / static_cast<double>(*den));
    }
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string v = c == 3 ? ratio : c == 4 ? show(num) : c == 5 ? show(den) : std::string(row[c]);
      if (c) s += ",";
      AppendCsvField(&s, v);
    }
    s += "\n";
  }
  return s;
}

nlohmann::ordered_json OutputJson(const OutputRecord& r) {
  nlohmann::ordered_json reviews = nlohmann::ordered_json::array();
  for (auto& v : r.reviews) reviews.push_back({{"checker", v.checker}, {"decision", v.decision}, {"reason", v.reason}, {"at", v.at}});
  return {{"id", r.id}, {"project", r.project}, {"run", r.run}, {"author", r.author}, {"name", r.name},
          {"sha256", r.sha256}, {"kind", r.kind}, {"status", r.status}, {"state", r.state}, {"checker", r.checker},
          {"reason", r.reason}, {"submitted_at", r.submitted_at}, {"decided_at", r.decided_at}, {"reviews", reviews}};
}

Result<OutputRecord> SubmitOutput(Catalog& cat, Ledger& ledger, const Actor& by, const std::string& project_id, int64_t run,
                                  const std::string& file, const SubmitOptions& o) {
  ARK_RETURN_IF_ERROR(EnsureGovernanceSchema(cat));
  ARK_ASSIGN_OR_RETURN(Project p, GetProject(cat, project_id));
  ARK_RETURN_IF_ERROR(AuthoriseRun(cat, by, p, {}, Today()));
  ARK_ASSIGN_OR_RETURN(auto rq, cat.Prepare("SELECT project, population FROM gov_runs WHERE id = ?"));
  rq->Bind(1, run);
  ARK_ASSIGN_OR_RETURN(bool has_run, rq->Step());
  if (!has_run || rq->Text(0) != project_id) return LogRefusal(cat.ark_dir(), by.user, Status::PermissionDenied("run " + std::to_string(run) + " is not a run of project '" + project_id + "'"));
  const int64_t population = rq->Int(1);  // computed by the Ark when the run was recorded

  // Nothing patient-level leaves: a file with an identifier-like column, or with about one row per
  // person of the population, is refused outright.
  ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(file));
  for (auto& c : f.header()) {
    if (PatientLevelColumn(c)) {
      return LogRefusal(cat.ark_dir(), by.user, Status::PermissionDenied(file + ": column '" + c + "' makes this a patient-level file: it can never be released"));
    }
  }
  const int64_t rows = CountLines(f.body());
  if (population >= 20 && rows * 2 >= population) {
    return LogRefusal(cat.ark_dir(), by.user, Status::PermissionDenied(file + ": at least one row for every two people of the population "
                                                                     "looks patient-level: refused"));
  }
  // Differencing across the project's releases.
  ARK_ASSIGN_OR_RETURN(auto eq, cat.Prepare("SELECT population FROM gov_outputs WHERE project = ? AND state IN ('submitted', 'approved')"));
  eq->Bind(1, project_id);
  std::vector<int64_t> earlier;
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool row, eq->Step());
    if (!row) break;
    earlier.push_back(eq->Int(0));
  }
  if (sdc::DifferencingConflict(population, earlier, o.differencing_threshold)) {
    return LogRefusal(cat.ark_dir(), by.user, Status::PermissionDenied(
        "differencing: this output's population differs from that of an earlier output of the project by 1 to " +
        std::to_string(o.differencing_threshold - 1) + " people, which would reveal them: refused"));
  }

  // Automatic checks.
  nlohmann::ordered_json checks;
  std::string status, summary, published;
  if (o.kind == "table" && !o.dp_epsilon.empty()) {
    ARK_ASSIGN_OR_RETURN(sdc::CountTable t, sdc::ReadCountCsv(file));
    uint64_t num = 0, den = 1;
    ARK_RETURN_IF_ERROR(sdc::ParseEpsilon(o.dp_epsilon, &num, &den));
    auto left = SpendDpBudget(cat, project_id, num, den);  // logs its own refusal
    if (!left.ok()) return left.status();
    sdc::DpSampler sampler;
    published = "label";
    for (auto& c : t.col_labels) published += "," + c;
    published += "\n";
    for (size_t r = 0; r < t.row_labels.size(); ++r) {
      published += t.row_labels[r];
      for (size_t c = 0; c < t.col_labels.size(); ++c) published += "," + std::to_string(sdc::NoisyCount(sampler, t.counts[r][c], 1, num, den));
      published += "\n";
    }
    status = "review";
    summary = "differentially private counts (discrete Laplace, epsilon " + o.dp_epsilon + "); project budget left " +
              std::to_string(*left / 1e6);
    checks = {{"mechanism", "discrete Laplace (exact)"}, {"epsilon", o.dp_epsilon}, {"sensitivity", 1},
              {"budget_left", *left / 1e6}};
  } else if (o.kind == "table") {
    ARK_ASSIGN_OR_RETURN(sdc::CountTable t, sdc::ReadCountCsv(file));
    ARK_ASSIGN_OR_RETURN(sdc::TableCheck tc, sdc::CheckTable(t, o.sdc));
    status = tc.status;
    summary = tc.summary;
    checks = SdcTableJsonForResults(tc);
    if (t.measures) {
      ARK_ASSIGN_OR_RETURN(published, PublishedMeasureCsv(file, tc));
    } else {
      published = PublishedCsv(tc);
    }
  } else if (o.kind == "regression") {
    if (o.residual_dof < 0) return Status::InvalidArgument("a regression output needs its residual degrees of freedom");
    auto m = sdc::CheckRegression(o.residual_dof, o.sdc);
    status = m.pass ? "pass" : "fail";
    summary = m.pass ? "residual degrees of freedom " + std::to_string(o.residual_dof) : m.reason;
    checks = {{"residual_dof", o.residual_dof}, {"pass", m.pass}};
    ARK_ASSIGN_OR_RETURN(published, ReadFile(file));
  } else {
    return Status::InvalidArgument("output kind must be table or regression");
  }

  OutputRecord r;
  r.project = project_id;
  r.run = run;
  r.author = by.user;
  r.name = std::filesystem::path(file).filename().string();
  r.kind = o.kind;
  r.population = population;
  r.status = status;
  r.state = "submitted";
  r.sha256 = FileSha256(published);
  r.submitted_at = UtcNow();
  ARK_ASSIGN_OR_RETURN(auto ins, cat.Prepare(
      "INSERT INTO gov_outputs (project, run, author, name, path, sha256, kind, population, status, state, results, submitted_at) "
      "VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, 'submitted', '', ?)"));
  ins->Bind(1, r.project).Bind(2, r.run).Bind(3, r.author).Bind(4, r.name).Bind(5, r.sha256).Bind(6, r.kind);
  ins->Bind(7, r.population).Bind(8, r.status).Bind(9, r.submitted_at);
  ARK_RETURN_IF_ERROR(ins->Run());
  ARK_ASSIGN_OR_RETURN(auto last, cat.Prepare("SELECT last_insert_rowid()"));
  ARK_RETURN_IF_ERROR(last->Step().status());
  r.id = last->Int(0);
  const std::string dir = cat.ark_dir() + "/outputs/" + std::to_string(r.id);
  r.path = "outputs/" + std::to_string(r.id) + "/" + r.name;
  ARK_RETURN_IF_ERROR(MakeDirs(dir));
  ARK_RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + r.name, published));
  const std::string uid = "output_" + std::to_string(r.id);
  nlohmann::ordered_json entry = {
      {"uid", uid}, {"status", status}, {"type", o.kind},
      {"properties", {{"project", project_id}, {"run", run}, {"rules", sdc::RuleSetName(o.sdc.rules)}, {"author", by.user}}},
      {"files", {{{"name", r.name}, {"sha256", r.sha256}, {"sdc", checks}}}},
      {"outcome", checks.contains("cells") ? checks["cells"] : nlohmann::ordered_json::array()},
      {"command", "ark release submit --project " + project_id + " --run " + std::to_string(run) + " " + r.name},
      {"summary", summary}, {"timestamp", r.submitted_at}, {"comments", nlohmann::ordered_json::array()}, {"exception", ""}};
  nlohmann::ordered_json results = {{"version", "ark-acro-1"}, {"results", {{uid, entry}}}};
  ARK_RETURN_IF_ERROR(WriteFileAtomic(dir + "/results.json", results.dump(2) + "\n"));
  ARK_ASSIGN_OR_RETURN(auto up, cat.Prepare("UPDATE gov_outputs SET path = ?, results = ? WHERE id = ?"));
  up->Bind(1, r.path).Bind(2, results.dump()).Bind(3, r.id);
  ARK_RETURN_IF_ERROR(up->Run());
  ARK_RETURN_IF_ERROR(ledger.Append(Json{{"type", "output.submitted"}, {"project", project_id}, {"output", r.id},
                                          {"by", by.user}, {"sha256", r.sha256}, {"status", status}}).status());
  return r;
}

Result<OutputRecord> DecideOutput(Catalog& cat, Ledger& ledger, const Actor& by, int64_t id, bool approve, const std::string& reason) {
  ARK_RETURN_IF_ERROR(EnsureGovernanceSchema(cat));
  ARK_ASSIGN_OR_RETURN(OutputRecord r, GetOutput(cat, id));
  auto refuse = [&](const std::string& why) { return LogRefusal(cat.ark_dir(), by.user, Status::PermissionDenied(why)); };
  if (!by.Has("output_checker")) return refuse("'" + by.user + "' is not an output checker: outputs are released only by a checker");
  if (by.user == r.author) return refuse("'" + by.user + "' is the author of output " + std::to_string(id) + ": a checker may not check their own output");
  if (reason.empty()) return Status::InvalidArgument("a decision needs a reason");
  if (r.state != "submitted") return Status::FailedPrecondition("output " + std::to_string(id) + " is already " + r.state);
  if (approve && r.status == "fail") return refuse("output " + std::to_string(id) + " failed the automatic checks: it cannot be released");
  if (approve) {  // a suspended or revoked project releases nothing (lifecycle.h); rejecting is still possible
    ARK_ASSIGN_OR_RETURN(Project p, GetProject(cat, r.project));
    if (p.status != "approved")
      return refuse("project '" + p.id + "' is " + p.status + ": output " + std::to_string(id) + " cannot be released");
  }
  for (auto& v : r.reviews) {
    if (approve && v.checker == by.user && v.decision == "approve")
      return refuse("'" + by.user + "' has already approved output " + std::to_string(id) + ": a second, different checker must approve it");
  }
  ARK_ASSIGN_OR_RETURN(std::string data, ReadFile(cat.ark_dir() + "/" + r.path));
  if (FileSha256(data) != r.sha256) return Status::Corruption("output " + std::to_string(id) + " changed after it was checked");
  const OutputReview review{by.user, approve ? "approve" : "reject", reason, UtcNow()};
  const bool first_approval = approve && r.reviews.empty();
  ARK_RETURN_IF_ERROR(AddReview(cat, &r, review));
  if (first_approval) {  // one approval: recorded and ledgered, the output waits for a second checker
    ARK_RETURN_IF_ERROR(ledger.Append(Json{{"type", "output.reviewed"}, {"project", r.project}, {"output", id},
                                            {"checker", by.user}, {"decision", review.decision}, {"reason", reason}}).status());
    return r;
  }
  r.state = approve ? "approved" : "rejected";
  r.checker = by.user;
  r.reason = reason;
  r.decided_at = review.at;
  if (approve) {
    const std::string dir = cat.ark_dir() + "/releases/" + r.project;
    ARK_RETURN_IF_ERROR(MakeDirs(dir));
    ARK_RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + std::to_string(id) + "-" + r.name, data));
    ARK_ASSIGN_OR_RETURN(std::string results, ReadFile(cat.ark_dir() + "/outputs/" + std::to_string(id) + "/results.json"));
    ARK_RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + std::to_string(id) + "-results.json", results));
  }
  ARK_ASSIGN_OR_RETURN(auto up, cat.Prepare("UPDATE gov_outputs SET state = ?, checker = ?, reason = ?, decided_at = ? WHERE id = ?"));
  up->Bind(1, r.state).Bind(2, r.checker).Bind(3, r.reason).Bind(4, r.decided_at).Bind(5, id);
  ARK_RETURN_IF_ERROR(up->Run());
  Json entry{{"type", approve ? "output.released" : "output.rejected"}, {"project", r.project},
             {"output", id}, {"name", r.name}, {"sha256", r.sha256}, {"checker", by.user},
             {"author", r.author}, {"status", r.status}};
  if (approve) entry["checkers"] = Json{r.reviews.front().checker, by.user};
  ARK_RETURN_IF_ERROR(ledger.Append(entry).status());
  return r;
}

Result<std::vector<OutputRecord>> ListOutputs(Catalog& cat, const std::string& project) {
  ARK_RETURN_IF_ERROR(EnsureGovernanceSchema(cat));
  ARK_ASSIGN_OR_RETURN(auto q, cat.Prepare(std::string("SELECT ") + kCols + " FROM gov_outputs WHERE ? = '' OR project = ? ORDER BY id"));
  q->Bind(1, project).Bind(2, project);
  std::vector<OutputRecord> out;
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    ARK_ASSIGN_OR_RETURN(OutputRecord r, FromRow(*q));
    out.push_back(std::move(r));
  }
  q.reset();
  for (auto& r : out) ARK_RETURN_IF_ERROR(LoadReviews(cat, &r));
  return out;
}

nlohmann::ordered_json SdcTableJsonForResults(const sdc::TableCheck& t) {
  using OJson = nlohmann::ordered_json;
  OJson cells = OJson::array();
  for (size_t r = 0; r < t.row_labels.size(); ++r) {
    for (size_t c = 0; c < t.col_labels.size(); ++c) {
      const auto& cell = t.cells[r][c];
      OJson cj = {{"row", t.row_labels[r]}, {"column", t.col_labels[c]},
                  {"published", cell.published ? OJson(*cell.published) : OJson("[REDACTED]")}, {"outcome", cell.outcome}};
      if (!cell.reason.empty()) cj["reason"] = cell.reason;
      cells.push_back(cj);
    }
  }
  return {{"summary", {{"primary", t.primary}, {"secondary", t.secondary}, {"status", t.status}}}, {"cells", cells}};
}

}  // namespace ark::gov
