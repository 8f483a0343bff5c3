#include "report/svg.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

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

// The y-axis labels of a chart, bottom to top.
std::vector<std::string> TickLabels(const std::string& svg) {
  std::vector<std::string> out;
  std::regex re("<text x=\"[0-9]+\" y=\"[0-9]+\" text-anchor=\"end\" fill=\"#555\">([^<]*)</text>");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1]);
  return out;
}

// Ticks were "0, 12k, 25k, 38k, 50k" and "0.0, 0.1, 0.1, 0.2, 0.2": now round and distinct.
TEST(Svg, AxisTicksAreRoundAndDistinct) {
  auto ticks = [](double max) {
    return TickLabels(BarChart({"a", "b"}, {{"s", {max / 2, max}, ""}}, {.title = "t", .decimals = 1}));
  };
  EXPECT_EQ(ticks(47000), (std::vector<std::string>{"0", "10k", "20k", "30k", "40k", "50k"}));
  EXPECT_EQ(ticks(0.9), (std::vector<std::string>{"0", "0.2", "0.4", "0.6", "0.8", "1.0"}));
  EXPECT_EQ(ticks(0.21), (std::vector<std::string>{"0", "0.05", "0.10", "0.15", "0.20", "0.25"}));
  EXPECT_EQ(ticks(50), (std::vector<std::string>{"0", "10", "20", "30", "40", "50"}));
  EXPECT_EQ(ticks(2300), (std::vector<std::string>{"0", "500", "1,000", "1,500", "2,000", "2,500"}));
  EXPECT_EQ(ticks(100), (std::vector<std::string>{"0", "20", "40", "60", "80", "100"}));
}

TEST(Svg, NumbersAreGroupedAndOrderedSeriesGetASequentialPalette) {
  EXPECT_EQ(Grouped(1234567, 0), "1,234,567");
  EXPECT_EQ(Grouped(999, 0), "999");
  EXPECT_EQ(Grouped(-12345.678, 2), "-12,345.68");
  EXPECT_EQ(Grouped(-0.01, 1), "0.0");
  std::vector<Series> deciles;
  for (int d = 1; d <= 10; ++d) deciles.push_back({std::to_string(d), {1.0}, ""});
  std::set<std::string> colours;
  for (size_t i = 0; i < deciles.size(); ++i) colours.insert(SeriesColor(deciles, i, /*ordered=*/true));
  EXPECT_GE(colours.size(), 9u);  // no repeats but where the palette has fewer steps than groups
  EXPECT_EQ(SeriesColor(deciles, 0, true), "#440154");
  EXPECT_EQ(SeriesColor(deciles, 9, true), "#b5de2b");
}

// The last date under a line chart was cut at the chart's edge ("2025-01-"): every category label
// must end inside the chart's width.
TEST(Svg, LineChartLabelsFitInsideTheChart) {
  ChartOptions o;
  o.width = 680;
  std::vector<Series> one = {{"all", {1.0, 2.0, 3.0}, ""}};
  const std::string svg = LineChart({"2018-01-01", "2019-01-01", "2025-01-01"}, one, o);
  std::regex re("<text x=\"([0-9.]+)\" y=\"[0-9]+\" text-anchor=\"middle\" fill=\"#333\">([0-9-]+)</text>");
  int labels = 0;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator(); ++it, ++labels) {
    const double centre = std::stod((*it)[1]);
    const double half = 3.25 * static_cast<double>((*it)[2].length());
    EXPECT_LE(centre + half, o.width) << (*it)[2];
  }
  EXPECT_EQ(labels, 3);
}

// Turned category labels under a bar chart ran off its left and bottom edges: each must stay inside.
TEST(Svg, TurnedBarLabelsStayInsideTheChart) {
  ChartOptions o;
  o.width = 460;
  o.height = 300;
  const std::vector<std::string> cats = {"AKI stage 2 or more", "emergency readmission within 30 days", "NEWS2 5 or more",
                                         "NEWS2 single parameter 3"};
  const std::string svg = BarChart(cats, {{"alerts", {1.0, 2.0, 60.0, 20.0}, ""}}, o);
  std::regex re("<text x=\"([0-9.]+)\" y=\"([0-9]+)\" text-anchor=\"end\" fill=\"#333\" transform=\"rotate\\(-35 [^\"]*\">([^<]*)</text>");
  int labels = 0;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator(); ++it, ++labels) {
    const double x = std::stod((*it)[1]), y = std::stod((*it)[2]), len = 6.5 * static_cast<double>((*it)[3].length());
    EXPECT_GE(x - 0.82 * len, 0) << (*it)[3];
    EXPECT_LE(y + 0.58 * len, o.height) << (*it)[3];
  }
  EXPECT_EQ(labels, 4);
}

}  // namespace
}  // namespace ark::svg
