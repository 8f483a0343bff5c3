#include "report/contents.h"

#include <gtest/gtest.h>

namespace ark {
namespace {

TEST(ReportContents, EverySectionIsListedAndLinked) {
  const std::string html =
      "<h1>R</h1><p>intro</p><section><h2>At a glance</h2>x</section>"
      "<section><h2>Live: HL7 &amp; alerts</h2></section><section><h2 id=\"own\">Kept</h2></section>"
      "<section><h2>At a glance</h2></section>";
  const std::string out = WithContents(html);
  EXPECT_LT(out.find("<nav class=toc>"), out.find("<section>"));
  EXPECT_NE(out.find("<h2 id=\"at-a-glance\">At a glance</h2>"), std::string::npos) << out;
  EXPECT_NE(out.find("<h2 id=\"live-hl7-amp-alerts\">"), std::string::npos) << out;
  EXPECT_NE(out.find("<h2 id=\"own\">Kept</h2>"), std::string::npos) << out;
  EXPECT_NE(out.find("<h2 id=\"at-a-glance-2\">"), std::string::npos) << out;  // ids stay unique
  EXPECT_NE(out.find("<li><a href=\"#own\">Kept</a></li>"), std::string::npos) << out;
  EXPECT_NE(out.find("<li><a href=\"#live-hl7-amp-alerts\">Live: HL7 &amp; alerts</a></li>"), std::string::npos);
  EXPECT_EQ(WithContents(out), out);  // a second pass changes nothing
  // A page with one section needs no contents.
  EXPECT_EQ(WithContents("<section><h2>Only</h2></section>").find("<nav"), std::string::npos);
}

}  // namespace
}  // namespace ark
