#include "ingest/feed_spec.h"

#include <yaml-cpp/yaml.h>

#include <set>

#include "core/yaml_errors.h"

namespace ark {
namespace {

// Errors carry "<origin>:<line>:<column>: <what>" (1-based, as editors show them).
class SpecParser {
 public:
  explicit SpecParser(std::string origin) : origin_(std::move(origin)) {}

  Status Error(const YAML::Node& n, const std::string& what) const { return YamlError(origin_, n, what); }

  Status CheckKeys(const YAML::Node& map, const std::set<std::string>& allowed, const std::string& where) {
    return YamlKeys(origin_, map, allowed, where);
  }

  Status String(const YAML::Node& map, const char* key, std::string* out, bool required, const std::string& where) {
    YAML::Node n = map[key];
    if (!n) {
      if (required) return Error(map, where + " needs '" + key + "'");
      return Status::OK();
    }
    if (!n.IsScalar()) return Error(n, std::string("'") + key + "' must be a single value");
    *out = n.as<std::string>();
    if (required && out->empty()) return Error(n, std::string("'") + key + "' is empty");
    return Status::OK();
  }

  Status Time(const YAML::Node& n, TimeColumn* out, const std::string& where) {
    if (n.IsScalar()) {
      out->column = n.as<std::string>();
      return Status::OK();
    }
    ARK_RETURN_IF_ERROR(CheckKeys(n, {"column", "format", "optional"}, where));
    ARK_RETURN_IF_ERROR(String(n, "column", &out->column, true, where));
    ARK_RETURN_IF_ERROR(String(n, "format", &out->format, false, where));
    if (n["optional"]) out->optional = n["optional"].as<bool>();
    if (out->format.find("%Y") == std::string::npos || out->format.find("%m") == std::string::npos ||
        out->format.find("%d") == std::string::npos) {
      return Error(n["format"] ? n["format"] : n, "time format must contain %Y, %m and %d");
    }
    return Status::OK();
  }

  Result<FeedSpec> Parse(const std::string& yaml) {
    YAML::Node root;
    try {
      root = YAML::Load(yaml);
    } catch (const YAML::ParserException& e) {
      return Status::InvalidArgument(origin_ + ":" + std::to_string(e.mark.line + 1) + ":" +
                                     std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    try {
      return ParseRoot(root, yaml);
    } catch (const YAML::Exception& e) {
      return Status::InvalidArgument(origin_ + ":" + std::to_string(e.mark.line + 1) + ":" +
                                     std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
  }

 private:
  Result<FeedSpec> ParseRoot(const YAML::Node& root, const std::string& yaml) {
    FeedSpec s;
    s.text = yaml;
    if (!root.IsMap()) return Status::InvalidArgument(origin_ + ": a feed spec must be a YAML mapping");
    ARK_RETURN_IF_ERROR(CheckKeys(root, {"feed", "identity", "events", "optouts"}, "the spec"));
    ARK_RETURN_IF_ERROR(String(root, "feed", &s.name, true, "the spec"));
    for (char c : s.name) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
        return Error(root["feed"], "feed name may hold only letters, digits, '_' and '-'");
      }
    }
    YAML::Node id = root["identity"];
    if (!id) return Error(root, "the spec needs 'identity'");
    ARK_RETURN_IF_ERROR(CheckKeys(id, {"file", "id", "nhs_number", "names", "date_of_birth", "sex", "postcode",
                                       "lsoa", "imd_decile", "practice", "one_record_per_person"}, "identity"));
    IdentitySpec& is = s.identity;
    if (YAML::Node n = id["one_record_per_person"]) {
      try {
        is.one_record_per_person = n.as<bool>();
      } catch (const YAML::Exception&) {
        return Error(n, "'one_record_per_person' must be true or false");
      }
    }
    ARK_RETURN_IF_ERROR(String(id, "file", &is.file, true, "identity"));
    ARK_RETURN_IF_ERROR(String(id, "id", &is.id, true, "identity"));
    ARK_RETURN_IF_ERROR(String(id, "nhs_number", &is.nhs_number, false, "identity"));
    ARK_RETURN_IF_ERROR(String(id, "postcode", &is.postcode, false, "identity"));
    ARK_RETURN_IF_ERROR(String(id, "lsoa", &is.lsoa, false, "identity"));
    ARK_RETURN_IF_ERROR(String(id, "imd_decile", &is.imd_decile, false, "identity"));
    ARK_RETURN_IF_ERROR(String(id, "practice", &is.practice, false, "identity"));
    if (YAML::Node n = id["names"]) {
      if (!n.IsSequence()) return Error(n, "'names' must be a list of columns");
      for (auto c : n) is.names.push_back(c.as<std::string>());
    }
    if (YAML::Node n = id["date_of_birth"]) {
      TimeColumn t;
      ARK_RETURN_IF_ERROR(Time(n, &t, "date_of_birth"));
      is.date_of_birth = t;
    }
    if (YAML::Node n = id["sex"]) {
      ARK_RETURN_IF_ERROR(CheckKeys(n, {"column", "values"}, "sex"));
      ARK_RETURN_IF_ERROR(String(n, "column", &is.sex, true, "sex"));
      YAML::Node v = n["values"];
      if (!v || !v.IsMap()) return Error(n, "sex needs 'values', a mapping from raw values to M or F");
      for (auto it = v.begin(); it != v.end(); ++it) {
        std::string to = it->second.as<std::string>();
        if (to != "M" && to != "F") return Error(it->second, "sex values map to M or F, not '" + to + "'");
        is.sex_values[it->first.as<std::string>()] = to;
      }
    }
    if (YAML::Node o = root["optouts"]) {
      ARK_RETURN_IF_ERROR(CheckKeys(o, {"file", "nhs_number", "kind"}, "optouts"));
      OptOutSpec os;
      ARK_RETURN_IF_ERROR(String(o, "file", &os.file, true, "optouts"));
      ARK_RETURN_IF_ERROR(String(o, "nhs_number", &os.nhs_number, true, "optouts"));
      ARK_RETURN_IF_ERROR(String(o, "kind", &os.kind, false, "optouts"));
      if (os.kind != "national" && os.kind != "type1") return Error(o["kind"], "opt-out kind is national or type1");
      s.optouts = os;
    }
    YAML::Node evs = root["events"];
    if (evs && !evs.IsSequence()) return Error(evs, "'events' must be a list");
    for (auto e : evs) {
      const std::string where = "an event mapping";
      ARK_RETURN_IF_ERROR(CheckKeys(e, {"file", "person", "time", "end", "code", "value", "unit", "unit_value",
                                        "encounter"}, where));
      EventSpec es;
      ARK_RETURN_IF_ERROR(String(e, "file", &es.file, true, where));
      ARK_RETURN_IF_ERROR(String(e, "person", &es.person, true, where));
      if (!e["time"]) return Error(e, where + " needs 'time'");
      ARK_RETURN_IF_ERROR(Time(e["time"], &es.time, "time"));
      if (e["end"]) {
        TimeColumn t;
        t.optional = true;
        ARK_RETURN_IF_ERROR(Time(e["end"], &t, "end"));
        es.end = t;
      }
      YAML::Node c = e["code"];
      if (!c) return Error(e, where + " needs 'code'");
      ARK_RETURN_IF_ERROR(CheckKeys(c, {"column", "value", "system", "split"}, "code"));
      ARK_RETURN_IF_ERROR(String(c, "column", &es.code.column, false, "code"));
      ARK_RETURN_IF_ERROR(String(c, "value", &es.code.value, false, "code"));
      ARK_RETURN_IF_ERROR(String(c, "system", &es.code.system, true, "code"));
      ARK_RETURN_IF_ERROR(String(c, "split", &es.code.split, false, "code"));
      if (es.code.column.empty() == es.code.value.empty()) return Error(c, "code needs exactly one of 'column' or 'value'");
      if (es.code.system.find('/') != std::string::npos) return Error(c["system"], "a code system may not contain '/'");
      ARK_RETURN_IF_ERROR(String(e, "value", &es.value, false, where));
      ARK_RETURN_IF_ERROR(String(e, "unit", &es.unit, false, where));
      ARK_RETURN_IF_ERROR(String(e, "unit_value", &es.unit_value, false, where));
      ARK_RETURN_IF_ERROR(String(e, "encounter", &es.encounter, false, where));
      if (es.file == is.file && es.person != is.id) {
        return Error(e["person"], "events from the identity file must use its id column '" + is.id + "'");
      }
      s.events.push_back(std::move(es));
    }
    return s;
  }

  std::string origin_;
};

}  // namespace

Result<FeedSpec> ParseFeedSpec(const std::string& yaml, const std::string& origin) {
  return SpecParser(origin).Parse(yaml);
}

const std::vector<std::string>& RecordColumns() {
  static const std::vector<std::string> cols = {"record", "nhs_pseudonym", "nhs_status", "birth_year_month",
                                                "sex", "lsoa", "imd_decile", "practice"};
  return cols;
}

std::vector<std::string> EventColumns(const EventSpec& e) {
  std::vector<std::string> cols = {e.person, e.time.column};
  auto add = [&](const std::string& c) {
    if (!c.empty() && std::find(cols.begin(), cols.end(), c) == cols.end()) cols.push_back(c);
  };
  if (e.end) add(e.end->column);
  add(e.code.column);
  add(e.value);
  add(e.unit);
  add(e.encounter);
  return cols;
}

FeedSpec PseudonymisedView(const FeedSpec& raw) {
  FeedSpec v = raw;
  for (auto& e : v.events) {
    if (e.file == raw.identity.file) e.file = kRecordsFile;
    e.person = "record";
  }
  if (v.optouts) {
    v.optouts->file = kOptOutsFile;
    v.optouts->nhs_number = "nhs_pseudonym";
  }
  return v;
}

}  // namespace ark
