// `ark`: the command-line front end. Dispatches to the registered subcommands (command.h).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "command.h"

namespace ark::cli {

std::vector<Command>& Registry() {
  static std::vector<Command> commands;
  return commands;
}

int ReportError(const Status& s) {
  if (s.ok()) return 0;
  std::fprintf(stderr, "ark: %s\n", s.ToString().c_str());
  return 1;
}

int Parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;  // usage errors exit 2
  }
  return -1;
}

}  // namespace ark::cli

namespace {

void Usage() {
  std::printf("Ark: a data engine for connected health cities.\n\nUsage: ark <command> [options]\n\nCommands:\n");
  auto cmds = ark::cli::Registry();
  std::sort(cmds.begin(), cmds.end(), [](auto& a, auto& b) { return a.name < b.name; });
  for (auto& c : cmds) std::printf("  %-14s %s\n", c.name.c_str(), c.summary.c_str());
  std::printf("\nRun 'ark <command> --help' for a command's options. See README.md for a tour.\n");
  std::printf("Any command that writes the ledger takes --ledger-key PATH (or env ARK_LEDGER_KEY): the signing key,\n"
              "kept outside the Ark (default: $XDG_CONFIG_HOME/ark/keys/<ledger id>.key or ~/.config/ark/keys/).\n");
}

// `--ledger-key PATH` (anywhere on the line, for every command that writes the ledger): where the
// ledger's signing key lives, outside the Ark (src/governance/ledger_key.h). Sets ARK_LEDGER_KEY.
void TakeLedgerKeyOption(int& argc, char** argv) {
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--ledger-key") && i + 1 < argc) {
      ::setenv("ARK_LEDGER_KEY", argv[++i], 1);
    } else if (!std::strncmp(argv[i], "--ledger-key=", 13)) {
      ::setenv("ARK_LEDGER_KEY", argv[i] + 13, 1);
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  argv[argc] = nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  TakeLedgerKeyOption(argc, argv);
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    Usage();
    return argc < 2 ? 2 : 0;
  }
  for (auto& c : ark::cli::Registry()) {
    if (c.name == argv[1]) {
      std::string prog = std::string("ark ") + argv[1];
      std::vector<char*> args(argv + 1, argv + argc);
      args[0] = prog.data();
      try {
        return c.run(static_cast<int>(args.size()), args.data());
      } catch (const std::exception& e) {
        std::fprintf(stderr, "ark: internal error: %s\n", e.what());
        return 3;
      }
    }
  }
  std::fprintf(stderr, "ark: unknown command '%s' (try 'ark --help')\n", argv[1]);
  return 2;
}
