// Errors in YAML documents (definitions, feed specs), positioned as editors show them:
// "<origin>:<line>:<column>: <what>", 1-based; "<origin>: <what>" when the node has no position.
//
// Example:
//   ARK_RETURN_IF_ERROR(YamlKeys(origin, node, {"file", "time", "code"}, "event mapping"));
//   if (!node["file"]) return YamlError(origin, node, "event mapping needs 'file'");
#pragma once

#include <yaml-cpp/yaml.h>

#include <set>
#include <string>

#include "ark/status.h"

namespace ark {

// An InvalidArgument status naming `origin` and the position of `node`.
Status YamlError(const std::string& origin, const YAML::Node& node, const std::string& what);

// OK when `map` is a mapping whose keys are all in `allowed`. Otherwise an error at the first
// unknown key: "unknown key 'K' in WHERE (allowed: a, b, c)", or "WHERE must be a mapping".
// Unknown keys are errors so that a typo does not silently change what a document means.
Status YamlKeys(const std::string& origin, const YAML::Node& map, const std::set<std::string>& allowed,
                const std::string& where);

}  // namespace ark
