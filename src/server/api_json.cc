#include "server/api_json.h"

namespace ark::server {

using OJson = nlohmann::ordered_json;

ApiResponse Json(int status, const OJson& j) {
  ApiResponse r;
  r.status = status;
  r.body = j.dump(-1, ' ', false, OJson::error_handler_t::replace);
  return r;
}

ApiResponse Error(int status, const std::string& message) { return Json(status, OJson{{"error", message}}); }

ApiResponse FromStatus(const Status& s) { return Error(HttpStatusOf(s), s.message()); }

Result<OJson> BodyObject(const std::string& body) {
  OJson j;
  try {
    j = OJson::parse(body);
  } catch (const OJson::parse_error& e) {
    return Status::InvalidArgument(std::string("malformed JSON in the request body: ") + e.what());
  }
  if (!j.is_object()) return Status::InvalidArgument("the request body must be a JSON object");
  return j;
}

}  // namespace ark::server
