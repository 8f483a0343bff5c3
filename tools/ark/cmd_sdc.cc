// `ark sdc check FILE.csv --rules opensafely|acro [--json]`: the disclosure-control engine
// (src/disclosure/sdc.h) on a table of counts: the first column holds labels, every other column
// counts. Prints each cell's published value and why it was hidden, the totals recomputed from
// published cells, and the status (pass | review | fail). The exit code carries the status, so that
// scripts can act on it: 0 pass, 3 review, 4 fail; 1 bad input, 2 bad usage (kSdcExit* below).
#include <cstdio>
#include <nlohmann/json.hpp>

#include <map>

#include "command.h"
#include "core/csv.h"
#include "disclosure/dp.h"
#include "disclosure/sdc.h"

namespace ark::cli {

int DispatchGroup(const char* group, const std::vector<std::pair<const char*, int (*)(int, char**)>>& subs, int argc,
                  char** argv);

nlohmann::ordered_json SdcTableJson(const sdc::TableCheck& t) {
  using OJson = nlohmann::ordered_json;
  auto show = [](const std::optional<int64_t>& v) { return v ? OJson(*v) : OJson("[REDACTED]"); };
  OJson j;
  j["status"] = t.status;
  j["summary"] = t.summary;
  OJson cells = OJson::array();
  OJson rows = OJson::array();
  for (size_t r = 0; r < t.row_labels.size(); ++r) {
    OJson row = {t.row_labels[r]};
    for (size_t c = 0; c < t.col_labels.size(); ++c) {
      const auto& cell = t.cells[r][c];
      OJson cj = {{"row", t.row_labels[r]}, {"column", t.col_labels[c]}, {"published", show(cell.published)},
                  {"outcome", cell.outcome}};
      if (!cell.reason.empty()) cj["reason"] = cell.reason;
      cells.push_back(cj);
      row.push_back(show(cell.published));
    }
    if (t.col_labels.size() > 1) row.push_back(show(t.row_totals[r]));
    rows.push_back(row);
  }
  OJson total_row = {"Total"};
  for (size_t c = 0; c < t.col_labels.size(); ++c) total_row.push_back(show(t.col_totals[c]));
  if (t.col_labels.size() > 1) total_row.push_back(show(t.total));
  rows.push_back(total_row);
  OJson header = {"label"};
  for (auto& c : t.col_labels) header.push_back(c);
  if (t.col_labels.size() > 1) header.push_back("Total");
  j["published"] = {{"header", header}, {"rows", rows}};
  j["total"] = show(t.total);
  j["cells"] = cells;
  j["counts"] = {{"primary", t.primary}, {"secondary", t.secondary}};
  return j;
}

namespace {

// Exit codes of `ark sdc check` by status (1 and 2 stay bad input and bad usage, as elsewhere).
constexpr int kSdcExitPass = 0, kSdcExitReview = 3, kSdcExitFail = 4;

int ExitCodeForStatus(const std::string& status) {
  if (status == "pass") return kSdcExitPass;
  if (status == "review") return kSdcExitReview;
  return kSdcExitFail;  // "fail", and anything unexpected fails closed
}

int Check(int argc, char** argv) {
  CLI::App app("Apply disclosure control to a CSV table of counts (first column labels, others counts).\n"
               "Exit code: 0 pass, 3 review (cells suppressed: a person must look), 4 fail;\n"
               "1 bad input, 2 bad usage.",
               "ark sdc check");
  std::string file, rules = "opensafely", rounding = "nearest5", eps;
  bool json = false, no_secondary = false;
  int64_t threshold = 10;
  app.add_option("file", file, "CSV table")->required();
  app.add_option("--rules", rules, "rule set: opensafely (default) or acro")->check(CLI::IsMember({"opensafely", "acro"}));
  app.add_option("--rounding", rounding, "opensafely rounding: nearest5 (default) or midpoint6")
      ->check(CLI::IsMember({"nearest5", "midpoint6"}));
  app.add_option("--threshold", threshold, "acro: minimum cell count (default 10)");
  app.add_flag("--no-secondary", no_secondary, "skip secondary suppression in tables");
  app.add_option("--dp-epsilon", eps, "also give differentially private counts (discrete Laplace, sensitivity 1)");
  std::string contributions;
  int64_t dof = -1;
  app.add_option("--contributions", contributions,
                 "acro magnitude checks: a CSV with columns cell,value (one row per contributor) for nk-dominance and p-ratio");
  app.add_option("--residual-dof", dof, "a regression output's residual degrees of freedom (acro: fails below 10)");
  app.add_flag("--json", json, "print JSON");
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  sdc::SdcOptions o;
  o.rules = rules == "acro" ? sdc::RuleSet::kAcro : sdc::RuleSet::kOpenSafely;
  o.rounding = rounding == "midpoint6" ? sdc::Rounding::kMidpoint6 : sdc::Rounding::kNearest5;
  o.threshold = threshold;
  o.secondary_suppression = !no_secondary;
  auto t = sdc::ReadCountCsv(file);
  if (!t.ok()) return ReportError(t.status());
  auto r = sdc::CheckTable(*t, o);
  if (!r.ok()) return ReportError(r.status());
  nlohmann::ordered_json j = {{"file", file}, {"rules", rules}};
  j.update(SdcTableJson(*r));
  if (!eps.empty()) {
    uint64_t num, den;
    if (int rc = ReportError(sdc::ParseEpsilon(eps, &num, &den))) return rc;
    sdc::DpSampler s;
    nlohmann::ordered_json dp = nlohmann::ordered_json::array();
    for (size_t i = 0; i < t->counts.size(); ++i) {
      for (size_t c = 0; c < t->col_labels.size(); ++c) {
        dp.push_back({{"row", t->row_labels[i]}, {"column", t->col_labels[c]},
                      {"noisy", sdc::NoisyCount(s, t->counts[i][c], 1, num, den)}});
      }
    }
    j["dp"] = {{"mechanism", "discrete Laplace (exact)"}, {"epsilon", eps}, {"sensitivity", 1}, {"cells", dp}};
  }
  auto worsen = [&](const char* to) {
    if (std::string(to) == "fail" || j["status"] == "pass") j["status"] = to;
  };
  if (!contributions.empty()) {
    auto c = CsvFile::Open(contributions);
    if (!c.ok()) return ReportError(c.status());
    const int cell = c->ColumnIndex("cell"), value = c->ColumnIndex("value");
    if (cell < 0 || value < 0) return ReportError(c->Error(1, "needs columns cell and value"));
    std::map<std::string, std::vector<double>> by_cell;
    CsvParser p(c->body(), c->body_first_line());
    std::vector<std::string_view> row;
    for (;;) {
      auto more = p.Next(&row);
      if (!more.ok()) return ReportError(more.status());
      if (!*more) break;
      if (row.size() <= static_cast<size_t>(std::max(cell, value))) continue;
      char* end = nullptr;
      std::string v(row[value]);
      double x = std::strtod(v.c_str(), &end);
      if (end == v.c_str() || *end) return ReportError(c->Error(p.line(), "value", "'" + v + "' is not a number"));
      by_cell[std::string(row[cell])].push_back(x);
    }
    nlohmann::ordered_json mag = nlohmann::ordered_json::array();
    for (auto& [name, xs] : by_cell) {
      auto m = sdc::CheckMagnitude(xs, o);
      mag.push_back({{"cell", name}, {"contributors", xs.size()}, {"pass", m.pass}, {"reason", m.reason}});
      if (!m.pass) worsen("fail");
    }
    j["magnitude"] = mag;
  }
  if (dof >= 0) {
    auto m = sdc::CheckRegression(dof, o);
    j["regression"] = {{"residual_dof", dof}, {"pass", m.pass}, {"reason", m.reason}};
    if (!m.pass) worsen("fail");
  }
  const int exit_code = ExitCodeForStatus(j["status"].get<std::string>());
  if (json) {
    std::printf("%s\n", j.dump(2).c_str());
    return exit_code;
  }
  std::printf("%s: %s (%s)\n", file.c_str(), j["status"].get<std::string>().c_str(), r->summary.c_str());
  if (j.contains("magnitude")) std::printf("magnitude: %s\n", j["magnitude"].dump().c_str());
  if (j.contains("regression")) std::printf("regression: %s\n", j["regression"].dump().c_str());
  for (auto& row : j["published"]["rows"]) {
    std::string line;
    for (auto& v : row) line += (line.empty() ? "" : ",") + (v.is_string() ? v.get<std::string>() : v.dump());
    std::printf("%s\n", line.c_str());
  }
  return exit_code;
}

int Sdc(int argc, char** argv) { return DispatchGroup("sdc", {{"check", Check}}, argc, argv); }
ARK_COMMAND(kSdc, "sdc", "disclosure control: check a table under the opensafely or acro rules", Sdc);

}  // namespace
}  // namespace ark::cli
