// Api::Ctx, one request being handled (api.cc, api_jobs.cc). Internal to the server layer.
#pragma once

#include <string>
#include <vector>

#include "server/api.h"

namespace ark::server {

struct Api::Ctx {
  const ApiRequest& req;
  const Entry& route;
  std::vector<std::string> params;
  bool ledgered = false;  // the handler (or governance) already put this request on the ledger
};

}  // namespace ark::server
