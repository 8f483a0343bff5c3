#include "report/svg.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <tuple>
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

// The funnel plot: titled, both pairs of limit curves drawn and clipped to the plot, every
// practice a dot inside the plot area, higher ratios higher up, units beyond 99.8% marked.
TEST(Svg, FunnelChartDrawsLimitsAndKeepsPointsInside) {
  std::vector<stats::FunnelUnit> units = {{"A", 10, 12}, {"B", 45, 40}, {"C", 300, 210}, {"D", 95, 100},
                                          {"E", 20, 35},  {"F", 150, 148}, {"G", 60, 58}};
  auto fit = stats::Funnel(units, {.overdispersion = stats::Overdispersion::kNone});
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  std::vector<FunnelDot> dots;
  for (auto& p : fit->points) dots.push_back({p.name, p.expected, p.ratio, p.flag});
  ChartOptions o{.title = "Practices & <ratios>", .y_label = "observed / expected", .width = 700, .height = 360};
  o.x_label = "expected admissions";
  const std::string svg = FunnelChart(dots, fit->curve, o);
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(svg.find("<title>Practices &amp; &lt;ratios&gt;</title>"), std::string::npos);
  EXPECT_NE(svg.find("aria-label=\"Practices &amp; &lt;ratios&gt;\""), std::string::npos);
  EXPECT_NE(svg.find(">expected admissions</text>"), std::string::npos);
  EXPECT_NE(svg.find(">observed / expected</text>"), std::string::npos);
  ExpectNoStrayText(svg);
  // Four limit curves, each with many points, clipped to a clip path defined in the chart.
  std::smatch clip;
  ASSERT_TRUE(std::regex_search(svg, clip, std::regex("<clipPath id=\"([a-z0-9]+)\"><rect x=\"([0-9]+)\" y=\"([0-9]+)\" width=\"([0-9]+)\" height=\"([0-9]+)\"/>")));
  const double left = std::stod(clip[2]), top = std::stod(clip[3]), pw = std::stod(clip[4]), ph = std::stod(clip[5]);
  EXPECT_LE(left + pw, o.width);
  EXPECT_LE(top + ph, o.height);
  for (const char* name : {"95% limit (lower)", "95% limit (upper)", "99.8% limit (lower)", "99.8% limit (upper)"}) {
    std::smatch m;
    ASSERT_TRUE(std::regex_search(svg, m, std::regex("<path d=\"([^\"]*)\"[^>]*clip-path=\"url\\(#" + std::string(clip[1]) +
                                                     "\\)\"><title>" + std::regex_replace(name, std::regex("[.()]"), "\\$&") + "</title>")))
        << name;
    EXPECT_GE(std::count(m[1].first, m[1].second, 'L'), 50) << name;
  }
  // Each practice is a dot inside the plot area.
  std::regex dot_re("<circle cx=\"([0-9.]+)\" cy=\"([0-9.]+)\" r=\"3.5\" fill=\"(#[0-9a-f]+)\" fill-opacity=\"0.85\"><title>([A-Z]): ratio");
  std::map<std::string, std::pair<double, double>> at;
  std::map<std::string, std::string> colour;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), dot_re); it != std::sregex_iterator(); ++it) {
    const double cx = std::stod((*it)[1]), cy = std::stod((*it)[2]);
    EXPECT_GE(cx, left);
    EXPECT_LE(cx, left + pw);
    EXPECT_GE(cy, top);
    EXPECT_LE(cy, top + ph);
    at[(*it)[4]] = {cx, cy};
    colour[(*it)[4]] = (*it)[3];
  }
  ASSERT_EQ(at.size(), units.size());
  EXPECT_LT(at["C"].second, at["B"].second);  // ratio 1.43 above 1.125
  EXPECT_GT(at["C"].first, at["F"].first);    // expected 210 right of 148
  // C (300 vs 210) is beyond 99.8% and drawn apart from F (inside).
  ASSERT_EQ(std::abs(fit->points[2].flag), 2);
  ASSERT_EQ(fit->points[5].flag, 0);
  EXPECT_NE(colour["C"], colour["F"]);
}

TEST(Svg, RankChartDrawsShrunkLineAndRawDots) {
  ChartOptions o{.title = "Raw and shrunk", .y_label = "per 1,000", .width = 600, .height = 300};
  const std::string svg = RankChart({"a", "b", "c"}, {10.0, std::nullopt, 40.0}, {12.0, 20.0, 30.0}, o);
  EXPECT_NE(svg.find("<title>Raw and shrunk</title>"), std::string::npos);
  ExpectNoStrayText(svg);
  EXPECT_NE(svg.find("<title>shrunk rate</title>"), std::string::npos);
  std::regex raw_re("<title>[a-c]: raw ");
  EXPECT_EQ(std::distance(std::sregex_iterator(svg.begin(), svg.end(), raw_re), std::sregex_iterator()), 2);  // b is missing
  // Ratios are named as ratios (legend and hover titles), with two decimals.
  const std::string ratios = RankChart({"a"}, {1.234}, {1.1}, o, "raw ratio", "shrunk ratio");
  EXPECT_NE(ratios.find("<title>a: raw ratio 1.23</title>"), std::string::npos);
  EXPECT_NE(ratios.find("<title>shrunk ratio</title>"), std::string::npos);
  EXPECT_EQ(ratios.find("rate"), std::string::npos);
}

// Each risk group is a dot at (predicted, observed) in the same units on both axes, a redacted
// group is left out, and the diagonal of perfect agreement is drawn.
TEST(Svg, CalibrationChartPlotsGroupsAgainstTheDiagonal) {
  ChartOptions o{.title = "Calibration", .y_label = "admitted (%)", .width = 560, .height = 340, .x_label = "predicted (%)"};
  const std::string svg = CalibrationChart({{"decile 1", 1.0, 1.2}, {"decile 2", 5.0, std::nullopt}, {"decile 3", 20.0, 18.0}}, o);
  ExpectNoStrayText(svg);
  EXPECT_NE(svg.find("<title>predicted = observed</title>"), std::string::npos);
  EXPECT_NE(svg.find("<title>decile 3: predicted 20.0%, observed 18.0%</title>"), std::string::npos);
  EXPECT_EQ(svg.find("decile 2"), std::string::npos);
  // The diagonal runs from the origin to the corner: equal scales.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(svg, m, std::regex("<path d=\"M([0-9.]+),([0-9.]+) L([0-9.]+),([0-9.]+) \"[^>]*stroke-dasharray")));
  const double x0 = std::stod(m[1]), y0 = std::stod(m[2]), x1 = std::stod(m[3]), y1 = std::stod(m[4]);
  EXPECT_GT(x1, x0);
  EXPECT_LT(y1, y0);
  // Both points lie where the scale puts them: decile 3's observed is 0.9 of its predicted.
  std::regex dot("<circle cx=\"([0-9.]+)\" cy=\"([0-9.]+)\" r=\"4\"");
  std::vector<std::pair<double, double>> xy;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), dot); it != std::sregex_iterator(); ++it)
    xy.emplace_back(std::stod((*it)[1]), std::stod((*it)[2]));
  ASSERT_EQ(xy.size(), 2u);
  const double sx = (x1 - x0), sy = (y0 - y1);  // pixels for the same data span on each axis
  EXPECT_NEAR((xy[1].first - x0) / sx * 0.9, (y0 - xy[1].second) / sy, 0.01);
}

// Tiles in the given order, `columns` to a row, coloured on a diverging scale centred on 1 (blue
// below, red above, saturated at the span), grey without a value, with a caption.
TEST(Svg, TileGridColoursByValueInOrder) {
  EXPECT_EQ(DivergingColor(1.0, 1.0, 1.5), "#f7f7f7");
  EXPECT_EQ(DivergingColor(1.5, 1.0, 1.5), "#b2182b");
  EXPECT_EQ(DivergingColor(3.0, 1.0, 1.5), "#b2182b");  // clipped
  EXPECT_EQ(DivergingColor(1 / 1.5, 1.0, 1.5), "#2166ac");
  ChartOptions o{.title = "Areas", .y_label = "ratio", .width = 760, .height = 200};
  const std::string html = TileGrid({{"A", 1.5}, {"B", std::nullopt}, {"C", 1.0}, {"D & E", 0.5}}, 3, 1.0, 1.5, "Not a map <really>", o);
  EXPECT_EQ(html.rfind("<figure class=tiles><svg", 0), 0u);
  EXPECT_NE(html.find("<figcaption>Not a map &lt;really&gt;</figcaption></figure>"), std::string::npos);
  const std::string svg = html.substr(html.find("<svg"), html.find("</svg>") + 6 - html.find("<svg"));
  ExpectNoStrayText(svg);
  std::regex tile("<rect x=\"([0-9.]+)\" y=\"([0-9.]+)\" width=\"[0-9.]+\" height=\"[0-9.]+\" fill=\"(#[0-9a-f]+)\" stroke=\"#fff\"><title>([^<]*)</title>");
  std::vector<std::tuple<double, double, std::string, std::string>> t;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), tile); it != std::sregex_iterator(); ++it)
    t.emplace_back(std::stod((*it)[1]), std::stod((*it)[2]), (*it)[3], (*it)[4]);
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(std::get<3>(t[0]), "A: 1.50");
  EXPECT_EQ(std::get<2>(t[0]), "#b2182b");
  EXPECT_EQ(std::get<3>(t[1]), "B: left out");
  EXPECT_EQ(std::get<2>(t[1]), "#c8c8c8");
  EXPECT_EQ(std::get<3>(t[3]), "D &amp; E: 0.50");
  EXPECT_EQ(std::get<2>(t[3]), "#2166ac");
  // Three to a row: D starts the second row under A.
  EXPECT_EQ(std::get<0>(t[3]), std::get<0>(t[0]));
  EXPECT_GT(std::get<1>(t[3]), std::get<1>(t[0]));
  EXPECT_GT(std::get<0>(t[1]), std::get<0>(t[0]));
}

TEST(Svg, HtmlTableEscapesHeadersAndCells) {
  const std::string t = HtmlTable({"a<b", "n"}, {{"x&y", "3"}, {"<script>", "5"}});
  EXPECT_EQ(t, "<table><thead><tr><th>a&lt;b</th><th>n</th></tr></thead><tbody><tr><td>x&amp;y</td><td>3</td></tr>"
               "<tr><td>&lt;script&gt;</td><td>5</td></tr></tbody></table>");
}

}  // namespace
}  // namespace ark::svg
