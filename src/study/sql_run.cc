// Runs a compiled study on a SQL connection and turns the engine's text results into the common
// EngineResult through the shared formatter, so that SQL results equal the native engine's.
#include "study/sql_run.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "study/sql_compile.h"

namespace ark::study {
namespace {

Status BadValue(const std::string& what, const std::string& text) {
  return Status::Internal("SQL engine returned '" + text + "' for " + what);
}

// Formats an engine's value of type t ("" for NULL) as the native engine does.
Status FormatSqlValue(Type t, const std::optional<std::string>& v, const std::string& what, std::string* out, bool csv) {
  if (!v) return Status::OK();
  if (t == Type::kStr) {
    if (csv) AppendCsvField(out, *v);
    else out->append(*v);
    return Status::OK();
  }
  double x;
  if (!ParseValue(t, *v, &x)) return BadValue(what, *v);
  AppendValue(out, t, x);
  return Status::OK();
}

Result<int64_t> Int(const std::optional<std::string>& v, const std::string& what) {
  double x;
  if (!v || !ParseValue(Type::kInt, *v, &x)) return BadValue(what, v.value_or("NULL"));
  return static_cast<int64_t>(std::llround(x));
}

}  // namespace

Result<EngineResult> RunSql(const Definition& def, sql::Connection& conn, Purpose purpose, const Feeds& feeds) {
  auto t0 = std::chrono::steady_clock::now();
  ARK_ASSIGN_OR_RETURN(SqlScript script, CompileSql(def, purpose, feeds));
  for (auto& stmt : script.setup) ARK_RETURN_IF_ERROR(conn.Exec(stmt));
  auto t1 = std::chrono::steady_clock::now();
  EngineResult r;
  ARK_ASSIGN_OR_RETURN(sql::ResultSet ds, conn.Query(script.dataset));
  r.rows.reserve(ds.rows.size());
  const bool with_day = HasIndexDateColumn(def);
  for (auto& row : ds.rows) {
    if (row.size() != 3 + def.variables.size()) return Status::Internal("SQL engine returned a dataset row of the wrong width");
    DatasetRow d;
    ARK_ASSIGN_OR_RETURN(int64_t person, Int(row[0], "person_id"));
    ARK_ASSIGN_OR_RETURN(d.seq, Int(row[1], "iseq"));
    d.person = static_cast<uint32_t>(person);
    d.line = std::to_string(person);
    if (with_day) {
      d.line += ',';
      ARK_RETURN_IF_ERROR(FormatSqlValue(Type::kDate, row[2], "index_date", &d.line, true));
    }
    for (size_t i = 0; i < def.variables.size(); ++i) {
      d.line += ',';
      ARK_RETURN_IF_ERROR(FormatSqlValue(def.variables[i].type, row[3 + i], def.variables[i].name, &d.line, true));
    }
    r.rows.push_back(std::move(d));
  }
  SortRows(&r.rows);
  ARK_ASSIGN_OR_RETURN(sql::ResultSet ex, conn.Query(script.excluded));
  if (ex.rows.size() != 1 || ex.rows[0].empty()) return Status::Internal("SQL engine returned no opt-out count");
  ARK_ASSIGN_OR_RETURN(int64_t excluded, Int(ex.rows[0][0], "the opt-out count"));
  r.optout_excluded = static_cast<uint64_t>(excluded);

  r.measures.resize(def.measures.size());
  const bool fixed = def.index.kind == IndexSpec::Kind::kFixed;
  for (size_t m = 0; m < def.measures.size(); ++m) {
    const Measure& ms = def.measures[m];
    ARK_ASSIGN_OR_RETURN(sql::ResultSet rs, conn.Query(script.measures[m]));
    for (auto& row : rs.rows) {
      if (row.size() != 4 + ms.group_by.size()) return Status::Internal("SQL engine returned a measure row of the wrong width");
      ARK_ASSIGN_OR_RETURN(int64_t day, Int(row[0], "iday"));
      ARK_ASSIGN_OR_RETURN(int64_t iend, Int(row[1], "iend"));
      auto it = std::upper_bound(ms.intervals.begin(), ms.intervals.end(), day, [](int64_t d, const Interval& iv) { return d < iv.start; });
      if (it == ms.intervals.begin()) continue;
      --it;
      if (fixed ? day != it->start || iend != MeasurePoint(def, *it).end : day > it->end) continue;
      std::vector<std::string> groups;
      for (size_t g = 0; g < ms.group_by.size(); ++g) {
        std::string s;
        ARK_RETURN_IF_ERROR(FormatSqlValue(def.variables[ms.group_by[g]].type, row[2 + g], "group", &s, false));
        groups.push_back(std::move(s));
      }
      ARK_ASSIGN_OR_RETURN(int64_t num, Int(row[2 + ms.group_by.size()], "numerator"));
      ARK_ASSIGN_OR_RETURN(int64_t den, Int(row[3 + ms.group_by.size()], "denominator"));
      auto& cell = r.measures[m][{static_cast<int>(it - ms.intervals.begin()), std::move(groups)}];
      cell.first += num;
      cell.second += den;
    }
  }
  auto t2 = std::chrono::steady_clock::now();
  r.seconds["sql_build_rows"] = std::chrono::duration<double>(t1 - t0).count();
  r.seconds["sql_queries"] = std::chrono::duration<double>(t2 - t1).count();
  return r;
}

}  // namespace ark::study
