// Parsing study definitions (YAML) into the checked Definition tree. Unknown keys are errors, so a
// typo does not silently change a study. Messages: "<file>:<line>:<col>: <what>".
#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "core/csv.h"
#include "core/fs.h"
#include "core/yaml_errors.h"
#include "privacy/key.h"
#include "core/time.h"
#include "study/codes.h"
#include "study/definition.h"

namespace ark::study {
namespace {

std::string Sha256Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return ToHex(md, len);
}

class Parser {
 public:
  Parser(std::string name, std::string base_dir) : name_(std::move(name)), base_(std::move(base_dir)) {}

  Status Error(const YAML::Node& n, const std::string& what) const { return YamlError(name_, n, what); }
  Status Keys(const YAML::Node& map, const std::set<std::string>& allowed, const std::string& where) const {
    return YamlKeys(name_, map, allowed, where);
  }
  Result<int32_t> Day(const YAML::Node& n, const std::string& where) const {
    if (!n.IsScalar()) return Error(n, where + " must be a date YYYY-MM-DD");
    auto t = ParseTime(n.as<std::string>(), "%Y-%m-%d");
    if (!t.ok() || n.as<std::string>().size() != 10) return Error(n, where + ": '" + n.as<std::string>() + "' is not a date YYYY-MM-DD");
    if (*t < 0) return Error(n, where + ": dates before 1970-01-01 are not supported");
    return DayOf(*t);
  }
  Result<bool> Bool(const YAML::Node& n, const std::string& where) const {
    std::string s = n.IsScalar() ? n.as<std::string>() : "";
    if (s == "true") return true;
    if (s == "false") return false;
    return Error(n, where + " must be true or false");
  }
  Result<int32_t> Offset(const YAML::Node& n, const std::string& where) const {
    std::string s = n.IsScalar() ? n.as<std::string>() : "";
    if (s.size() >= 2 && (s.back() == 'd' || s.back() == 'w')) {
      std::string num = s.substr(0, s.size() - 1);
      char* end = nullptr;
      long v = std::strtol(num.c_str(), &end, 10);
      if (!num.empty() && end == num.c_str() + num.size() && std::labs(v) < 100000) {
        return static_cast<int32_t>(s.back() == 'w' ? v * 7 : v);
      }
    }
    return Error(n, where + ": '" + s + "' is not an offset in days or weeks relative to the index (e.g. -365d, 0d, 2w)");
  }
  // A window bound: an offset from the index (-365d), or interval_start / interval_end with an
  // optional offset (interval_end, interval_end-30d, interval_start+1w). Returns (days, at end).
  Result<std::pair<int32_t, bool>> Bound(const YAML::Node& n, const std::string& where) {
    std::string s = n.IsScalar() ? n.as<std::string>() : "";
    for (const char* anchor : {"interval_start", "interval_end"}) {
      const std::string a = anchor;
      if (s.compare(0, a.size(), a) != 0) continue;
      if (def_.index.kind != IndexSpec::Kind::kFixed) return Error(n, where + ": " + a + " needs a fixed index_date (a per-event row has no interval)");
      const bool end = a == "interval_end";
      if (end) def_.uses_interval_end = true;
      std::string rest = s.substr(a.size());
      if (rest.empty()) return std::pair<int32_t, bool>{0, end};
      if (rest[0] == '+') rest = rest.substr(1);
      else if (rest[0] != '-') break;
      YAML::Node off(rest);
      auto v = Offset(off, where);
      if (!v.ok()) break;
      return std::pair<int32_t, bool>{*v, end};
    }
    ARK_ASSIGN_OR_RETURN(int32_t d, Offset(n, where));
    return std::pair<int32_t, bool>{d, false};
  }
  int CodelistIndex(const std::string& name) const {
    for (size_t i = 0; i < def_.codelists.size(); ++i)
      if (def_.codelists[i].name == name) return static_cast<int>(i);
    return -1;
  }
  Result<int> CodelistRef(const YAML::Node& n, const std::string& where) const {
    std::string s = n.IsScalar() ? n.as<std::string>() : "";
    int i = CodelistIndex(s);
    if (i < 0) {
      std::string known;
      for (auto& c : def_.codelists) known += (known.empty() ? "" : ", ") + c.name;
      return Error(n, where + ": unknown codelist '" + s + "' (defined: " + (known.empty() ? "none" : known) + ")");
    }
    return i;
  }
  int VariableIndex(const std::string& name) const {
    for (size_t i = 0; i < def_.variables.size(); ++i)
      if (def_.variables[i].name == name) return static_cast<int>(i);
    return -1;
  }
  Result<Expr> ExprOf(const YAML::Node& n, const std::string& where) const {
    if (!n.IsScalar()) return Error(n, where + " must be an expression");
    const YAML::Mark m = n.Mark();
    int col = m.column + 1 + (n.Tag() == "!" ? 1 : 0);  // quoted scalars start after the quote
    return ParseExpr(n.as<std::string>(), def_.variables, name_, m.line + 1, col);
  }

  Status ParseCodelists(const YAML::Node& node) {
    if (!node.IsMap()) return Error(node, "codelists must be a mapping of name to {file, system} or {codes}");
    for (auto it = node.begin(); it != node.end(); ++it) {
      Codelist cl;
      cl.name = it->first.as<std::string>();
      if (CodelistIndex(cl.name) >= 0) return Error(it->first, "codelist '" + cl.name + "' defined twice");
      const YAML::Node v = it->second;  // a copy: it->second refers into a temporary
      ARK_RETURN_IF_ERROR(Keys(v, {"file", "system", "column", "system_column", "codes"}, "codelist '" + cl.name + "'"));
      std::string system = v["system"] ? v["system"].as<std::string>() : "";
      auto add = [&](const YAML::Node& at, const std::string& sys, const std::string& code) -> Status {
        Status s = AddCode(sys, code, &cl);
        return s.ok() ? s : Error(at, "codelist '" + cl.name + "': " + s.message());
      };
      if (v["codes"]) {
        if (v["file"]) return Error(v["codes"], "codelist '" + cl.name + "': give either 'file' or 'codes', not both");
        if (!v["codes"].IsSequence()) return Error(v["codes"], "codes must be a list");
        for (const auto& c : v["codes"]) {
          ARK_RETURN_IF_ERROR(add(c, system, c.as<std::string>()));
        }
      } else if (v["file"]) {
        std::string rel = v["file"].as<std::string>();
        std::string path = rel.empty() || rel[0] == '/' || base_.empty() ? rel : base_ + "/" + rel;
        auto file = CsvFile::Open(path);
        if (!file.ok()) return Error(v["file"], "codelist '" + cl.name + "': " + file.status().message());
        std::string column = v["column"] ? v["column"].as<std::string>() : "code";
        int ci = file->ColumnIndex(column);
        if (ci < 0) return Error(v["file"], "codelist '" + cl.name + "': " + path + " has no column '" + column + "'");
        int si = -1;
        if (v["system_column"]) {
          si = file->ColumnIndex(v["system_column"].as<std::string>());
          if (si < 0) return Error(v["system_column"], "codelist '" + cl.name + "': " + path + " has no column '" + v["system_column"].as<std::string>() + "'");
        } else if (system.empty()) {
          return Error(v, "codelist '" + cl.name + "': give 'system' (e.g. SNOMED) or 'system_column'");
        }
        CsvParser p(file->body(), file->body_first_line());
        std::vector<std::string_view> row;
        for (;;) {
          auto more = file->NextRow(p, &row);
          if (!more.ok()) return Error(v["file"], "codelist '" + cl.name + "': " + more.status().message());
          if (!*more) break;
          std::string code(row[ci]);
          if (code.empty()) continue;
          std::string sys = si >= 0 ? std::string(row[si]) : system;
          if (sys.empty()) return Error(v["file"], "codelist '" + cl.name + "': " + path + ":" + std::to_string(p.line()) + ": empty system");
          Status added = add(v["file"], sys, code);
          if (!added.ok()) return Status::InvalidArgument(added.message() + " (" + path + ":" + std::to_string(p.line()) + ")");
        }
        auto bytes = ReadFile(path);
        if (bytes.ok()) hashed_ += *bytes;
      } else {
        return Error(v, "codelist '" + cl.name + "' needs 'file' or 'codes'");
      }
      std::sort(cl.codes.begin(), cl.codes.end());
      cl.codes.erase(std::unique(cl.codes.begin(), cl.codes.end()), cl.codes.end());
      std::sort(cl.prefixes.begin(), cl.prefixes.end());
      cl.prefixes.erase(std::unique(cl.prefixes.begin(), cl.prefixes.end()), cl.prefixes.end());
      if (cl.codes.empty() && cl.prefixes.empty()) return Error(it->first, "codelist '" + cl.name + "' is empty");
      def_.codelists.push_back(std::move(cl));
    }
    if (def_.codelists.size() > 62) return Error(node, "at most 62 codelists");
    return Status::OK();
  }

  Status ParseIndex(const YAML::Node& n) {
    IndexSpec& ix = def_.index;
    if (n.IsScalar()) {
      ix.kind = IndexSpec::Kind::kFixed;
      ARK_ASSIGN_OR_RETURN(ix.day, Day(n, "index_date"));
      return Status::OK();
    }
    ARK_RETURN_IF_ERROR(Keys(n, {"first", "each", "at", "where"}, "index_date"));
    if (n["where"] && !n["first"]) return Error(n["where"], "index_date.where goes with 'first' (the earliest event meeting it); with 'each' use population.where");
    if (n["first"] && n["each"]) return Error(n, "index_date: give 'first' or 'each', not both");
    if (n["first"]) {
      ix.kind = IndexSpec::Kind::kFirst;
      ARK_ASSIGN_OR_RETURN(ix.codelist, CodelistRef(n["first"], "index_date"));
    } else if (n["each"]) {
      ix.kind = IndexSpec::Kind::kEach;
      ARK_ASSIGN_OR_RETURN(ix.codelist, CodelistRef(n["each"], "index_date"));
    } else {
      return Error(n, "index_date must be a date, {first: CODELIST} or {each: CODELIST}");
    }
    if (n["at"]) {
      std::string at = n["at"].as<std::string>();
      if (at != "start" && at != "end") return Error(n["at"], "index_date.at must be 'start' or 'end'");
      ix.at_end = at == "end";
    }
    return Status::OK();
  }

  Status ParsePopulation(const YAML::Node& n) {
    ARK_RETURN_IF_ERROR(Keys(n, {"registered", "alive", "age", "where"}, "population"));
    Population& p = def_.population;
    if (n["registered"]) {
        ARK_ASSIGN_OR_RETURN(p.registered, Bool(n["registered"], "population.registered"));
      }
    if (n["alive"]) {
        ARK_ASSIGN_OR_RETURN(p.alive, Bool(n["alive"], "population.alive"));
      }
    if (n["age"]) {
      const YAML::Node& a = n["age"];
      if (!a.IsSequence() || a.size() != 2) return Error(a, "population.age must be [min, max] (inclusive)");
      try {
        p.age_min = a[0].as<int>();
        p.age_max = a[1].as<int>();
      } catch (const YAML::Exception&) {
        return Error(a, "population.age must hold two whole numbers");
      }
      if (*p.age_min > *p.age_max) return Error(a, "population.age: min " + std::to_string(*p.age_min) + " > max " + std::to_string(*p.age_max));
    }
    return Status::OK();
  }

  Status ParseVariable(const std::string& name, const YAML::Node& key, const YAML::Node& v) {
    Variable var;
    var.name = name;
    var.line = key.Mark().line + 1;
    var.col = key.Mark().column + 1;
    for (char c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return Error(key, "variable name '" + name + "' must be letters, digits and _");
    }
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return Error(key, "variable name '" + name + "' must start with a letter");
    static const std::set<std::string> kReserved = {"age", "sex", "imd_decile", "practice", "registered", "alive", "and", "or", "not", "is", "null", "true", "false", "patient_id", "index_date", "interval_start", "interval_end"};
    if (kReserved.count(name)) return Error(key, "variable name '" + name + "' is reserved (a built-in or keyword)");
    if (VariableIndex(name) >= 0) return Error(key, "variable '" + name + "' defined twice");
    if (v.IsScalar()) {
      var.kind = Variable::Kind::kExpr;
      ARK_ASSIGN_OR_RETURN(var.expr, ExprOf(v, "variable '" + name + "'"));
      var.type = var.expr.type;
    } else if (v.IsMap() && v["band"]) {
      ARK_RETURN_IF_ERROR(Keys(v, {"band", "breaks", "labels"}, "band variable '" + name + "'"));
      var.kind = Variable::Kind::kBand;
      var.type = Type::kStr;
      ARK_ASSIGN_OR_RETURN(var.expr, ExprOf(v["band"], "band"));
      if (!IsNumeric(var.expr.type)) return Error(v["band"], "type mismatch: band needs a number, got " + std::string(TypeName(var.expr.type)));
      if (!v["breaks"] || !v["breaks"].IsSequence() || v["breaks"].size() == 0) return Error(v, "band variable '" + name + "' needs breaks: [b1, b2, ...]");
      for (const auto& b : v["breaks"]) {
        double x;
        try {
          x = b.as<double>();
        } catch (const YAML::Exception&) {
          return Error(b, "breaks must be numbers");
        }
        if (!var.breaks.empty() && x <= var.breaks.back()) return Error(b, "breaks must ascend");
        var.breaks.push_back(x);
      }
      if (v["labels"]) {
        if (!v["labels"].IsSequence() || v["labels"].size() != var.breaks.size() + 1) {
          return Error(v["labels"], "labels must list " + std::to_string(var.breaks.size() + 1) + " names (one more than breaks)");
        }
        for (const auto& l : v["labels"]) var.labels.push_back(l.as<std::string>());
      } else {
        auto num = [](double x) {
          char buf[32];
          snprintf(buf, sizeof buf, "%g", x);
          return std::string(buf);
        };
        bool ints = var.expr.type == Type::kInt;
        for (double b : var.breaks) ints = ints && b == std::floor(b);
        var.labels.push_back("<" + num(var.breaks[0]));
        for (size_t i = 0; i + 1 < var.breaks.size(); ++i) {
          var.labels.push_back(num(var.breaks[i]) + "-" + (ints ? num(var.breaks[i + 1] - 1) : "<" + num(var.breaks[i + 1])));
        }
        var.labels.push_back(num(var.breaks.back()) + "+");
      }
    } else if (v.IsMap()) {
      static const std::pair<const char*, Agg> kAggs[] = {{"exists", Agg::kExists}, {"count", Agg::kCount}, {"first", Agg::kFirst},
                                                          {"last", Agg::kLast},     {"min", Agg::kMin},     {"max", Agg::kMax},
                                                          {"mean", Agg::kMean}};
      YAML::Node cl_node;
      int found = 0;
      for (auto& [k, a] : kAggs) {
        if (v[k]) {
          ++found;
          var.agg = a;
          cl_node = v[k];
        }
      }
      ARK_RETURN_IF_ERROR(Keys(v, {"exists", "count", "first", "last", "min", "max", "mean", "from", "to", "value", "code", "end", "length", "overlapping", "spanning", "active"},
                               "variable '" + name + "'"));
      if (found != 1) return Error(v, "variable '" + name + "' needs exactly one of exists, count, first, last, min, max, mean (or band, or an expression)");
      var.kind = Variable::Kind::kAggregate;
      ARK_ASSIGN_OR_RETURN(var.codelist, CodelistRef(cl_node, "variable '" + name + "'"));
      if (v["active"]) {
        if (v["from"] || v["to"] || v["overlapping"] || v["spanning"]) return Error(v["active"], "'active' is a single day: give it without from, to, overlapping or spanning");
        ARK_ASSIGN_OR_RETURN(auto b, Bound(v["active"], "active"));
        var.window.from = var.window.to = b.first;
        var.window.from_end = var.window.to_end = b.second;
        var.match = Variable::Match::kSpan;
      }
      if (v["from"]) {
        ARK_ASSIGN_OR_RETURN(auto b, Bound(v["from"], "from"));
        var.window.from = b.first;
        var.window.from_end = b.second;
      }
      if (v["to"]) {
        ARK_ASSIGN_OR_RETURN(auto b, Bound(v["to"], "to"));
        var.window.to = b.first;
        var.window.to_end = b.second;
      }
      if (var.window.from && var.window.to && var.window.from_end == var.window.to_end && *var.window.from > *var.window.to) {
        return Error(v["from"], "window from " + v["from"].as<std::string>() + " is after to " + v["to"].as<std::string>());
      }
      if (var.window.from && var.window.to && var.window.from_end && !var.window.to_end) {
        return Error(v["from"], "window from " + v["from"].as<std::string>() + " (the interval's end) is after to " + v["to"].as<std::string>() + " (the index)");
      }
      bool flags[4] = {false, false, false, false};  // value, code, end, length
      const char* kOut[4] = {"value", "code", "end", "length"};
      int outputs = 0;
      for (int k = 0; k < 4; ++k) {
        if (!v[kOut[k]]) continue;
        ARK_ASSIGN_OR_RETURN(flags[k], Bool(v[kOut[k]], kOut[k]));
        outputs += flags[k];
      }
      bool first_last = var.agg == Agg::kFirst || var.agg == Agg::kLast;
      for (int k = 0; k < 4; ++k) {
        if (flags[k] && !first_last) return Error(v[kOut[k]], "'value', 'code', 'end' and 'length' apply only to first and last");
      }
      if (outputs > 1) return Error(v, "give one of 'value', 'code', 'end', 'length'");
      const bool value = flags[0], code = flags[1];
      var.output = value ? Variable::Output::kValue : code ? Variable::Output::kCode : flags[2] ? Variable::Output::kEnd : flags[3] ? Variable::Output::kLength : Variable::Output::kDate;
      for (const char* m : {"overlapping", "spanning"}) {
        if (!v[m]) continue;
        ARK_ASSIGN_OR_RETURN(bool on, Bool(v[m], m));
        if (!on) continue;
        if (var.match != Variable::Match::kStart) return Error(v[m], "give one of 'overlapping', 'spanning', 'active'");
        var.match = std::string(m) == "spanning" ? Variable::Match::kSpan : Variable::Match::kOverlap;
      }
      if (var.match == Variable::Match::kSpan && (!var.window.from || !var.window.to)) {
        return Error(v["spanning"], "'spanning' needs both from and to (the period the event must cover)");
      }
      switch (var.agg) {
        case Agg::kExists: var.type = Type::kBool; break;
        case Agg::kCount: var.type = Type::kInt; break;
        case Agg::kFirst:
        case Agg::kLast:
          var.type = value ? Type::kFloat : code ? Type::kStr : var.output == Variable::Output::kLength ? Type::kInt : Type::kDate;
          break;
        default: var.type = Type::kFloat; break;
      }
    } else {
      return Error(v, "variable '" + name + "' must be an expression or a mapping");
    }
    def_.variables.push_back(std::move(var));
    return Status::OK();
  }

  // interval_start / interval_end in an expression: only with a fixed index; notes a use of the end.
  Status CheckIntervalRefs(const Expr& e, const YAML::Node& at) {
    if (e.kind == Expr::Kind::kBuiltin) {
      auto b = static_cast<Builtin>(e.ref);
      if (b == Builtin::kIntervalStart || b == Builtin::kIntervalEnd) {
        if (def_.index.kind != IndexSpec::Kind::kFixed) return Error(at, std::string(BuiltinName(b)) + " needs a fixed index_date (a per-event row has no interval)");
        if (b == Builtin::kIntervalEnd) def_.uses_interval_end = true;
      }
    }
    for (const Expr& a : e.args) ARK_RETURN_IF_ERROR(CheckIntervalRefs(a, at));
    return Status::OK();
  }

  Result<int> VarRef(const YAML::Node& n, const std::string& where, bool count_like) const {
    std::string s = n.IsScalar() ? n.as<std::string>() : "";
    int i = VariableIndex(s);
    if (i < 0) return Error(n, where + ": unknown variable '" + s + "'");
    Type t = def_.variables[i].type;
    if (count_like && t != Type::kBool && t != Type::kInt) {
      return Error(n, "type mismatch: " + where + " '" + s + "' must be bool or int, not " + TypeName(t));
    }
    return i;
  }

  Result<std::vector<Interval>> Intervals(const YAML::Node& n) const {
    ARK_RETURN_IF_ERROR(Keys(n, {"every", "from", "to"}, "intervals"));
    if (!n["every"] || !n["from"] || !n["to"]) return Error(n, "intervals needs every, from and to");
    std::string every = n["every"].as<std::string>();
    int months = every == "month" || every == "months" ? 1 : every == "quarter" || every == "quarters" ? 3 : every == "year" || every == "years" ? 12 : 0;
    if (!months) return Error(n["every"], "intervals.every must be month, quarter or year");
    ARK_ASSIGN_OR_RETURN(int32_t from, Day(n["from"], "intervals.from"));
    ARK_ASSIGN_OR_RETURN(int32_t to, Day(n["to"], "intervals.to"));
    if (from > to) return Error(n["from"], "intervals: from " + n["from"].as<std::string>() + " is after to " + n["to"].as<std::string>());
    std::vector<Interval> out;
    CivilDate c = CivilFromDays(from);
    for (int k = 0;; ++k) {
      auto at = [&](int step) {
        int m0 = static_cast<int>(c.month) - 1 + step * months;
        int y = c.year + m0 / 12;
        unsigned m = static_cast<unsigned>(m0 % 12) + 1;
        unsigned d = c.day;
        while (!IsValidDate(y, m, d)) --d;  // 31 Jan + 1 month = 28/29 Feb
        return DaysFromCivil(y, m, d);
      };
      Interval iv{at(k), at(k + 1) - 1};
      if (iv.start > to) break;
      out.push_back(iv);
      if (out.size() > 1200) return Error(n, "intervals: more than 1200 intervals");
    }
    return out;
  }

  Status ParseMeasures(const YAML::Node& node) {
    if (!node.IsMap()) return Error(node, "measures must be a mapping of name to {numerator, denominator, group_by, intervals}");
    for (auto it = node.begin(); it != node.end(); ++it) {
      Measure m;
      m.name = it->first.as<std::string>();
      for (auto& o : def_.measures)
        if (o.name == m.name) return Error(it->first, "measure '" + m.name + "' defined twice");
      for (char c : m.name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return Error(it->first, "measure name '" + m.name + "' must be letters, digits, _ and -");
      const YAML::Node v = it->second;  // a copy: it->second refers into a temporary
      ARK_RETURN_IF_ERROR(Keys(v, {"numerator", "denominator", "group_by", "intervals"}, "measure '" + m.name + "'"));
      if (!v["numerator"] || !v["denominator"] || !v["intervals"]) return Error(v, "measure '" + m.name + "' needs numerator, denominator and intervals");
      ARK_ASSIGN_OR_RETURN(m.numerator, VarRef(v["numerator"], "numerator", true));
      ARK_ASSIGN_OR_RETURN(m.denominator, VarRef(v["denominator"], "denominator", true));
      if (v["group_by"]) {
        const YAML::Node& g = v["group_by"];
        if (!g.IsSequence()) return Error(g, "group_by must be a list of variables");
        if (g.size() > 4) return Error(g, "group_by takes at most 4 variables");
        for (const auto& x : g) {
          ARK_ASSIGN_OR_RETURN(int i, VarRef(x, "group_by", false));
          m.group_by.push_back(i);
        }
      }
      ARK_ASSIGN_OR_RETURN(m.intervals, Intervals(v["intervals"]));
      def_.measures.push_back(std::move(m));
    }
    return Status::OK();
  }

  Result<Definition> Parse(const YAML::Node& root, const std::string& text) {
    if (!root.IsMap()) return Error(root, "a study definition must be a mapping");
    ARK_RETURN_IF_ERROR(Keys(root, {"name", "description", "codelists", "index_date", "population", "variables", "measures"}, "the study definition"));
    if (!root["name"]) return Error(root, "missing 'name'");
    def_.name = root["name"].as<std::string>();
    if (root["codelists"]) ARK_RETURN_IF_ERROR(ParseCodelists(root["codelists"]));
    if (!root["index_date"]) return Error(root, "missing 'index_date' (a date, {first: CODELIST} or {each: CODELIST})");
    ARK_RETURN_IF_ERROR(ParseIndex(root["index_date"]));
    if (root["population"]) ARK_RETURN_IF_ERROR(ParsePopulation(root["population"]));
    if (root["variables"]) {
      const YAML::Node& vars = root["variables"];
      if (!vars.IsMap()) return Error(vars, "variables must be a mapping of name to definition");
      for (auto it = vars.begin(); it != vars.end(); ++it) ARK_RETURN_IF_ERROR(ParseVariable(it->first.as<std::string>(), it->first, it->second));
    }
    if (root["index_date"].IsMap() && root["index_date"]["where"]) {
      const YAML::Node& w = root["index_date"]["where"];
      ARK_ASSIGN_OR_RETURN(Expr e, ExprOf(w, "index_date.where"));
      if (e.type != Type::kBool) return Error(w, "type mismatch: index_date.where must be bool, got " + std::string(TypeName(e.type)));
      def_.index.where = std::move(e);
    }
    // `where` may use the variables.
    if (root["population"] && root["population"]["where"]) {
      const YAML::Node& w = root["population"]["where"];
      ARK_ASSIGN_OR_RETURN(Expr e, ExprOf(w, "population.where"));
      if (e.type != Type::kBool) return Error(w, "type mismatch: population.where must be bool, got " + std::string(TypeName(e.type)));
      def_.population.where = std::move(e);
    }
    for (const Variable& var : def_.variables) {
      if (var.kind != Variable::Kind::kAggregate) ARK_RETURN_IF_ERROR(CheckIntervalRefs(var.expr, root["variables"][var.name]));
    }
    if (def_.population.where) ARK_RETURN_IF_ERROR(CheckIntervalRefs(*def_.population.where, root["population"]["where"]));
    if (def_.index.where) ARK_RETURN_IF_ERROR(CheckIntervalRefs(*def_.index.where, root["index_date"]["where"]));
    if (root["measures"]) ARK_RETURN_IF_ERROR(ParseMeasures(root["measures"]));
    def_.sha256 = Sha256Hex(text + hashed_);
    return std::move(def_);
  }

 private:
  std::string name_, base_;
  Definition def_;
  std::string hashed_;
};

}  // namespace

Result<Definition> ParseDefinition(std::string_view yaml, const std::string& name, const std::string& base_dir) {
  std::string text(yaml);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(name + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  try {
    Parser p(name, base_dir);
    return p.Parse(root, text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(name + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

Result<Definition> ParseDefinitionFile(const std::string& path) {
  ARK_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  std::string base = std::filesystem::path(path).parent_path().string();
  ARK_ASSIGN_OR_RETURN(Definition d, ParseDefinition(text, path, base));
  d.path = path;
  return d;
}

}  // namespace ark::study
