// Running another program and collecting what it prints: the CLI tests, `ark demo` (which runs
// `ark` steps as a user would) and optional helpers such as Graphviz's `dot`.
#pragma once

#include <string>

namespace ark {

struct CommandOutput {
  int exit_code = -1;  // -1: the shell could not be started, or the command died of a signal
  std::string output;  // its standard output
};

// Runs `command` through /bin/sh and waits for it. Only standard output is collected: redirect
// standard error in the command ("2>&1", "2>/dev/null") to choose what happens to it.
CommandOutput RunCommand(const std::string& command);

}  // namespace ark
