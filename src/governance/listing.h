// Listings of governance's users and runs for the API (GET /api/v1/users, /api/v1/runs); the
// caller decides who may see them (src/server/api.cc: admins; a run's project's people).
#pragma once

#include <string>
#include <vector>

#include "governance/governance.h"

namespace ark::gov {

struct UserRecord {
  std::string name;
  std::vector<std::string> roles;
  std::string created_at, created_by;
};

// Every user, by name; never a token or its hash.
Result<std::vector<UserRecord>> ListUsers(Catalog& cat);
// The runs recorded (project "" = every project), oldest first.
Result<std::vector<RunRecord>> ListRuns(Catalog& cat, const std::string& project = "");

}  // namespace ark::gov
