// Helpers shared by the tests that drive the `ark` binary on a demo Ark (`ark demo` writes the
// users' tokens to governance/tokens.env, docs/governance.md).
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "core/process.h"

namespace ark::test {

// Runs `cmd` in a shell with stderr joined to stdout; the output in *out, the exit code returned.
inline int Sh(const std::string& cmd, std::string* out) {
  CommandOutput r = RunCommand(cmd + " 2>&1");
  *out = r.output;
  return r.exit_code;
}

// The whole file, or "" if it cannot be read.
inline std::string Slurp(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// NAME=token lines of a demo's tokens.env (comments and blank lines skipped), by NAME.
inline std::map<std::string, std::string> ReadTokens(const std::filesystem::path& tokens_env) {
  std::map<std::string, std::string> token;
  std::istringstream in(Slurp(tokens_env));
  for (std::string line; std::getline(in, line);)
    if (const size_t eq = line.find('='); !line.empty() && line[0] != '#' && eq != std::string::npos)
      token[line.substr(0, eq)] = line.substr(eq + 1);
  return token;
}

}  // namespace ark::test
