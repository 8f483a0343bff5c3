// Who acts, for commands that act as a person: `--as USER`, with the user's API token from the
// environment variable ARK_TOKEN or from a file given with --token-file (never on the command
// line, so tokens stay out of shell history and `ps`).
//
// GateFlags: the flags of a command that reads the Ark's data (--project, --as, --token-file), and
// its call of the one gate in governance (src/governance/gate.h).
#pragma once

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "command.h"
#include "core/fs.h"
#include "governance/gate.h"
#include "governance/governance.h"

namespace ark::cli {

struct Who {
  std::string user, token_file;
  void Add(CLI::App& app) {
    app.add_option("--as", user, "the user acting (token from $ARK_TOKEN or --token-file)");
    app.add_option("--token-file", token_file, "file holding the user's token (default: $ARK_TOKEN)");
  }
  // The token given ("" when none).
  Result<std::string> Token() const {
    std::string token;
    if (!token_file.empty()) {
      ARK_ASSIGN_OR_RETURN(token, ReadFile(token_file));
      while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    } else if (const char* t = std::getenv("ARK_TOKEN")) {
      token = t;
    }
    return token;
  }
  // A request without an identity or a token is a refusal, logged as any other (gov::Identify).
  Result<gov::Actor> Resolve(Catalog& cat) const {
    ARK_ASSIGN_OR_RETURN(std::string token, Token());
    return gov::Identify(cat, user, token);
  }
};

struct GateFlags {
  std::string project;
  Who who;
  void Add(CLI::App& app) {
    app.add_option("--project", project,
                   "the approved project this belongs to (required when the Ark enforces governance)");
    who.Add(app);
  }
  // gov::Admit for `command` on `ark_dir`; `purpose` is the one asked for ("" = the project's).
  // `every_feed`: the command reads every feed of the Ark (gov::GateRequest::every_feed).
  Result<gov::Access> Admit(const std::string& ark_dir, const std::string& command, const std::string& purpose = "",
                            bool every_feed = false) const {
    gov::GateRequest r;
    r.command = command;
    r.project = project;
    r.user = who.user;
    r.purpose = purpose;
    r.every_feed = every_feed;
    if (!project.empty()) {
      ARK_ASSIGN_OR_RETURN(r.token, who.Token());
    }
    return gov::Admit(ark_dir, r);
  }
  Result<gov::Access> Admit(Catalog& cat, const std::string& command, const std::string& purpose = "") const {
    gov::GateRequest r;
    r.command = command;
    r.project = project;
    r.user = who.user;
    r.purpose = purpose;
    if (!project.empty()) {
      ARK_ASSIGN_OR_RETURN(r.token, who.Token());
    }
    return gov::Admit(cat, r);
  }
};

}  // namespace ark::cli
