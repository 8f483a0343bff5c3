// Alert rules (YAML): a rule fires when a message produces a signal (aki_stage, news2_score, ...,
// see docs/live.md) and `signal op value` holds. Default rules: live/rules.yaml in the source tree,
// compiled in as DefaultRulesYaml() (a test checks they are the same). Signal `risk` (live risk,
// risk.h: `ark serve --model`) fires on crossing: when the new risk matches and the previous did not.
//
//   rules:
//     - {name: aki_stage_2_or_more, signal: aki_stage, op: ">=", value: 2, severity: high}
//   webhooks: [http://127.0.0.1:9000/alerts]
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ark/status.h"

namespace ark::live {

struct AlertRule {
  std::string name, signal, op, severity;
  double value = 0;
  bool Matches(double v) const;
};

struct RuleSet {
  std::vector<AlertRule> rules;
  std::vector<std::string> webhooks;
};

// The signals a rule may name.
const std::vector<std::string>& KnownSignals();
// Errors: InvalidArgument naming `what`, the rule (1-based) and the field.
Result<RuleSet> ParseRules(std::string_view yaml, const std::string& what);
Result<RuleSet> LoadRules(const std::string& path);
const char* DefaultRulesYaml();

}  // namespace ark::live
