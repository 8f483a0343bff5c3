#include "ark/status.h"

namespace ark {

std::string Status::ToString() const {
  const char* name = "ok";
  switch (code_) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: name = "invalid input"; break;
    case StatusCode::kNotFound: name = "not found"; break;
    case StatusCode::kCorruption: name = "corruption"; break;
    case StatusCode::kIOError: name = "I/O error"; break;
    case StatusCode::kPermissionDenied: name = "permission denied"; break;
    case StatusCode::kFailedPrecondition: name = "failed precondition"; break;
    case StatusCode::kInternal: name = "internal error"; break;
  }
  return std::string(name) + ": " + message_;
}

}  // namespace ark
