// JSON responses and request bodies of the API's handlers (api.cc, api_jobs.cc). Internal to the
// server layer: JSON lives only at the top.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ark/status.h"
#include "server/api.h"

namespace ark::server {

// A response with `j` as its body (invalid UTF-8 replaced, never thrown).
ApiResponse Json(int status, const nlohmann::ordered_json& j);
// {"error": message} with `status`.
ApiResponse Error(int status, const std::string& message);
// The error of `s`, with its HTTP status (HttpStatusOf).
ApiResponse FromStatus(const Status& s);
// The JSON object of a request body, or InvalidArgument naming the problem (a 400).
Result<nlohmann::ordered_json> BodyObject(const std::string& body);

}  // namespace ark::server
