// The web app (every .html/.js/.css file of web/), embedded at build time and served by `ark serve`:
// index.html at /, every other file at /assets/<name> (docs/api.md, "The web app"): the public
// register with in-browser inclusion proofs, and the signed-in views, read from the API.
//
// Only the embedded table is served, never a file from disk; every response carries a strict
// Content-Security-Policy (no inline script or style, nothing from another origin) and
// X-Content-Type-Options: nosniff.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/api.h"

namespace ark::server {

struct WebAsset {
  std::string_view path;          // "/" for index.html
  std::string_view content_type;
  std::string_view body;
};

// The embedded assets (generated from web/ by CMake).
std::vector<WebAsset> WebAssets();

inline constexpr const char* kWebCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

// True for the paths the web app owns: "/", "/index.html" and anything under "/assets/".
bool WebServes(std::string_view path);

// GET of an embedded asset → 200; a '.'/'..' segment (raw or percent-encoded) → 400; an
// unknown asset → 404; another method → 405. Every response has the CSP and nosniff headers.
ApiResponse ServeWeb(const std::string& method, const std::string& path);

}  // namespace ark::server
