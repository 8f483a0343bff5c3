#include "server/definition_check.h"

#include <yaml-cpp/yaml.h>

#include <cctype>

#include "study/definition.h"

namespace ark::server {
namespace {

constexpr const char* kOrigin = "definition";

// "definition:12:5: what" -> {12, 5, "what"}; anything else -> {0, 0, message}.
DefinitionError Split(const std::string& message) {
  DefinitionError e{0, 0, message};
  const std::string prefix = std::string(kOrigin) + ":";
  if (message.rfind(prefix, 0) != 0) return e;
  size_t at = prefix.size();
  auto number = [&](int* out) {
    const size_t from = at;
    int v = 0;
    while (at < message.size() && std::isdigit(static_cast<unsigned char>(message[at]))) v = v * 10 + (message[at++] - '0');
    *out = v;
    return at > from && at < message.size() && message[at] == ':';
  };
  int line = 0, column = 0;
  if (number(&line)) {
    ++at;
    if (number(&column)) {
      ++at;
      e.column = column;
    }
    e.line = line;
  }
  while (at < message.size() && message[at] == ' ') ++at;
  e.message = message.substr(at);
  if (e.line == 0) e.message = message.substr(prefix.size() + (message.size() > prefix.size() && message[prefix.size()] == ' '));
  return e;
}

}  // namespace

std::vector<DefinitionError> CheckDefinition(const std::string& yaml) {
  std::vector<DefinitionError> errors;
  try {
    const YAML::Node root = YAML::Load(yaml);
    const YAML::Node lists = root.IsMap() ? root["codelists"] : YAML::Node();
    if (lists && lists.IsMap()) {
      for (const auto& kv : lists) {
        if (!kv.second.IsMap() || !kv.second["file"]) continue;
        const YAML::Mark m = kv.second["file"].Mark();
        errors.push_back({m.line + 1, m.column + 1,
                          "codelist '" + kv.first.as<std::string>() +
                              "': a definition sent to the server lists its codes inline (codes: [...]); it reads no files"});
      }
    }
  } catch (const YAML::Exception&) {
    // ParseDefinition reports it, with its position.
  }
  if (!errors.empty()) return errors;
  auto def = study::ParseDefinition(yaml, kOrigin, "");
  if (!def.ok()) errors.push_back(Split(def.status().message()));
  return errors;
}

}  // namespace ark::server
