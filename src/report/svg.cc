#include "report/svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace ark::svg {
namespace {

double NiceMax(double v) {
  if (v <= 0) return 1;
  const double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * p >= v) return m * p;
  }
  return 10 * p;
}

std::string Num(double v, int decimals) {
  if (decimals == 0 && std::abs(v) >= 10000) return fmt::format("{:.0f}k", v / 1000);
  return fmt::format("{:.{}f}", v, decimals);
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
  *nice = NiceMax(max);
  std::string out;
  for (int i = 0; i <= 4; ++i) {
    double v = *nice * i / 4;
    int y = top + plot_h - static_cast<int>(plot_h * i / 4.0);
    out += fmt::format(R"svg(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ddd"/>)svg", left, y, left + plot_w, y);
    out += fmt::format(R"svg(<text x="{}" y="{}" text-anchor="end" fill="#555">{}</text>)svg", left - 4, y + 4, Num(v, o.decimals > 0 && *nice < 10 ? 1 : 0));
  }
  out += fmt::format(R"svg(<text transform="translate(12,{}) rotate(-90)" text-anchor="middle" fill="#333">{}</text>)svg",
                     top + plot_h / 2, Escape(o.y_label));
  return out;
}

std::string Legend(const std::vector<Series>& s, int x, int y) {
  std::string out;
  for (size_t i = 0; i < s.size() && s.size() > 1; ++i) {
    const std::string c = s[i].color.empty() ? Palette(i) : s[i].color;
    out += fmt::format(R"svg(<rect x="{}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}">{}</text>)svg", x,
                       y - 9 + 14 * static_cast<int>(i), c, x + 14, y + 14 * static_cast<int>(i), Escape(s[i].name));
  }
  return out;
}

}  // namespace

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

const std::string& Palette(size_t i) {
  static const std::vector<std::string> p = {"#1f6f8b", "#e07a5f", "#3d9970", "#9b5de5", "#f2a541",
                                             "#577590", "#c44536", "#7f8c8d"};
  return p[i % p.size()];
}

std::string BarChart(const std::vector<std::string>& cats, const std::vector<Series>& series, const ChartOptions& o) {
  const int left = 56, top = 28, right = series.size() > 1 ? 130 : 16, bottom = 40;
  const int pw = o.width - left - right, ph = o.height - top - bottom;
  double nice;
  std::string out = Header(o) + Axis(MaxOf(series), left, top, pw, ph, o, &nice);
  const double group = cats.empty() ? pw : static_cast<double>(pw) / cats.size();
  const double bw = group * 0.8 / std::max<size_t>(1, series.size());
  for (size_t c = 0; c < cats.size(); ++c) {
    const double gx = left + group * c + group * 0.1;
    for (size_t s = 0; s < series.size(); ++s) {
      const auto& v = c < series[s].values.size() ? series[s].values[c] : std::nullopt;
      const std::string col = series[s].color.empty() ? Palette(s) : series[s].color;
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
    out += fmt::format(R"svg(<text x="{:.1f}" y="{}" text-anchor="middle" fill="#333">{}</text>)svg", left + group * c + group / 2,
                       top + ph + 14, Escape(cats[c]));
  }
  out += Legend(series, left + pw + 10, top + 12);
  return out + "</svg>";
}

std::string LineChart(const std::vector<std::string>& cats, const std::vector<Series>& series, const ChartOptions& o) {
  const int left = 56, top = 28, right = series.size() > 1 ? 130 : 16, bottom = 40;
  const int pw = o.width - left - right, ph = o.height - top - bottom;
  double nice;
  std::string out = Header(o) + Axis(MaxOf(series), left, top, pw, ph, o, &nice);
  const double step = cats.size() > 1 ? static_cast<double>(pw) / (cats.size() - 1) : pw;
  for (size_t c = 0; c < cats.size(); ++c) {
    out += fmt::format(R"svg(<text x="{:.1f}" y="{}" text-anchor="middle" fill="#333">{}</text>)svg", left + step * c,
                       top + ph + 14, Escape(cats[c]));
  }
  for (size_t s = 0; s < series.size(); ++s) {
    const std::string col = series[s].color.empty() ? Palette(s) : series[s].color;
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
  out += Legend(series, left + pw + 10, top + 12);
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
  const double nice = NiceMax(m);
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
