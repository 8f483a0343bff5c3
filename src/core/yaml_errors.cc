#include "core/yaml_errors.h"

namespace ark {

Status YamlError(const std::string& origin, const YAML::Node& node, const std::string& what) {
  const YAML::Mark m = node.Mark();
  if (m.line < 0) return Status::InvalidArgument(origin + ": " + what);
  return Status::InvalidArgument(origin + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1) + ": " +
                                 what);
}

Status YamlKeys(const std::string& origin, const YAML::Node& map, const std::set<std::string>& allowed,
                const std::string& where) {
  if (!map.IsMap()) return YamlError(origin, map, where + " must be a mapping");
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string k = it->first.as<std::string>();
    if (!allowed.count(k)) {
      std::string list;
      for (auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return YamlError(origin, it->first, "unknown key '" + k + "' in " + where + " (allowed: " + list + ")");
    }
  }
  return Status::OK();
}

}  // namespace ark
