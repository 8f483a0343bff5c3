#include "server/web.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/fs.h"

namespace ark::server {
namespace {

std::string HeaderOf(const ApiResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST(Web, IndexAndAssetsAreTheCheckedInFilesUnderTheCsp) {
  const std::string src = std::string(ARK_SOURCE_DIR) + "/web/";
  for (const auto& [path, file, type] : {std::tuple<const char*, const char*, const char*>{"/", "index.html", "text/html"},
                                         {"/index.html", "index.html", "text/html"},
                                         {"/assets/app.js", "app.js", "text/javascript"},
                                         {"/assets/proof.js", "proof.js", "text/javascript"},
                                         {"/assets/app.css", "app.css", "text/css"}}) {
    ApiResponse r = ServeWeb("GET", path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.content_type.rfind(type, 0), 0u) << path << ": " << r.content_type;
    auto want = ReadFile(src + file);
    ASSERT_TRUE(want.ok());
    EXPECT_EQ(r.body, *want) << path << ": rebuild, the embedded copy is stale";
    EXPECT_EQ(HeaderOf(r, "Content-Security-Policy"), kWebCsp) << path;
    EXPECT_EQ(HeaderOf(r, "X-Content-Type-Options"), "nosniff") << path;
  }
  // Every file of web/ is embedded, and nothing else.
  size_t served = 0;
  for (const auto& entry : std::filesystem::directory_iterator(src)) {
    const std::string f = entry.path().filename().string(), ext = entry.path().extension().string();
    if (ext != ".html" && ext != ".js" && ext != ".css") continue;
    const std::string url = f == "index.html" ? "/" : "/assets/" + f;
    ApiResponse r = ServeWeb("GET", url);
    EXPECT_EQ(r.status, 200) << url << ": rebuild (re-run cmake) to embed web/" << f;
    ++served;
  }
  EXPECT_EQ(WebAssets().size(), served);
}

TEST(Web, NoInlineScriptOrStyleAndNoOtherOrigin) {
  const std::string html(ServeWeb("GET", "/").body);
  EXPECT_NE(html.find("<html lang=\"en\">"), std::string::npos);
  EXPECT_EQ(html.find("<style"), std::string::npos);
  EXPECT_EQ(html.find("style=\""), std::string::npos);
  EXPECT_EQ(html.find("<script>"), std::string::npos);  // only <script src=...>
  for (const char* s : {"onclick=", "onload=", "http://", "https://", "javascript:"})
    EXPECT_EQ(html.find(s), std::string::npos) << s;
  // Text goes into the page with textContent only: no asset writes HTML.
  for (const WebAsset& a : WebAssets()) {
    for (const char* s : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("})
      EXPECT_EQ(std::string(a.body).find(s), std::string::npos) << a.path << " uses " << s;
  }
}

TEST(Web, TraversalUnknownAssetsAndOtherMethodsAreRefused) {
  for (const char* p : {"/assets/../../etc/passwd", "/assets/..%2f..%2fetc%2fpasswd", "/assets/%2e%2e/%2e%2e/etc/passwd",
                        "/assets/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "/../../../../etc/passwd", "/assets/./app.js",
                        "/assets/..%5c..%5cetc%5cpasswd"}) {
    ApiResponse r = ServeWeb("GET", p);
    EXPECT_TRUE(r.status == 400 || r.status == 404) << p << ": " << r.status;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << p;
    EXPECT_EQ(HeaderOf(r, "Content-Security-Policy"), kWebCsp) << p;
  }
  EXPECT_EQ(ServeWeb("GET", "/assets/../../etc/passwd").status, 400);
  EXPECT_EQ(ServeWeb("GET", "/assets/nope.js").status, 404);
  EXPECT_EQ(ServeWeb("GET", "/assets/").status, 404);
  EXPECT_EQ(ServeWeb("GET", "/assets/app.js/").status, 404);
  ApiResponse post = ServeWeb("POST", "/");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(HeaderOf(post, "Allow"), "GET");
  EXPECT_TRUE(WebServes("/"));
  EXPECT_TRUE(WebServes("/assets/x"));
  EXPECT_FALSE(WebServes("/api/v1/projects"));
  EXPECT_FALSE(WebServes("/metrics"));
}

}  // namespace
}  // namespace ark::server
