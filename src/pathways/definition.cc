// Parsing pathway definitions (YAML). Unknown keys are errors, so a typo does not silently
// change a study. Messages: "<file>:<line>:<col>: <what>".
#include <yaml-cpp/yaml.h>

#include <set>

#include "core/fs.h"
#include "core/yaml_errors.h"
#include "pathways/pathway.h"

namespace ark::pathways {
namespace {

class Parser {
 public:
  explicit Parser(std::string name) : name_(std::move(name)) {}

  Status Error(const YAML::Node& n, const std::string& what) const { return YamlError(name_, n, what); }
  Status Keys(const YAML::Node& map, const std::set<std::string>& allowed, const std::string& where) const {
    return YamlKeys(name_, map, allowed, where);
  }
  Result<std::vector<std::string>> Strings(const YAML::Node& n, const std::string& where) const {
    std::vector<std::string> out;
    if (n.IsScalar()) {
      out.push_back(n.as<std::string>());
      return out;
    }
    if (!n.IsSequence()) return Error(n, where + " must be a list");
    for (const auto& x : n) {
      if (!x.IsScalar()) return Error(x, where + " must hold plain values");
      out.push_back(x.as<std::string>());
    }
    return out;
  }
  Result<Seconds> Date(const YAML::Node& n, const std::string& where) const {
    auto t = ParseTime(n.as<std::string>(), "%Y-%m-%d");
    if (!t.ok()) return Error(n, where + ": '" + n.as<std::string>() + "' is not a date YYYY-MM-DD (" + t.status().message() + ")");
    return *t;
  }

  Result<PathwayDefinition> Parse(const YAML::Node& root) {
    PathwayDefinition d;
    ARK_RETURN_IF_ERROR(Keys(root, {"name", "title", "description", "population", "window", "case", "activities", "waits",
                                    "reference", "compare"},
                             "the pathway definition"));
    if (!root["name"]) return Error(root, "missing 'name'");
    d.name = root["name"].as<std::string>();
    d.title = root["title"] ? root["title"].as<std::string>() : d.name;
    if (root["description"]) d.description = root["description"].as<std::string>();
    if (YAML::Node p = root["population"]) {
      ARK_RETURN_IF_ERROR(Keys(p, {"age", "sex", "registered"}, "population"));
      if (YAML::Node a = p["age"]) {
        if (!a.IsSequence() || a.size() != 2) return Error(a, "population.age must be [min, max]");
        d.population.min_age = a[0].as<int>();
        d.population.max_age = a[1].as<int>();
        if (d.population.min_age > d.population.max_age) return Error(a, "population.age: min above max");
      }
      if (YAML::Node s = p["sex"]) {
        const std::string v = s.as<std::string>();
        if (v != "any" && v != "F" && v != "M") return Error(s, "population.sex must be F, M or any");
        d.population.sex = v == "any" ? "" : v;
      }
      if (YAML::Node r = p["registered"]) d.population.registered = r.as<bool>();
    }
    if (YAML::Node w = root["window"]) {
      ARK_RETURN_IF_ERROR(Keys(w, {"from", "to"}, "window"));
      if (w["from"]) { ARK_ASSIGN_OR_RETURN(d.from, Date(w["from"], "window.from")); }
      if (w["to"]) { ARK_ASSIGN_OR_RETURN(d.to, Date(w["to"], "window.to")); }
    }
    YAML::Node acts = root["activities"];
    if (!acts || !acts.IsSequence() || acts.size() == 0) return Error(root, "'activities' must be a non-empty list");
    std::set<std::string> names;
    for (const auto& a : acts) {
      ARK_RETURN_IF_ERROR(Keys(a, {"name", "codes", "source", "time"}, "an activity"));
      PathwayDefinition::Activity x;
      if (!a["name"]) return Error(a, "activity without a name");
      x.name = a["name"].as<std::string>();
      if (!names.insert(x.name).second) return Error(a["name"], "activity '" + x.name + "' defined twice");
      if (!a["codes"]) return Error(a, "activity '" + x.name + "' has no codes");
      ARK_ASSIGN_OR_RETURN(x.codes, Strings(a["codes"], "codes"));
      if (a["source"]) x.source = a["source"].as<std::string>();
      if (YAML::Node t = a["time"]) {
        const std::string v = t.as<std::string>();
        if (v != "start" && v != "end") return Error(t, "activity time must be start or end");
        x.at_end = v == "end";
      }
      d.activities.push_back(std::move(x));
    }
    if (YAML::Node c = root["case"]) {
      ARK_RETURN_IF_ERROR(Keys(c, {"notion", "index", "days", "lookback_days"}, "case"));
      const std::string notion = c["notion"] ? c["notion"].as<std::string>() : "person";
      if (notion == "person") d.case_notion = PathwayDefinition::CaseNotion::kPerson;
      else if (notion == "spell") d.case_notion = PathwayDefinition::CaseNotion::kSpell;
      else if (notion == "window") d.case_notion = PathwayDefinition::CaseNotion::kWindow;
      else return Error(c["notion"], "case.notion must be person, spell or window");
      if (c["index"]) { ARK_ASSIGN_OR_RETURN(d.index, Strings(c["index"], "case.index")); }
      if (c["days"]) d.window_days = c["days"].as<double>();
      if (c["lookback_days"]) d.lookback_days = c["lookback_days"].as<double>();
      if (d.case_notion == PathwayDefinition::CaseNotion::kWindow && d.index.empty())
        return Error(c, "case.notion window needs case.index (the activities that open a case)");
      for (auto& i : d.index)
        if (!names.count(i)) return Error(c["index"], "case.index: no activity named '" + i + "'");
    }
    if (YAML::Node w = root["waits"]) {
      if (!w.IsSequence()) return Error(w, "waits must be a list of [from, to]");
      for (const auto& x : w) {
        ARK_ASSIGN_OR_RETURN(auto pr, Strings(x, "waits"));
        if (pr.size() != 2) return Error(x, "each wait is [from, to]");
        for (auto& n : pr)
          if (!names.count(n)) return Error(x, "waits: no activity named '" + n + "'");
        d.waits.push_back({pr[0], pr[1]});
      }
    }
    if (YAML::Node r = root["reference"]) {
      ARK_ASSIGN_OR_RETURN(d.reference, Strings(r, "reference"));
      for (auto& n : d.reference)
        if (!names.count(n)) return Error(r, "reference: no activity named '" + n + "'");
    }
    if (YAML::Node c = root["compare"]) {
      ARK_RETURN_IF_ERROR(Keys(c, {"by", "a", "b", "labels"}, "compare"));
      PathwayDefinition::Compare cmp;
      if (c["by"]) cmp.by = c["by"].as<std::string>();
      if (cmp.by != "imd_decile" && cmp.by != "sex" && cmp.by != "age_band")
        return Error(c["by"], "compare.by must be imd_decile, sex or age_band");
      if (!c["a"] || !c["b"]) return Error(c, "compare needs a and b (lists of values)");
      ARK_ASSIGN_OR_RETURN(cmp.a, Strings(c["a"], "compare.a"));
      ARK_ASSIGN_OR_RETURN(cmp.b, Strings(c["b"], "compare.b"));
      if (c["labels"]) {
        ARK_ASSIGN_OR_RETURN(auto l, Strings(c["labels"], "compare.labels"));
        if (l.size() != 2) return Error(c["labels"], "compare.labels must be [label a, label b]");
        cmp.label_a = l[0];
        cmp.label_b = l[1];
      }
      auto join = [](const std::vector<std::string>& v) {
        std::string s;
        for (auto& x : v) s += (s.empty() ? "" : ",") + x;
        return s;
      };
      if (cmp.label_a.empty()) cmp.label_a = cmp.by + " " + join(cmp.a);
      if (cmp.label_b.empty()) cmp.label_b = cmp.by + " " + join(cmp.b);
      d.compare = cmp;
    }
    return d;
  }

 private:
  std::string name_;
};

}  // namespace

Result<PathwayDefinition> ParsePathwayDefinition(const std::string& yaml_text, const std::string& name) {
  Parser p(name);
  try {
    YAML::Node root = YAML::Load(yaml_text);
    return p.Parse(root);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(name + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                                   ": " + e.msg);
  }
}

Result<PathwayDefinition> LoadPathwayDefinition(const std::string& path) {
  ARK_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParsePathwayDefinition(text, path);
}

}  // namespace ark::pathways
