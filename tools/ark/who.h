// Who acts, for commands that act as a person: `--as USER`, with the user's API token from the
// environment variable ARK_TOKEN or from a file given with --token-file (never on the command
// line, so tokens stay out of shell history and `ps`).
#pragma once

#include <cstdlib>
#include <string>

#include "catalog/catalog.h"
#include "command.h"
#include "core/fs.h"
#include "governance/governance.h"

namespace ark::cli {

struct Who {
  std::string user, token_file;
  void Add(CLI::App& app) {
    app.add_option("--as", user, "the user acting (token from $ARK_TOKEN or --token-file)");
    app.add_option("--token-file", token_file, "file holding the user's token (default: $ARK_TOKEN)");
  }
  Result<gov::Actor> Resolve(Catalog& cat) const {
    // A request without an identity or a token is a refusal, logged as any other.
    if (user.empty()) return gov::LogRefusal(cat.ark_dir(), "-", Status::PermissionDenied("say who acts: --as USER (token in $ARK_TOKEN)"));
    std::string token;
    if (!token_file.empty()) {
      ARK_ASSIGN_OR_RETURN(token, ReadFile(token_file));
      while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    } else if (const char* t = std::getenv("ARK_TOKEN")) {
      token = t;
    }
    if (token.empty()) {
      return gov::LogRefusal(cat.ark_dir(), user, Status::PermissionDenied("no token for '" + user + "': set ARK_TOKEN or give --token-file"));
    }
    return gov::Authenticate(cat, user, token);
  }
};

}  // namespace ark::cli
