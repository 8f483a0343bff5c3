#include "report/study_section.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "core/csv.h"
#include "core/fs.h"
#include "disclosure/opensafely.h"
#include "report/svg.h"
#include "study/definition.h"

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

// The first whole number in `s` ("10" -> 10, "40-64" -> 40, "<40" -> 40), if any.
std::optional<long> FirstNumber(const std::string& s) {
  const size_t at = s.find_first_of("0123456789");
  if (at == std::string::npos) return std::nullopt;
  return std::strtol(s.c_str() + at, nullptr, 10);
}

// Natural order of group labels: by their first number ("<40" before "40-64"), then as text.
bool NaturalLess(const std::string& a, const std::string& b) {
  const auto na = FirstNumber(a), nb = FirstNumber(b);
  if (na && nb && *na != *nb) return *na < *nb;
  if (na && nb) {
    const bool la = a.find('<') != std::string::npos, lb = b.find('<') != std::string::npos;
    if (la != lb) return la;
  }
  return a < b;
}

// "hba1c_control_by_age" -> "Hba1c control by age": a name a person can read.
std::string Humanise(std::string s) {
  std::replace(s.begin(), s.end(), '_', ' ');
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

// One measure file (OpenSAFELY columns: measure, interval_start, interval_end, ratio, numerator,
// denominator, then the group-by columns).
// `counts`: names of the measures whose numerator is a count (not a yes/no variable), whose ratio is
// a rate per person, never a percentage. Measures not in `counts` are judged from their rows.
Result<std::string> MeasureHtml(const std::string& path, const std::map<std::string, bool>& counts) {
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
  // Groups in their natural order (deciles 1, 2, ..., 10; age bands by their first age), and a
  // proportion (every numerator <= its denominator) shown as a percentage.
  std::vector<std::string> groups;
  bool proportion = true, ordered = grouped;
  for (auto& [g, rows] : by_group) {
    groups.push_back(g);
    ordered = ordered && FirstNumber(g).has_value();
    for (auto& [iv, v] : rows) {
      const auto num = Number(v[3]), den = Number(v[4]);
      if (num && den && *num > *den) proportion = false;
    }
  }
  std::stable_sort(groups.begin(), groups.end(), NaturalLess);
  if (auto k = counts.find(name); k != counts.end() && k->second) proportion = false;
  const double scale = proportion ? 100 : 1;
  auto show_ratio = [&](const std::string& text) {
    const auto r = Number(text);
    if (!r) return text;
    return proportion ? svg::Grouped(100 * *r, 1) + "%" : svg::Grouped(*r, 2);
  };
  auto show_count = [](const std::string& text) {
    const auto n = Number(text);
    return n ? svg::Grouped(*n, 0) : text;
  };
  std::vector<svg::Series> series;
  for (const std::string& g : groups) {
    if (series.size() >= 10) break;
    const auto& rows = by_group[g];
    svg::Series s{grouped ? g : Humanise(name), {}, ""};
    for (auto& iv : intervals) {
      auto it = rows.find(iv);
      const auto v = it == rows.end() ? std::nullopt : Number(it->second[2]);
      s.values.push_back(v ? std::optional<double>(scale * *v) : std::nullopt);
    }
    series.push_back(std::move(s));
  }
  std::string group_cols;
  for (size_t c = 6; c < head.size(); ++c) group_cols += (c > 6 ? ", " : "") + head[c];
  // "readmission_30d_by_deprivation" already says what it is grouped by.
  const bool says_group = name.find("_by_") != std::string::npos;
  const std::string title = Humanise(name) + (grouped && !says_group ? " by " + Humanise(group_cols) : "");
  std::string h = "<h4>" + Escape(title) + "</h4>";
  h += "<div class=row>" +
       svg::LineChart(intervals, series,
                      {.title = title + (proportion ? ", % in each interval" : ", ratio in each interval"),
                       .y_label = proportion ? "%" : "ratio", .width = 680, .height = 280,
                       .decimals = proportion ? 1 : 2, .ordered = ordered}) +
       "</div>";
  const std::string value_col = proportion ? "%" : "ratio";
  std::vector<std::vector<std::string>> rows;
  if (grouped) {
    const std::string& last = intervals.empty() ? std::string() : intervals.back();
    for (const std::string& g : groups) {
      const auto& r = by_group[g];
      auto it = r.find(last);
      if (it == r.end()) continue;
      rows.push_back({g, it->second[0] + " to " + it->second[1], show_count(it->second[3]), show_count(it->second[4]),
                      show_ratio(it->second[2])});
    }
    h += "<p>The latest interval, by group:</p>" +
         TableHtml({group_cols, "interval", "numerator", "denominator", value_col}, rows);
  } else {
    for (const std::string& g : groups)
      for (auto& [iv, v] : by_group[g])
        rows.push_back({v[0] + " to " + v[1], show_count(v[3]), show_count(v[4]), show_ratio(v[2])});
    h += TableHtml({"interval", "numerator", "denominator", value_col}, rows);
  }
  return h;
}

// A JSON value as text: numbers as they are, strings without quotes.
std::string Show(const nlohmann::json& v) {
  if (v.is_string()) return Escape(v.get<std::string>());
  if (v.is_null()) return "&ndash;";
  if (v.is_number_integer()) return svg::Grouped(v.get<double>(), 0);
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
  const std::string pop = pub.ok() && *pub ? svg::Grouped(static_cast<double>(**pub), 0) : std::string("[REDACTED]");
  std::string h = "<h3>" + Escape(Humanise(m.value("definition", std::string("study")))) + "</h3>";
  if (!description.empty()) h += "<p>" + Escape(description) + "</p>";
  h += fmt::format("<p>Population at the index date: <b>{}</b> (rounded); people excluded because they opted out: "
                   "{} (rounded); engine {}, purpose {}; definition SHA-256 <code>{}</code>.</p>",
                   pop, Show(m.value("optout_excluded_rounded", nlohmann::json())),
                   Escape(m.value("engine", std::string())), Escape(m.value("purpose", std::string())),
                   Escape(m.value("definition_sha256", std::string()).substr(0, 16)) + "…");
  // A measure whose numerator is a count (admissions per patient) is a rate, even where every
  // numerator happens to be at most its denominator.
  std::map<std::string, bool> counts;
  if (auto def = study::ParseDefinitionFile(definition); def.ok()) {
    for (const auto& me : def->measures) {
      if (me.numerator >= 0) counts[me.name] = def->variables[me.numerator].type != study::Type::kBool;
    }
  }
  std::vector<std::string> files;
  if (fs::exists(run_dir + "/measures")) {
    for (auto& e : fs::directory_iterator(run_dir + "/measures")) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  for (auto& f : files) {
    ARK_ASSIGN_OR_RETURN(std::string part, MeasureHtml(f, counts));
    h += part;
  }
  return h;
}

}  // namespace ark
