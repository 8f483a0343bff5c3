// Compiles a Definition into portable SQL (see sql_compile.h). Semantics are those of the native
// evaluator (native.cc) and docs/study-definitions.md: windows compare integer seconds, days are
// floor(time / 86400), NULLs follow SQL's three-valued logic in both.
#include "study/sql_compile.h"

#include <cmath>
#include <cstdio>

#include "core/time.h"
#include "study/codes.h"
#include "sql/connection.h"

namespace ark::study {
namespace {

std::string Quote(const std::string& s) { return sql::QuoteLiteral(s); }

// a / b for non-negative integers, exact in every engine (also DuckDB, where '/' is real division).
std::string Idiv(const std::string& a, const std::string& b) { return "((" + a + ") - (" + a + ") % " + b + ") / " + b; }
// floor(t / 86400) for any integer t.
std::string FloorDay(const std::string& t) { return "((" + t + ") - (((" + t + ") % 86400) + 86400) % 86400) / 86400"; }

// "Y AS iy, M AS im": the calendar year and month of a day known when compiling.
std::string Civil(int32_t day) {
  CivilDate c = CivilFromDays(day);
  return std::to_string(c.year) + " AS iy, " + std::to_string(c.month) + " AS im";
}

std::string Float(double x) {
  char buf[40];
  snprintf(buf, sizeof buf, "%.17g", x);
  return std::string("CAST(") + buf + " AS DOUBLE PRECISION)";
}

class Compiler {
 public:
  Compiler(const Definition& def, Purpose purpose, const Feeds& feeds)
      : def_(def), optouts_(AppliesOptOuts(purpose)), events_(EventsFrom(feeds)) {}

  // The events the script reads: ark_event, or only the rows of the given feeds.
  static std::string EventsFrom(const Feeds& feeds) {
    if (!feeds) return "ark_event";
    std::string in;
    for (auto& f : *feeds) in += (in.empty() ? "" : ", ") + Quote(f);
    return "(SELECT * FROM ark_event WHERE " + (in.empty() ? std::string("1 = 0") : "source IN (" + in + ")") + ")";
  }

  Result<SqlScript> Compile() {
    SqlScript s;
    std::vector<char> all(def_.variables.size(), 1);
    std::string idx;
    switch (def_.index.kind) {
      case IndexSpec::Kind::kFixed:
        idx = "SELECT p.person_id AS person_id, CAST(" + std::to_string(def_.index.day) + " AS BIGINT) AS iday, CAST(0 AS BIGINT) AS iseq, " +
              Civil(def_.index.day) + ", CAST(" + std::to_string(def_.index.day) + " AS BIGINT) AS iend FROM ark_person p";
        break;
      case IndexSpec::Kind::kEach:
      case IndexSpec::Kind::kFirst: {
        const std::string t = def_.index.at_end ? "e.end_time" : "e.time";
        std::string where = CodeCond(def_.index.codelist, "e.code") + (def_.index.at_end ? " AND e.end_time IS NOT NULL" : "");
        if (def_.index.kind == IndexSpec::Kind::kEach || def_.index.where) {  // with where: every candidate, filtered in Rows
          idx = "SELECT e.person_id AS person_id, " + FloorDay(t) + " AS iday, e.seq AS iseq FROM " + events_ + " e WHERE " + where;
        } else {
          idx = "SELECT f.person_id AS person_id, " + FloorDay("f.t") + " AS iday, f.seq AS iseq FROM (SELECT e.person_id, " + t +
                " AS t, e.seq, ROW_NUMBER() OVER (PARTITION BY e.person_id ORDER BY e.time, e.seq) AS rn FROM " + events_ + " e WHERE " + where +
                ") f WHERE f.rn = 1";
        }
        break;
      }
    }
    for (auto& st : Rows("study_rows", idx, def_.index.kind == IndexSpec::Kind::kFixed, all)) s.setup.push_back(st);
    std::string cols;
    for (size_t i = 0; i < def_.variables.size(); ++i) cols += ", o" + std::to_string(i);
    const std::string allowed = optouts_ ? " AND allowed = 1" : "";
    s.dataset = "SELECT person_id, iseq, iday" + cols + " FROM study_rows WHERE pop = 1" + allowed;
    s.excluded = optouts_ ? "SELECT count(*) FROM study_rows WHERE pop = 1 AND allowed = 0" : "SELECT 0";
    std::string mtable = "study_rows";
    if (def_.index.kind == IndexSpec::Kind::kFixed && !def_.measures.empty()) {
      std::vector<char> need(def_.variables.size(), 0);
      for (auto& m : def_.measures) {
        Mark(m.numerator, &need);
        Mark(m.denominator, &need);
        for (int g : m.group_by) Mark(g, &need);
      }
      if (def_.population.where) MarkExpr(*def_.population.where, &need);
      std::string days;
      for (const Interval& pt : MeasurePoints(def_)) {
        days += (days.empty() ? "SELECT CAST(" : " UNION ALL SELECT CAST(") + std::to_string(pt.start) + " AS BIGINT) AS iday, " + Civil(pt.start) +
                ", CAST(" + std::to_string(pt.end) + " AS BIGINT) AS iend";
      }
      std::string midx = "SELECT p.person_id AS person_id, i.iday AS iday, CAST(0 AS BIGINT) AS iseq, i.iy AS iy, i.im AS im, i.iend AS iend FROM ark_person p CROSS JOIN (" + days + ") i";
      if (optouts_) midx += " WHERE p.optout_known = 1 AND p.optout_national = 0 AND p.optout_type1 = 0";
      for (auto& st : Rows("study_mrows", midx, true, need)) s.setup.push_back(st);
      mtable = "study_mrows";
    }
    for (auto& m : def_.measures) {
      std::string g;
      for (int x : m.group_by) g += ", o" + std::to_string(x);
      const std::string num = "o" + std::to_string(m.numerator), den = "o" + std::to_string(m.denominator);
      s.measures.push_back("SELECT iday, iend" + g + ", SUM(COALESCE(" + num + ", 0)) AS numerator, SUM(" + den + ") AS denominator FROM " + mtable +
                           " WHERE pop = 1" + allowed + " AND " + den + " > 0 GROUP BY iday, iend" + g);
    }
    return s;
  }

 private:
  void MarkExpr(const Expr& e, std::vector<char>* need) const {
    if (e.kind == Expr::Kind::kVariable) Mark(e.ref, need);
    for (auto& a : e.args) MarkExpr(a, need);
  }
  void Mark(int i, std::vector<char>* need) const {
    if ((*need)[i]) return;
    (*need)[i] = 1;
    if (def_.variables[i].kind != Variable::Kind::kAggregate) MarkExpr(def_.variables[i].expr, need);
  }

  static bool ExprUsesRegistered(const Expr& e) {
    if (e.kind == Expr::Kind::kBuiltin && static_cast<Builtin>(e.ref) == Builtin::kRegistered) return true;
    for (auto& a : e.args)
      if (ExprUsesRegistered(a)) return true;
    return false;
  }
  bool UsesRegistered() const {
    if (def_.population.registered || (def_.population.where && ExprUsesRegistered(*def_.population.where))) return true;
    if (def_.index.where && ExprUsesRegistered(*def_.index.where)) return true;
    for (auto& v : def_.variables)
      if (v.kind != Variable::Kind::kAggregate && ExprUsesRegistered(v.expr)) return true;
    return false;
  }

  std::string CodeCond(int c, const std::string& column) const { return CodelistSql(def_.codelists[c], column); }

  // Statements that (re)create `t`: person_id, iday, iseq, allowed, pop, o<i> for the needed
  // variables. Each stage is a temporary table so that no engine inlines (and repeats) a
  // correlated subquery or the calendar arithmetic. `idx` gives person_id, iday, iseq and, when
  // `civil`, the index's calendar year iy and month im.
  std::vector<std::string> Rows(const std::string& t, const std::string& idx, bool civil, const std::vector<char>& need) const {
    std::vector<std::string> st, drops;
    auto make = [&](const std::string& name, const std::string& q, bool helper) {
      st.push_back("DROP TABLE IF EXISTS " + name);
      st.push_back("CREATE TEMP TABLE " + name + " AS\n" + q);
      if (helper) drops.push_back("DROP TABLE " + name);
    };
    const std::string cal = t + "_i";
    if (civil) {
      make(cal, "SELECT idx.person_id, idx.iday, idx.iseq, idx.iy, idx.im, idx.iend FROM (" + idx + ") idx", true);
    } else {
      // Civil year and month of the index day: H. Hinnant's algorithm, integer arithmetic only.
      const std::string k = t + "_k";
      make(k + "0", "SELECT idx.person_id, idx.iday, idx.iseq, idx.iday + 719468 AS z FROM (" + idx + ") idx", true);
      make(k + "1", "SELECT person_id, iday, iseq, " + Idiv("z", "146097") + " AS era, z - " + Idiv("z", "146097") + " * 146097 AS doe FROM " + k + "0", true);
      make(k + "2", "SELECT person_id, iday, iseq, era, doe, " +
                        Idiv("doe - " + Idiv("doe", "1460") + " + " + Idiv("doe", "36524") + " - " + Idiv("doe", "146096"), "365") + " AS yoe FROM " + k + "1",
           true);
      make(k + "3", "SELECT person_id, iday, iseq, era, yoe, doe - (365 * yoe + " + Idiv("yoe", "4") + " - " + Idiv("yoe", "100") + ") AS doy FROM " + k + "2", true);
      make(k + "4", "SELECT person_id, iday, iseq, era, yoe, " + Idiv("5 * doy + 2", "153") + " AS mp FROM " + k + "3", true);
      make(cal, "SELECT person_id, iday, iseq, yoe + era * 400 + CASE WHEN mp >= 10 THEN 1 ELSE 0 END AS iy, CASE WHEN mp < 10 THEN mp + 3 ELSE mp - 9 END AS im, iday AS iend FROM " + k + "4", true);
    }
    // Person attributes and the cheap built-ins; then `registered` and the aggregations, each
    // computed only where the population's cheaper conditions hold (elsewhere the row is out of
    // the population whatever they are, so they are left NULL).
    make(t + "_b",
         "SELECT c.person_id, c.iday, c.iseq, c.iend, "
         "CASE WHEN p.optout_known = 1 AND p.optout_national = 0 AND p.optout_type1 = 0 THEN 1 ELSE 0 END AS allowed, "
         "p.sex AS b_sex, p.imd_decile AS b_imd_decile, p.practice AS b_practice, "
         "CASE WHEN p.birth_year IS NULL THEN NULL ELSE CAST(c.iy - p.birth_year - CASE WHEN c.im < COALESCE(p.birth_month, 1) THEN 1 ELSE 0 END AS BIGINT) END AS b_age, "
         "CASE WHEN p.death_day IS NULL OR p.death_day > c.iday THEN 1 ELSE 0 END AS b_alive\n"
         "FROM " + cal + " c JOIN ark_person p ON p.person_id = c.person_id",
         true);
    std::string reg = "0";
    if (UsesRegistered()) {
      reg = "CASE WHEN EXISTS (SELECT 1 FROM " + events_ + " r WHERE r.person_id = c.person_id AND substr(r.code, 1, 4) = 'REG/' "
            "AND r.time < (c.iday + 1) * 86400 AND (r.end_time IS NULL OR r.end_time >= (c.iday + 1) * 86400)) THEN 1 ELSE 0 END";
      reg = Gated(reg, false);
    }
    make(t + "_r", "SELECT c.*, " + reg + " AS b_registered FROM " + t + "_b c", true);
    std::string q = "SELECT c.*";
    for (size_t i = 0; i < def_.variables.size(); ++i) {
      if (need[i] && def_.variables[i].kind == Variable::Kind::kAggregate) q += ",\n  " + Gated(Aggregate(def_.variables[i]), true) + " AS a" + std::to_string(i);
    }
    q += "\nFROM " + t + "_r c";
    make(t + "_v", q, true);
    q.clear();
    q += "SELECT person_id, iday, iseq, iend, allowed, CASE WHEN " + PopulationSql() + " THEN 1 ELSE 0 END AS pop";
    for (size_t i = 0; i < def_.variables.size(); ++i) {
      if (!need[i]) continue;
      const Variable& var = def_.variables[i];
      std::string x = VarSql(static_cast<int>(i));
      if (var.type == Type::kBool) x = "CASE WHEN " + x + " THEN 1 WHEN NOT " + x + " THEN 0 END";
      q += ",\n  " + x + " AS o" + std::to_string(i);
    }
    if (t == "study_rows" && def_.index.where) {
      // The earliest candidate at which the entry condition holds.
      q += ",\n  CASE WHEN " + ExprSql(*def_.index.where) + " THEN 1 ELSE 0 END AS q";
      q += "\nFROM " + t + "_v v";
      make(t + "_q", q, true);
      std::string cols = "x.person_id, x.iday, x.iseq, x.iend, x.allowed, x.pop";
      for (size_t i = 0; i < def_.variables.size(); ++i)
        if (need[i]) cols += ", x.o" + std::to_string(i);
      make(t, "SELECT " + cols + " FROM (SELECT r.*, ROW_NUMBER() OVER (PARTITION BY r.person_id ORDER BY r.iseq) AS rn FROM " + t +
                  "_q r WHERE r.q = 1) x WHERE x.rn = 1",
           false);
    } else {
      q += "\nFROM " + t + "_v v";
      make(t, q, false);
    }
    for (auto& d : drops) st.push_back(d);
    return st;
  }


  // `x` where the population's alive, age and (with `registered`) registration conditions hold,
  // else NULL.
  std::string Gated(const std::string& x, bool registered) const {
    // An entry condition is evaluated at every candidate whatever the population: no gating.
    if (def_.index.where) return x;
    const study::Population& p = def_.population;
    std::string g;
    auto add = [&](const std::string& c) { g += (g.empty() ? "" : " AND ") + c; };
    if (p.alive) add("c.b_alive = 1");
    if (p.age_min) add("c.b_age >= " + std::to_string(*p.age_min) + " AND c.b_age <= " + std::to_string(*p.age_max));
    if (registered && p.registered) add("c.b_registered = 1");
    if (g.empty()) return x;
    return "CASE WHEN " + g + " THEN " + x + " END";
  }

  std::string PopulationSql() const {
    const study::Population& p = def_.population;
    std::string s = "1 = 1";
    if (p.registered) s += " AND v.b_registered = 1";
    if (p.alive) s += " AND v.b_alive = 1";
    if (p.age_min) s += " AND v.b_age >= " + std::to_string(*p.age_min) + " AND v.b_age <= " + std::to_string(*p.age_max);
    if (p.where) s += " AND (" + ExprSql(*p.where) + ")";
    return "(" + s + ")";
  }

  std::string Aggregate(const Variable& v) const {
    std::string w = "e.person_id = c.person_id AND " + CodeCond(v.codelist, "e.code");
    // The window's first day D1 and last day D2 (see Variable::Match); "(D + k) * 86400".
    auto at = [&](bool end, int32_t off, int32_t plus) {
      return "(" + std::string(end ? "c.iend" : "c.iday") + " + (" + std::to_string(off + plus) + ")) * 86400";
    };
    const Window& win = v.window;
    switch (v.match) {
      case Variable::Match::kStart:
        if (win.from) w += " AND e.time >= " + at(win.from_end, *win.from, 0);
        if (win.to) w += " AND e.time < " + at(win.to_end, *win.to, 1);
        break;
      case Variable::Match::kOverlap:
        if (win.to) w += " AND e.time < " + at(win.to_end, *win.to, 1);
        if (win.from) w += " AND (e.end_time IS NULL OR e.end_time >= " + at(win.from_end, *win.from, 0) + ")";
        break;
      case Variable::Match::kSpan:
        w += " AND e.time < " + at(win.from_end, *win.from, 1);
        w += " AND (e.end_time IS NULL OR e.end_time >= " + at(win.to_end, *win.to, 1) + ")";
        break;
    }
    const std::string from = " FROM " + events_ + " e WHERE " + w;
    const std::string valued = " AND e.value IS NOT NULL";
    switch (v.agg) {
      case Agg::kExists: return "CASE WHEN EXISTS (SELECT 1" + from + ") THEN 1 ELSE 0 END";
      case Agg::kCount: return "(SELECT count(*)" + from + ")";
      case Agg::kMin: return "(SELECT min(e.value)" + from + valued + ")";
      case Agg::kMax: return "(SELECT max(e.value)" + from + valued + ")";
      case Agg::kMean: return "(SELECT avg(e.value)" + from + valued + ")";
      case Agg::kFirst:
      case Agg::kLast: {
        const bool first = v.agg == Agg::kFirst;
        if (v.output == Variable::Output::kDate) return "(SELECT " + std::string(first ? "min" : "max") + "(e.time)" + from + ")";
        const std::string col = v.output == Variable::Output::kValue ? "e.value"
                                : v.output == Variable::Output::kCode ? "e.code"
                                : v.output == Variable::Output::kEnd  ? "e.end_time"
                                                                      : "(" + FloorDay("e.end_time") + ") - (" + FloorDay("e.time") + ")";
        return "(SELECT " + col + from + (v.output == Variable::Output::kValue ? valued : "") + " ORDER BY " +
               (first ? "e.time, e.seq" : "e.time DESC, e.seq DESC") + " LIMIT 1)";
      }
    }
    return "NULL";
  }

  // A variable's value as SQL over the columns of v. Bools are SQL conditions.
  std::string VarSql(int i) const {
    const Variable& var = def_.variables[i];
    const std::string a = "v.a" + std::to_string(i);
    switch (var.kind) {
      case Variable::Kind::kAggregate:
        if (var.type == Type::kBool) return "(" + a + " = 1)";
        if (var.type == Type::kDate) return "(" + FloorDay(a) + ")";
        return a;
      case Variable::Kind::kExpr: return "(" + ExprSql(var.expr) + ")";
      case Variable::Kind::kBand: {
        std::string x = ExprSql(var.expr);
        std::string s = "(CASE WHEN " + x + " IS NULL THEN NULL";
        for (size_t k = 0; k < var.breaks.size(); ++k) s += " WHEN " + x + " < " + Float(var.breaks[k]) + " THEN " + Quote(var.labels[k]);
        return s + " ELSE " + Quote(var.labels.back()) + " END)";
      }
    }
    return "NULL";
  }

  std::string ExprSql(const Expr& e) const {
    switch (e.kind) {
      case Expr::Kind::kLiteral:
        switch (e.type) {
          case Type::kBool: return e.num != 0 ? "(1 = 1)" : "(1 = 0)";
          case Type::kInt: return "(" + std::to_string(static_cast<int64_t>(e.num)) + ")";
          case Type::kFloat: return Float(e.num);
          case Type::kStr: return Quote(e.str);
          case Type::kDate: return std::to_string(static_cast<int64_t>(e.num));
        }
        return "NULL";
      case Expr::Kind::kVariable: return VarSql(e.ref);
      case Expr::Kind::kBuiltin: {
        auto b = static_cast<Builtin>(e.ref);
        if (b == Builtin::kIndexDate || b == Builtin::kIntervalStart) return "v.iday";
        if (b == Builtin::kIntervalEnd) return "v.iend";
        if (b == Builtin::kRegistered || b == Builtin::kAlive) return "(v.b_" + std::string(BuiltinName(b)) + " = 1)";
        return "v.b_" + std::string(BuiltinName(b));
      }
      case Expr::Kind::kNot: return "(NOT " + ExprSql(e.args[0]) + ")";
      case Expr::Kind::kNeg: return "(-" + ExprSql(e.args[0]) + ")";
      case Expr::Kind::kIsNull: return "(" + ExprSql(e.args[0]) + (e.num != 0 ? " IS NOT NULL)" : " IS NULL)");
      case Expr::Kind::kBinary: break;
    }
    const std::string a = ExprSql(e.args[0]), b = ExprSql(e.args[1]);
    const std::string& op = e.str;
    if (op == "/") return "(CAST(" + a + " AS DOUBLE PRECISION) / NULLIF(CAST(" + b + " AS DOUBLE PRECISION), 0))";
    if (op == "!=") return "(" + a + " <> " + b + ")";
    if (op == "and") return "(" + a + " AND " + b + ")";
    if (op == "or") return "(" + a + " OR " + b + ")";
    return "(" + a + " " + op + " " + b + ")";
  }

  const Definition& def_;
  bool optouts_;
  std::string events_;  // EventsFrom
};

}  // namespace

std::string SqlScript::Text() const {
  std::string s;
  for (auto& x : setup) s += x + ";\n";
  s += dataset + ";\n" + excluded + ";\n";
  for (auto& m : measures) s += m + ";\n";
  return s;
}

Result<SqlScript> CompileSql(const Definition& def, Purpose purpose, const Feeds& feeds) {
  return Compiler(def, purpose, feeds).Compile();
}

}  // namespace ark::study
