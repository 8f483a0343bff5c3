#include "server/web.h"

#include <nlohmann/json.hpp>

namespace ark::server {

namespace {
ApiResponse WebResponse(int status, std::string body, std::string_view type) {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::string(type);
  r.headers.emplace_back("Content-Security-Policy", kWebCsp);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

ApiResponse WebError(int status, const std::string& message) {
  return WebResponse(status, nlohmann::json({{"error", message}}).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                     "application/json");
}
}  // namespace

bool WebServes(std::string_view path) {
  return path == "/" || path == "/index.html" || path.rfind("/assets/", 0) == 0;
}

ApiResponse ServeWeb(const std::string& method, const std::string& path) {
  if (Api::Traversal(path)) return WebError(400, "path traversal refused: '" + path + "' has a '.' or '..' segment");
  if (method != "GET") {
    ApiResponse r = WebError(405, method + " is not allowed on " + path + " (allowed: GET)");
    r.headers.emplace_back("Allow", "GET");
    return r;
  }
  const std::string_view want = path == "/index.html" ? std::string_view("/") : std::string_view(path);
  for (const WebAsset& a : WebAssets()) {
    if (a.path == want) return WebResponse(200, std::string(a.body), a.content_type);
  }
  return WebError(404, "no such asset: " + path);
}

}  // namespace ark::server
