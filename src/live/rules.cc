#include "live/rules.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "core/fs.h"

namespace ark::live {

bool AlertRule::Matches(double v) const {
  if (op == ">=") return v >= value;
  if (op == ">") return v > value;
  if (op == "<=") return v <= value;
  if (op == "<") return v < value;
  if (op == "==") return v == value;
  if (op == "!=") return v != value;
  return false;
}

const std::vector<std::string>& KnownSignals() {
  static const std::vector<std::string> s = {"aki_stage",
                                             "news2_score",
                                             "news2_any_single_3",
                                             "news2_complete",
                                             "emergency_readmission_30d",
                                             "ae_4h_breach",
                                             "risk"};
  return s;
}

Result<RuleSet> ParseRules(std::string_view text, const std::string& what) {
  RuleSet out;
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsMap()) return Status::InvalidArgument(what + ": expected a map with 'rules'");
    const YAML::Node rules = root["rules"];
    if (!rules || !rules.IsSequence())
      return Status::InvalidArgument(what + ": 'rules' must be a list");
    int i = 0;
    for (const YAML::Node& n : rules) {
      ++i;
      const std::string at = what + ": rule " + std::to_string(i);
      AlertRule r;
      if (!n["name"] || !n["signal"] || !n["op"] || !n["value"]) {
        return Status::InvalidArgument(at + ": needs name, signal, op and value");
      }
      r.name = n["name"].as<std::string>();
      r.signal = n["signal"].as<std::string>();
      r.op = n["op"].as<std::string>();
      r.severity = n["severity"] ? n["severity"].as<std::string>() : "medium";
      const auto& known = KnownSignals();
      if (std::find(known.begin(), known.end(), r.signal) == known.end()) {
        return Status::InvalidArgument(at + " (" + r.name + "), field signal: unknown signal '" +
                                       r.signal + "'");
      }
      static const char* kOps[] = {">=", ">", "<=", "<", "==", "!="};
      if (std::none_of(std::begin(kOps), std::end(kOps),
                       [&](const char* o) { return r.op == o; })) {
        return Status::InvalidArgument(at + " (" + r.name + "), field op: '" + r.op +
                                       "' is not one of >= > <= < == !=");
      }
      try {
        r.value = n["value"].as<double>();
      } catch (const YAML::Exception&) {
        return Status::InvalidArgument(at + " (" + r.name + "), field value: not a number");
      }
      out.rules.push_back(std::move(r));
    }
    if (const YAML::Node w = root["webhooks"]) {
      if (!w.IsSequence())
        return Status::InvalidArgument(what + ": 'webhooks' must be a list of URLs");
      for (const YAML::Node& u : w) {
        std::string url = u.as<std::string>();
        if (url.rfind("http://", 0) != 0) {
          return Status::InvalidArgument(what + ": webhook '" + url +
                                         "': only http:// URLs are supported");
        }
        out.webhooks.push_back(std::move(url));
      }
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(what + ": " + e.what());
  }
  return out;
}

Result<RuleSet> LoadRules(const std::string& path) {
  ARK_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseRules(text, path);
}

const char* DefaultRulesYaml() {
  return R"YAML(
# Ark live alert rules: the default set (`ark serve --rules FILE` replaces it).
# Each rule fires when a message produces the named signal and the comparison holds.
# Signals (docs/live.md): aki_stage (0-3, NHS England AKI algorithm, per creatinine result),
# news2_score (0-20, per set of vital signs), news2_any_single_3 (0/1), news2_complete (0/1),
# emergency_readmission_30d (0/1, at the moment of an emergency admission),
# ae_4h_breach (0/1, at an A&E departure more than 4 hours after arrival).
rules:
  - name: aki_stage_2_or_more
    signal: aki_stage
    op: ">="
    value: 2
    severity: high
  - name: news2_5_or_more
    signal: news2_score
    op: ">="
    value: 5
    severity: high
  - name: news2_single_parameter_3
    signal: news2_any_single_3
    op: "=="
    value: 1
    severity: medium
  - name: emergency_readmission_30d
    signal: emergency_readmission_30d
    op: "=="
    value: 1
    severity: medium
# Webhooks: every alert is POSTed as JSON to each URL (http:// only), retried with backoff.
webhooks: []
)YAML";
}

}  // namespace ark::live
