// The `ark` command's subcommands register themselves here: one file per group of commands
// (cmd_synth.cc, cmd_store.cc, ...), each with a static ARK_COMMAND(...) registration.
//
// A command's Run gets argv with argv[0] = "ark <name>", parses it with CLI11, and returns the
// process exit code. It must not throw: errors are printed to stderr by ReportError and become
// exit code 1 (bad input) or 2 (usage), so `main` stays the one place exceptions are caught.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "ark/status.h"

namespace ark::cli {

struct Command {
  std::string name;
  std::string summary;
  std::function<int(int argc, char** argv)> run;
};

std::vector<Command>& Registry();

struct Registrar {
  Registrar(std::string name, std::string summary, std::function<int(int, char**)> run) {
    Registry().push_back({std::move(name), std::move(summary), std::move(run)});
  }
};

#define ARK_COMMAND(var, name, summary, fn) static ::ark::cli::Registrar var(name, summary, fn)

// Prints "ark: <message>" to stderr and returns the exit code for the status (0 if ok).
int ReportError(const Status& s);

// Parses argv with `app`; returns -1 to continue, or an exit code (0 for --help, 2 for bad usage).
int Parse(CLI::App& app, int argc, char** argv);

}  // namespace ark::cli
