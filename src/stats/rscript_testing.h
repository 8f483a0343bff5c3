// Test helper: runs an R script through Rscript on files the test writes, and reads back
// "name value" lines (values printed with %.17g). Used by the tests that compare Ark's
// statistics with R (glm, metafor, spdep). Needs r-base-core and the packages the script loads
// (scripts/deps.sh installs them); a missing Rscript fails the test, naming what to install.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace ark::stats::rcheck {

inline std::string RTempPath(const std::string& name) {
  return ::testing::TempDir() + "ark_stats_r_" + std::to_string(::getpid()) + "_" + name;
}

// Writes `files` (name -> content) and the script, runs `Rscript script file1 file2 ...` (in the
// order given), and returns its output as name -> values (a name printed several times gathers
// its values in order). An empty map and a test failure when R fails.
inline std::map<std::string, std::vector<double>> RunR(const std::string& script,
                                                      const std::vector<std::pair<std::string, std::string>>& files) {
  std::map<std::string, std::vector<double>> r;
  if (std::system("command -v Rscript > /dev/null 2>&1") != 0) {
    ADD_FAILURE() << "Rscript not found: install r-base-core, r-cran-metafor and r-cran-spdep (scripts/deps.sh)";
    return r;
  }
  const std::string script_path = RTempPath("script.R"), out = RTempPath("out.txt");
  std::ofstream(script_path) << script;
  std::string cmd = "Rscript " + script_path;
  std::vector<std::string> paths;
  for (const auto& [name, content] : files) {
    paths.push_back(RTempPath(name));
    std::ofstream(paths.back()) << content;
    cmd += " " + paths.back();
  }
  const int rc = std::system((cmd + " > " + out + " 2>&1").c_str());
  std::stringstream text;
  text << std::ifstream(out).rdbuf();
  if (rc != 0) {
    ADD_FAILURE() << "Rscript failed:\n" << text.str();
    return {};
  }
  std::string name, value;
  while (text >> name >> value) {
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (end == value.c_str() || *end != '\0') {
      ADD_FAILURE() << "unexpected R output '" << name << " " << value << "':\n" << text.str();
      return {};
    }
    r[name].push_back(v);
  }
  for (const auto& f : paths) std::remove(f.c_str());
  std::remove(script_path.c_str());
  std::remove(out.c_str());
  return r;
}

}  // namespace ark::stats::rcheck
