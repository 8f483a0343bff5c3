#include "report/svg.h"

#include <gtest/gtest.h>

#include <regex>

namespace ark::svg {
namespace {

// Text that sits directly in the <svg> element (outside <text> and <title>) is not drawn but is
// read out by screen readers and text extraction: there must be none.
void ExpectNoStrayText(const std::string& svg) {
  std::string s = std::regex_replace(svg, std::regex("<title>[^<]*</title>"), "");
  s = std::regex_replace(s, std::regex("<text[^>]*>[^<]*</text>"), "");
  s = std::regex_replace(s, std::regex("<[^>]*>"), "");
  EXPECT_TRUE(std::all_of(s.begin(), s.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); }))
      << "stray text in the chart: " << s.substr(0, 200);
}

TEST(Svg, ChartsAreTitledAndHoldNoStrayText) {
  ChartOptions o;
  o.title = "Admissions & <deaths>";
  o.y_label = "per 1,000";
  std::vector<Series> series = {{"all", {1.0, std::nullopt, 3.5}, ""}, {"65+", {2.0, 4.0, 0.5}, ""}};
  for (const std::string& svg : {BarChart({"1", "2", "3"}, series, o), LineChart({"2020", "2021", "2022"}, series, o),
                                 Pyramid({"0-4", "5-9"}, {10.0, std::nullopt}, {12.0, 9.0}, o)}) {
    EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u) << svg.substr(0, 80);
    EXPECT_EQ(svg.substr(svg.size() - 6), "</svg>");
    EXPECT_NE(svg.find("aria-label=\"Admissions &amp; &lt;deaths&gt;\""), std::string::npos);
    EXPECT_NE(svg.find("font-size=\"11\"><title>Admissions &amp; &lt;deaths&gt;</title><text"),
              std::string::npos)
        << svg.substr(0, 400);
    ExpectNoStrayText(svg);
  }
  // A missing (redacted) value is marked in its hover title.
  EXPECT_NE(BarChart({"1", "2", "3"}, series, o).find("redacted"), std::string::npos);
}

}  // namespace
}  // namespace ark::svg
