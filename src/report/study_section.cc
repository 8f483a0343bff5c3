#include "report/study_section.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/csv.h"
#include "core/fs.h"
#include "disclosure/opensafely.h"
#include "report/svg.h"

namespace ark {
namespace {

namespace fs = std::filesystem;
using svg::Escape;

std::string TableHtml(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows) {
  std::string t = "<table><tr>";
  for (auto& h : head) t += "<th>" + Escape(h) + "</th>";
  t += "</tr>";
  for (auto& r : rows) {
    t += "<tr>";
    for (auto& c : r) t += "<td>" + Escape(c) + "</td>";
    t += "</tr>";
  }
  return t + "</table>";
}

std::optional<double> Number(std::string_view s) {
  if (s.empty() || s.front() == '[') return std::nullopt;  // [REDACTED]
  try {
    return std::stod(std::string(s));
  } catch (...) {
    return std::nullopt;
  }
}

// One measure file (OpenSAFELY columns: measure, interval_start, interval_end, ratio, numerator,
// denominator, then the group-by columns).
Result<std::string> MeasureHtml(const std::string& path) {
  ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(path));
  const auto& head = f.header();
  if (head.size() < 6 || head[1] != "interval_start" || head[3] != "ratio") {
    return Status::InvalidArgument(path + ": not a measure table");
  }
  const bool grouped = head.size() > 6;
  CsvParser p(f.body(), f.body_first_line());
  std::vector<std::string_view> row;
  std::vector<std::string> intervals;
  std::map<std::string, std::map<std::string, std::vector<std::string>>> by_group;  // group -> interval -> row
  std::string name;
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool more, f.NextRow(p, &row));
    if (!more) break;
    name = std::string(row[0]);
    const std::string iv(row[1]);
    if (intervals.empty() || intervals.back() != iv) {
      if (std::find(intervals.begin(), intervals.end(), iv) == intervals.end()) intervals.push_back(iv);
    }
    std::string group;
    for (size_t c = 6; c < row.size(); ++c) group += (c > 6 ? " / " : "") + std::string(row[c]);
    by_group[group][iv] = {std::string(row[1]), std::string(row[2]), std::string(row[3]), std::string(row[4]), std::string(row[5])};
  }
  std::sort(intervals.begin(), intervals.end());
  std::vector<svg::Series> series;
  for (auto& [g, rows] : by_group) {
    if (series.size() >= 10) break;
    svg::Series s{grouped ? g : "ratio", {}, ""};
    for (auto& iv : intervals) {
      auto it = rows.find(iv);
      s.values.push_back(it == rows.end() ? std::nullopt : Number(it->second[2]));
    }
    series.push_back(std::move(s));
  }
  std::string group_cols;
  for (size_t c = 6; c < head.size(); ++c) group_cols += (c > 6 ? ", " : "") + head[c];
  std::string h = "<h4>" + Escape(name) + (grouped ? " by " + Escape(group_cols) : "") + "</h4>";
  h += "<div class=row>" + svg::LineChart(intervals, series, {.title = name + ": ratio by interval start", .y_label = "ratio", .width = 680, .height = 280, .decimals = 2}) + "</div>";
  std::vector<std::vector<std::string>> rows;
  if (grouped) {
    const std::string& last = intervals.empty() ? std::string() : intervals.back();
    for (auto& [g, r] : by_group) {
      auto it = r.find(last);
      if (it == r.end()) continue;
      rows.push_back({g, it->second[0] + " to " + it->second[1], it->second[3], it->second[4], it->second[2]});
    }
    h += "<p>The latest interval, by group:</p>" + TableHtml({group_cols, "interval", "numerator", "denominator", "ratio"}, rows);
  } else {
    for (auto& [g, r] : by_group)
      for (auto& [iv, v] : r) rows.push_back({v[0] + " to " + v[1], v[3], v[4], v[2]});
    h += TableHtml({"interval", "numerator", "denominator", "ratio"}, rows);
  }
  return h;
}

// A JSON value as text: numbers as they are, strings without quotes.
std::string Show(const nlohmann::json& v) {
  if (v.is_string()) return Escape(v.get<std::string>());
  if (v.is_null()) return "&ndash;";
  return v.dump();
}

}  // namespace

Result<std::string> StudySectionHtml(const std::string& definition, const std::string& run_dir) {
  ARK_ASSIGN_OR_RETURN(std::string mtext, ReadFile(run_dir + "/manifest.json"));
  auto m = nlohmann::json::parse(mtext, nullptr, false);
  if (m.is_discarded()) return Status::Corruption(run_dir + "/manifest.json: not JSON");
  std::string description;
  try {
    YAML::Node y = YAML::LoadFile(definition);
    if (y["description"]) description = y["description"].as<std::string>();
  } catch (const std::exception&) {
  }
  const int64_t population = m.contains("population") && m["population"].is_number() ? m["population"].get<int64_t>() : 0;
  const auto pub = sdc::PublishCount(population);
  const std::string pop = pub.ok() && *pub ? std::to_string(**pub) : std::string("[REDACTED]");
  std::string h = "<h3>" + Escape(m.value("definition", std::string("study"))) + "</h3>";
  if (!description.empty()) h += "<p>" + Escape(description) + "</p>";
  h += fmt::format("<p>Population at the index date: <b>{}</b> (rounded); people excluded because they opted out: "
                   "{} (rounded); engine {}, purpose {}; definition SHA-256 <code>{}</code>.</p>",
                   pop, Show(m.value("optout_excluded_rounded", nlohmann::json())),
                   Escape(m.value("engine", std::string())), Escape(m.value("purpose", std::string())),
                   Escape(m.value("definition_sha256", std::string()).substr(0, 16)) + "…");
  std::vector<std::string> files;
  if (fs::exists(run_dir + "/measures")) {
    for (auto& e : fs::directory_iterator(run_dir + "/measures")) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  for (auto& f : files) {
    ARK_ASSIGN_OR_RETURN(std::string part, MeasureHtml(f));
    h += part;
  }
  return h;
}

}  // namespace ark
