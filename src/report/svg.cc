#include "report/svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>

namespace ark::svg {
namespace {

// Axis ticks: a step of 1, 2 or 5 times a power of ten, giving 3 to 6 intervals up to the
// first tick at or above the data's maximum, so every label is distinct and round.
struct Ticks {
  double step = 1;
  int n = 1;         // intervals: the axis runs 0 .. n * step
  int decimals = 0;  // enough to tell the labels apart
  double top() const { return step * n; }
};

Ticks NiceTicks(double max) {
  if (!(max > 0)) max = 1;
  const double raw = max / 5;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  Ticks t;
  t.step = 10 * p;
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * p >= raw * (1 - 1e-9)) {
      t.step = m * p;
      break;
    }
  }
  t.n = std::max(1, static_cast<int>(std::ceil(max / t.step - 1e-9)));
  t.decimals = t.step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(t.step) - 1e-9));
  return t;
}

// A tick label: thousands as "20k" once the axis reaches 10,000, else the number grouped.
std::string TickLabel(double v, const Ticks& t) {
  if (v == 0) return "0";
  if (t.top() >= 10000) {
    const double k = t.step / 1000;
    const int d = k >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(k) - 1e-9));
    return Grouped(v / 1000, d) + "k";
  }
  return Grouped(v, t.decimals);
}

std::string Num(double v, int decimals) { return Grouped(v, decimals); }

// Room on the right for the legend: as wide as its longest name (about 6.5 px a character).
int LegendWidth(const std::vector<Series>& s) {
  if (s.size() <= 1) return 16;
  size_t longest = 0;
  for (auto& x : s) longest = std::max(longest, x.name.size());
  return std::min(260, 34 + static_cast<int>(6.5 * longest));
}

// A category label under the axis: turned when the labels would not fit side by side.
std::string CategoryLabel(double x, int y, const std::string& text, bool turned) {
  if (!turned)
    return fmt::format(R"svg(<text x="{:.1f}" y="{}" text-anchor="middle" fill="#333">{}</text>)svg", x, y, Escape(text));
  return fmt::format(R"svg(<text x="{:.1f}" y="{}" text-anchor="end" fill="#333" transform="rotate(-35 {:.1f} {})">{}</text>)svg",
                     x, y, x, y, Escape(text));
}

bool LabelsCollide(const std::vector<std::string>& cats, double slot) {
  size_t longest = 0;
  for (auto& c : cats) longest = std::max(longest, c.size());
  return 6.5 * static_cast<double>(longest) + 4 > slot;
}

double MaxOf(const std::vector<Series>& s) {
  double m = 0;
  for (auto& x : s) for (auto& v : x.values) if (v) m = std::max(m, *v);
  return m;
}

std::string Header(const ChartOptions& o) {
  return fmt::format(R"svg(<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {0} {1}" width="{0}" height="{1}" role="img" aria-label="{2}" font-family="system-ui, sans-serif" font-size="11">)svg"
                     "<title>{2}</title>"
                     R"svg(<text x="{3}" y="16" text-anchor="middle" font-size="13" font-weight="600">{2}</text>)svg",
                     o.width, o.height, Escape(o.title), o.width / 2);
}

// Y axis with gridlines; returns the scale max.
std::string Axis(double max, int left, int top, int plot_w, int plot_h, const ChartOptions& o, double* nice) {
  const Ticks t = NiceTicks(max);
  *nice = t.top();
  std::string out;
  for (int i = 0; i <= t.n; ++i) {
    const double v = t.step * i;
    const int y = top + plot_h - static_cast<int>(std::lround(plot_h * static_cast<double>(i) / t.n));
    out += fmt::format(R"svg(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ddd"/>)svg", left, y, left + plot_w, y);
    out += fmt::format(R"svg(<text x="{}" y="{}" text-anchor="end" fill="#555">{}</text>)svg", left - 4, y + 4, TickLabel(v, t));
  }
  out += fmt::format(R"svg(<text transform="translate(12,{}) rotate(-90)" text-anchor="middle" fill="#333">{}</text>)svg",
                     top + plot_h / 2, Escape(o.y_label));
  return out;
}

std::string Legend(const std::vector<Series>& s, int x, int y, bool ordered) {
  std::string out;
  for (size_t i = 0; i < s.size() && s.size() > 1; ++i) {
    const std::string c = SeriesColor(s, i, ordered);
    out += fmt::format(R"svg(<rect x="{}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}">{}</text>)svg", x,
                       y - 9 + 14 * static_cast<int>(i), c, x + 14, y + 14 * static_cast<int>(i), Escape(s[i].name));
  }
  return out;
}

}  // namespace

std::string Grouped(double v, int decimals) {
  std::string s = fmt::format("{:.{}f}", std::abs(v), decimals);
  const size_t dot = s.find('.');
  const size_t int_end = dot == std::string::npos ? s.size() : dot;
  for (size_t i = int_end; i > 3; i -= 3) s.insert(i - 3, ",");
  const bool zero = s.find_first_not_of("0.,") == std::string::npos;
  return (v < 0 && !zero ? "-" : "") + s;
}

std::string SeriesColor(const std::vector<Series>& s, size_t i, bool ordered) {
  if (!s[i].color.empty()) return s[i].color;
  return ordered ? Sequential(i, s.size()) : Palette(i);
}

const std::string& Sequential(size_t i, size_t n) {
  // viridis, dark to light, without its palest yellows (too faint on white)
  static const std::vector<std::string> v = {"#440154", "#482878", "#3e4989", "#31688e", "#26828e",
                                             "#1f9e89", "#35b779", "#6ece58", "#b5de2b"};
  if (n <= 1) return v[3];
  const size_t k = (i * (v.size() - 1) + (n - 1) / 2) / (n - 1);
  return v[std::min(k, v.size() - 1)];
}

std::string Escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string HtmlTable(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows) {
  std::string t = "<table><thead><tr>";
  for (const auto& h : head) t += "<th>" + Escape(h) + "</th>";
  t += "</tr></thead><tbody>";
  for (const auto& r : rows) {
    t += "<tr>";
    for (const auto& c : r) t += "<td>" + Escape(c) + "</td>";
    t += "</tr>";
  }
  return t + "</tbody></table>";
}

const std::string& Palette(size_t i) {
  static const std::vector<std::string> p = {"#1f6f8b", "#e07a5f", "#3d9970", "#9b5de5", "#f2a541",
                                             "#577590", "#c44536", "#7f8c8d"};
  return p[i % p.size()];
}

std::string BarChart(const std::vector<std::string>& cats, const std::vector<Series>& series, const ChartOptions& o) {
  // Turned labels (35 degrees, ending under their bar) need room below the axis and, for the first
  // one, to the left of it.
  size_t longest = 0;
  for (auto& c : cats) longest = std::max(longest, c.size());
  const double text = 6.5 * static_cast<double>(longest);
  const double rough_group = cats.empty() ? 0 : (o.width - 56.0 - LegendWidth(series)) / static_cast<double>(cats.size());
  const bool turned = !cats.empty() && LabelsCollide(cats, rough_group);
  const int first = cats.empty() ? 0 : static_cast<int>(6.5 * 0.82 * static_cast<double>(cats[0].size()) - rough_group / 2) + 8;
  const int left = turned ? std::max(56, first) : 56, top = 28, right = LegendWidth(series);
  const int bottom = turned ? std::min(o.height / 2, static_cast<int>(text * 0.58) + 24) : 40;
  const int pw = o.width - left - right, ph = o.height - top - bottom;
  double nice;
  std::string out = Header(o) + Axis(MaxOf(series), left, top, pw, ph, o, &nice);
  const double group = cats.empty() ? pw : static_cast<double>(pw) / cats.size();
  const double bw = group * 0.8 / std::max<size_t>(1, series.size());
  for (size_t c = 0; c < cats.size(); ++c) {
    const double gx = left + group * c + group * 0.1;
    for (size_t s = 0; s < series.size(); ++s) {
      const auto& v = c < series[s].values.size() ? series[s].values[c] : std::nullopt;
      const std::string col = SeriesColor(series, s, o.ordered);
      const double x = gx + bw * s;
      if (!v) {
        out += fmt::format(R"svg(<text x="{:.1f}" y="{}" text-anchor="middle" fill="#999" font-size="9"><title>{}: redacted</title>*</text>)svg",
                           x + bw / 2, top + ph - 3, Escape(series[s].name));
        continue;
      }
      const double h = ph * (*v / nice);
      out += fmt::format(R"svg(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}"><title>{} {}: {}</title></rect>)svg",
                         x, top + ph - h, std::max(1.0, bw - 1), h, col, Escape(series[s].name), Escape(cats[c]),
                         Num(*v, o.decimals));
    }
    out += CategoryLabel(left + group * c + group / 2, top + ph + 14, cats[c], turned);
  }
  out += Legend(series, left + pw + 10, top + 12, o.ordered);
  return out + "</svg>";
}

std::string LineChart(const std::vector<std::string>& cats, const std::vector<Series>& series, const ChartOptions& o) {
  // The last label is centred on the right end of the axis: leave room for its half.
  const int last_half = cats.empty() ? 0 : static_cast<int>(3.25 * static_cast<double>(cats.back().size())) + 6;
  const int left = 56, top = 28, right = std::max(LegendWidth(series), last_half), bottom = 40;
  const int pw = o.width - left - right, ph = o.height - top - bottom;
  double nice;
  std::string out = Header(o) + Axis(MaxOf(series), left, top, pw, ph, o, &nice);
  const double step = cats.size() > 1 ? static_cast<double>(pw) / (cats.size() - 1) : pw;
  // Dates along the axis: every k-th label where all of them would collide.
  size_t every = 1;
  while (cats.size() > 1 && LabelsCollide(cats, step * every)) ++every;
  for (size_t c = 0; c < cats.size(); c += every) out += CategoryLabel(left + step * c, top + ph + 14, cats[c], false);
  for (size_t s = 0; s < series.size(); ++s) {
    const std::string col = SeriesColor(series, s, o.ordered);
    std::string path;
    for (size_t c = 0; c < cats.size() && c < series[s].values.size(); ++c) {
      const auto& v = series[s].values[c];
      if (!v) continue;
      const double x = left + step * c, y = top + ph - ph * (*v / nice);
      path += fmt::format("{}{:.1f},{:.1f} ", path.empty() ? "M" : "L", x, y);
      out += fmt::format(R"svg(<circle cx="{:.1f}" cy="{:.1f}" r="2.5" fill="{}"><title>{} {}: {}</title></circle>)svg", x, y, col,
                         Escape(series[s].name), Escape(cats[c]), Num(*v, o.decimals));
    }
    out += fmt::format(R"svg(<path d="{}" fill="none" stroke="{}" stroke-width="2"/>)svg", path, col);
  }
  out += Legend(series, left + pw + 10, top + 12, o.ordered);
  return out + "</svg>";
}

std::string Pyramid(const std::vector<std::string>& bands, const std::vector<std::optional<double>>& male,
                    const std::vector<std::optional<double>>& female, const ChartOptions& o) {
  const int top = 28, bottom = 30;
  const double mid = o.width / 2.0, label_w = 44;
  const double half = mid - label_w / 2 - 20;
  const int ph = o.height - top - bottom;
  double m = 0;
  for (auto& v : male) if (v) m = std::max(m, *v);
  for (auto& v : female) if (v) m = std::max(m, *v);
  const double nice = NiceTicks(m).top();
  std::string out = Header(o);
  const double bh = bands.empty() ? ph : static_cast<double>(ph) / bands.size();
  for (size_t i = 0; i < bands.size(); ++i) {
    const double y = top + ph - bh * (i + 1);
    if (i < male.size() && male[i]) {
      const double w = half * (*male[i] / nice);
      out += fmt::format(R"svg(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}"><title>males {}: {}</title></rect>)svg",
                         mid - label_w / 2 - w, y + 1, w, bh - 2, Palette(0), Escape(bands[i]), Num(*male[i], 0));
    }
    if (i < female.size() && female[i]) {
      const double w = half * (*female[i] / nice);
      out += fmt::format(R"svg(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}"><title>females {}: {}</title></rect>)svg",
                         mid + label_w / 2, y + 1, w, bh - 2, Palette(1), Escape(bands[i]), Num(*female[i], 0));
    }
    out += fmt::format(R"svg(<text x="{}" y="{:.1f}" text-anchor="middle" fill="#333">{}</text>)svg", mid, y + bh / 2 + 4, Escape(bands[i]));
  }
  out += fmt::format(R"svg(<text x="{}" y="{}" text-anchor="middle" fill="{}">males</text><text x="{}" y="{}" text-anchor="middle" fill="{}">females</text>)svg",
                     mid - half / 2, o.height - 8, Palette(0), mid + half / 2, o.height - 8, Palette(1));
  out += fmt::format(R"svg(<text x="{}" y="{}" text-anchor="start" fill="#777">{}</text><text x="{}" y="{}" text-anchor="end" fill="#777">{}</text>)svg",
                     4, o.height - 8, Num(nice, 0), o.width - 4, o.height - 8, Num(nice, 0));
  return out + "</svg>";
}

}  // namespace ark::svg

namespace ark::svg {
namespace {

// The frame of a scatter chart: plot area, x and y axes from 0 with round ticks, both labels.
struct Frame {
  std::string clip;  // id of the plot's clip path, unique per chart title
  int left = 56, top = 28, pw = 0, ph = 0;
  double xmax = 1, ymax = 1;
  double X(double x) const { return left + pw * std::clamp(x / xmax, 0.0, 1.0); }
  double Y(double y) const { return top + ph - ph * std::clamp(y / ymax, 0.0, 1.0); }
};

std::string DrawFrame(double xmax, double ymax, const ChartOptions& o, int right, Frame* f) {
  const int bottom = 46;
  f->clip = fmt::format("plot{:x}", std::hash<std::string>{}(o.title + std::to_string(o.width)));
  f->pw = o.width - f->left - right;
  f->ph = o.height - f->top - bottom;
  std::string out = Header(o) + Axis(ymax, f->left, f->top, f->pw, f->ph, o, &f->ymax);
  const Ticks t = NiceTicks(xmax);
  f->xmax = t.top();
  for (int i = 0; i <= t.n; ++i) {
    const double x = f->left + f->pw * static_cast<double>(i) / t.n;
    out += fmt::format(R"svg(<line x1="{0:.1f}" y1="{1}" x2="{0:.1f}" y2="{2}" stroke="#ccc"/>)svg", x, f->top + f->ph, f->top + f->ph + 4);
    out += fmt::format(R"svg(<text x="{:.1f}" y="{}" text-anchor="middle" fill="#555">{}</text>)svg", x, f->top + f->ph + 16,
                       TickLabel(t.step * i, t));
  }
  out += fmt::format(R"svg(<text x="{}" y="{}" text-anchor="middle" fill="#333">{}</text>)svg", f->left + f->pw / 2, o.height - 8,
                     Escape(o.x_label));
  return out;
}

std::string Polyline(const Frame& f, const std::vector<std::pair<double, double>>& xy, const std::string& colour,
                     const std::string& dash, const std::string& name) {
  std::string d;
  for (auto& [x, y] : xy) d += fmt::format("{}{:.1f},{:.1f} ", d.empty() ? "M" : "L", x, y);
  return fmt::format(R"svg(<path d="{}" fill="none" stroke="{}" stroke-width="1.5"{} clip-path="url(#{})"><title>{}</title></path>)svg",
                     d, colour, dash.empty() ? "" : " stroke-dasharray=\"" + dash + "\"", f.clip, Escape(name));
}

std::string ClipPath(const Frame& f) {
  return fmt::format(R"svg(<clipPath id="{}"><rect x="{}" y="{}" width="{}" height="{}"/></clipPath>)svg", f.clip, f.left, f.top, f.pw, f.ph);
}

std::string LegendRow(int x, int y, const std::string& colour, const std::string& dash, bool dot, const std::string& text) {
  std::string mark = dot ? fmt::format(R"svg(<circle cx="{}" cy="{}" r="3.5" fill="{}"/>)svg", x + 8, y - 4, colour)
                         : fmt::format(R"svg(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1.5"{}/>)svg", x, y - 4,
                                       x + 16, y - 4, colour, dash.empty() ? "" : " stroke-dasharray=\"" + dash + "\"");
  return mark + fmt::format(R"svg(<text x="{}" y="{}">{}</text>)svg", x + 22, y, Escape(text));
}

}  // namespace

std::string FunnelChart(const std::vector<FunnelDot>& dots, const std::vector<stats::FunnelLimits>& curve, const ChartOptions& o) {
  double xmax = 0, ymax = 2;
  for (auto& d : dots) {
    xmax = std::max(xmax, d.expected);
    ymax = std::max(ymax, d.ratio * 1.05);
  }
  Frame f;
  std::string out = DrawFrame(xmax * 1.05, ymax, o, 150, &f);
  out += ClipPath(f);
  out += fmt::format(R"svg(<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="#333"/>)svg", f.left, f.Y(1), f.left + f.pw, f.Y(1));
  auto curve_xy = [&](double stats::FunnelLimits::*m) {
    std::vector<std::pair<double, double>> xy;
    for (auto& c : curve)
      if (c.expected <= f.xmax) xy.emplace_back(f.X(c.expected), f.top + f.ph - f.ph * std::min(c.*m / f.ymax, 1.02));
    return xy;
  };
  const std::string lc = "#7f8c8d";
  out += Polyline(f, curve_xy(&stats::FunnelLimits::low95), lc, "5 3", "95% limit (lower)");
  out += Polyline(f, curve_xy(&stats::FunnelLimits::high95), lc, "5 3", "95% limit (upper)");
  out += Polyline(f, curve_xy(&stats::FunnelLimits::low998), lc, "", "99.8% limit (lower)");
  out += Polyline(f, curve_xy(&stats::FunnelLimits::high998), lc, "", "99.8% limit (upper)");
  for (auto& d : dots) {
    const std::string c = std::abs(d.flag) >= 2 ? Palette(1) : Palette(0);
    out += fmt::format(R"svg(<circle cx="{:.1f}" cy="{:.1f}" r="3.5" fill="{}" fill-opacity="0.85"><title>{}: ratio {}, expected {}</title></circle>)svg",
                       f.X(d.expected), f.Y(d.ratio), c, Escape(d.name), Num(d.ratio, 2), Num(d.expected, 1));
  }
  const int lx = f.left + f.pw + 12, ly = f.top + 14;
  out += LegendRow(lx, ly, Palette(0), "", true, o.unit_label);
  out += LegendRow(lx, ly + 16, Palette(1), "", true, "beyond 99.8%");
  out += LegendRow(lx, ly + 32, lc, "5 3", false, "95% limits");
  out += LegendRow(lx, ly + 48, lc, "", false, "99.8% limits");
  return out + "</svg>";
}

std::string RankChart(const std::vector<std::string>& names, const std::vector<std::optional<double>>& raw,
                      const std::vector<double>& shrunk, const ChartOptions& o, const std::string& raw_name,
                      const std::string& shrunk_name) {
  double ymax = 0;
  for (auto& v : raw) if (v) ymax = std::max(ymax, *v);
  for (double v : shrunk) ymax = std::max(ymax, v);
  Frame f;
  const double n = static_cast<double>(std::max<size_t>(1, names.size()));
  std::string out = DrawFrame(n, ymax, o, 150, &f);
  std::vector<std::pair<double, double>> line;
  for (size_t i = 0; i < names.size(); ++i) {
    const double x = f.X(static_cast<double>(i) + 0.5);
    if (i < raw.size() && raw[i])
      out += fmt::format(R"svg(<circle cx="{:.1f}" cy="{:.1f}" r="2.5" fill="{}" fill-opacity="0.6"><title>{}: {} {}</title></circle>)svg", x,
                         f.Y(*raw[i]), Palette(1), Escape(names[i]), Escape(raw_name), Num(*raw[i], raw_name.find("ratio") != std::string::npos ? 2 : 1));
    if (i < shrunk.size()) line.emplace_back(x, f.Y(shrunk[i]));
  }
  out += ClipPath(f) + Polyline(f, line, Palette(0), "", shrunk_name);
  const int lx = f.left + f.pw + 12, ly = f.top + 14;
  out += LegendRow(lx, ly, Palette(1), "", true, raw_name);
  out += LegendRow(lx, ly + 16, Palette(0), "", false, shrunk_name);
  return out + "</svg>";
}

}  // namespace ark::svg

namespace ark::svg {

std::string CalibrationChart(const std::vector<CalibrationDot>& dots, const ChartOptions& o) {
  double top = 0;
  for (auto& d : dots) top = std::max({top, d.predicted, d.observed.value_or(0)});
  Frame f;
  std::string out = DrawFrame(top * 1.05, top * 1.05, o, 150, &f);
  // Same scale on both axes, so the diagonal is where predicted equals observed.
  const double m = std::min(f.xmax, f.ymax);
  out += ClipPath(f) + Polyline(f, {{f.X(0), f.Y(0)}, {f.X(m), f.Y(m)}}, "#7f8c8d", "5 3", "predicted = observed");
  std::vector<std::pair<double, double>> line;
  for (auto& d : dots) {
    if (!d.observed) continue;
    line.emplace_back(f.X(d.predicted), f.Y(*d.observed));
    out += fmt::format(R"svg(<circle cx="{:.1f}" cy="{:.1f}" r="4" fill="{}"><title>{}: predicted {}%, observed {}%</title></circle>)svg",
                       f.X(d.predicted), f.Y(*d.observed), Palette(0), Escape(d.name), Num(d.predicted, 1), Num(*d.observed, 1));
  }
  out += Polyline(f, line, Palette(0), "", "observed");
  const int lx = f.left + f.pw + 12, ly = f.top + 14;
  out += LegendRow(lx, ly, Palette(0), "", true, "observed");
  out += LegendRow(lx, ly + 16, "#7f8c8d", "5 3", false, "perfect agreement");
  return out + "</svg>";
}

std::string DivergingColor(double value, double centre, double span) {
  // ColorBrewer RdBu ends and a near-white middle.
  const double t = std::clamp(std::log(value / centre) / std::log(span), -1.0, 1.0);
  const double lo[3] = {33, 102, 172}, mid[3] = {247, 247, 247}, hi[3] = {178, 24, 43};
  const double* end = t < 0 ? lo : hi;
  const double a = std::abs(t);
  int c[3];
  for (int k = 0; k < 3; ++k) c[k] = static_cast<int>(std::lround(mid[k] + a * (end[k] - mid[k])));
  return fmt::format("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]);
}

std::string TileGrid(const std::vector<Tile>& tiles, int columns, double centre, double span, const std::string& caption,
                     const ChartOptions& o) {
  columns = std::max(1, columns);
  const int rows = static_cast<int>((tiles.size() + columns - 1) / columns);
  const int left = 12, top = 28, legend_w = 150;
  const double cell = std::min(44.0, (o.width - left - legend_w - 12) / static_cast<double>(columns));
  ChartOptions oo = o;
  oo.height = std::max(o.height, top + static_cast<int>(std::ceil(cell * rows)) + 12);
  std::string out = Header(oo);
  for (size_t i = 0; i < tiles.size(); ++i) {
    const double x = left + cell * static_cast<double>(i % columns), y = top + cell * static_cast<double>(i / columns);
    const Tile& t = tiles[i];
    const std::string fill = t.value ? DivergingColor(*t.value, centre, span) : "#c8c8c8";
    const bool dark = t.value && std::abs(std::log(*t.value / centre) / std::log(span)) > 0.55;
    out += fmt::format(R"svg(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}" stroke="#fff"><title>{}: {}</title></rect>)svg",
                       x, y, cell, cell, fill, Escape(t.name), t.value ? Num(*t.value, 2) : std::string("left out"));
    if (cell >= 26)
      out += fmt::format(R"svg(<text x="{:.1f}" y="{:.1f}" text-anchor="middle" font-size="9" fill="{}" pointer-events="none">{}</text>)svg",
                         x + cell / 2, y + cell / 2 + 3, dark ? "#fff" : "#333", t.value ? Num(*t.value, 2) : std::string("–"));
  }
  // Legend: the scale at five points, and grey.
  const int lx = left + static_cast<int>(std::ceil(cell * columns)) + 16;
  int ly = top + 4;
  out += fmt::format(R"svg(<text x="{}" y="{}" font-weight="600">{}</text>)svg", lx, ly + 8, Escape(o.y_label));
  for (double v : {centre * span, centre * std::sqrt(span), centre, centre / std::sqrt(span), centre / span}) {
    ly += 18;
    out += fmt::format(R"svg(<rect x="{}" y="{}" width="14" height="14" fill="{}" stroke="#999" stroke-width="0.5"/><text x="{}" y="{}">{}{}</text>)svg",
                       lx, ly, DivergingColor(v, centre, span), lx + 20, ly + 11, v == centre * span ? "≥ " : v == centre / span ? "≤ " : "",
                       Num(v, 2));
  }
  ly += 18;
  out += fmt::format(R"svg(<rect x="{}" y="{}" width="14" height="14" fill="#c8c8c8"/><text x="{}" y="{}">left out</text>)svg", lx, ly, lx + 20, ly + 11);
  return "<figure class=tiles>" + out + "</svg><figcaption>" + Escape(caption) + "</figcaption></figure>";
}

}  // namespace ark::svg
