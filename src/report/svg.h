// Small inline-SVG charts for HTML reports: no scripts, no external files, readable when the
// report is opened from disk or printed. Missing values (std::nullopt, e.g. redacted counts)
// are drawn as gaps and marked in the hover title.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "stats/funnel.h"

namespace ark::svg {

struct Series {
  std::string name;
  std::vector<std::optional<double>> values;  // one per category
  std::string color;                           // CSS colour; empty picks from the palette
};

struct ChartOptions {
  std::string title;
  std::string y_label;
  int width = 680;
  int height = 300;
  int decimals = 0;  // in value labels
  bool ordered = false;  // series are ordered groups (deciles, age bands): a sequential palette
  std::string x_label;   // scatter charts (FunnelChart, RankChart) only
  std::string unit_label = "practice";  // FunnelChart: what a dot is, in the legend
};

// `v` with `decimals` decimals and thousands separated by commas: Grouped(1234567, 0) is
// "1,234,567", Grouped(0.8293, 1) is "0.8".
std::string Grouped(double v, int decimals);
// The colour of series i of n: its own, else Sequential (ordered) or Palette.
std::string SeriesColor(const std::vector<Series>& s, size_t i, bool ordered);
// A colour-blind-safe sequential colour (viridis) for ordered group i of n, dark to light.
const std::string& Sequential(size_t i, size_t n);

std::string Escape(const std::string& s);
// A plain HTML table of text: every header and cell is escaped.
std::string HtmlTable(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows);
const std::string& Palette(size_t i);

// Grouped vertical bars, one group per category.
std::string BarChart(const std::vector<std::string>& categories, const std::vector<Series>& series,
                     const ChartOptions& o);
// One line per series over the categories (e.g. years).
std::string LineChart(const std::vector<std::string>& categories, const std::vector<Series>& series,
                      const ChartOptions& o);
// A population pyramid: age bands bottom (youngest) to top, males left, females right.
std::string Pyramid(const std::vector<std::string>& bands, const std::vector<std::optional<double>>& male,
                    const std::vector<std::optional<double>>& female, const ChartOptions& o);

// A funnel plot: one dot per unit (ratio against expected count), a line at 1 and the 95% (dashed)
// and 99.8% (solid) limit curves, clipped to the plot. Units beyond 99.8% are drawn in a second
// colour. The x axis runs from 0 to past the largest expected count; the y axis from 0 to past the
// largest ratio (at least 2), limits above it leave the plot at its top edge.
struct FunnelDot {
  std::string name;
  double expected = 0, ratio = 0;
  int flag = 0;  // as stats::FunnelPoint::flag
};
std::string FunnelChart(const std::vector<FunnelDot>& dots, const std::vector<stats::FunnelLimits>& curve,
                        const ChartOptions& o);
// Raw against shrunk rates (or ratios), one column per area in the given order: shrunk values as a
// line, raw values as dots (missing raw values, e.g. redacted, left out); the legend and hover
// titles name them `raw_name` and `shrunk_name`.
std::string RankChart(const std::vector<std::string>& names, const std::vector<std::optional<double>>& raw,
                      const std::vector<double>& shrunk, const ChartOptions& o, const std::string& raw_name = "raw rate",
                      const std::string& shrunk_name = "shrunk rate");

// A calibration plot: one dot per risk group (e.g. decile), mean predicted risk (x) against the
// share observed (y), both in percent, with the diagonal where they agree. Both axes run from 0 to
// past the largest value; a group without an observed value (redacted) is left out.
struct CalibrationDot {
  std::string name;  // "decile 3"
  double predicted = 0;
  std::optional<double> observed;
};
std::string CalibrationChart(const std::vector<CalibrationDot>& dots, const ChartOptions& o);

// A grid of tiles, one per unit (e.g. small area), `columns` to a row in the given order, each
// coloured by its value on a diverging scale centred on `centre` (blue below, red above, equal
// steps of log ratio, full colour at centre x/÷ `span`), the value written in the tile, and a hover
// title. A unit without a value (e.g. left out for disclosure) is grey. Returned as an HTML
// <figure> with `caption` as its <figcaption> (plain text, escaped).
struct Tile {
  std::string name;               // hover title, e.g. "E01900012 (IMD decile 2)"
  std::optional<double> value;
};
std::string TileGrid(const std::vector<Tile>& tiles, int columns, double centre, double span, const std::string& caption,
                     const ChartOptions& o);
// The tile colour of `value` on that scale (exposed for tests).
std::string DivergingColor(double value, double centre, double span);

}  // namespace ark::svg
