#include "core/process.h"
#include "pathways/graph_svg.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>

#include "core/fs.h"

namespace ark::pathways {
namespace {

std::string Esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '&') o += "&amp;";
    else if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

std::string DotEsc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o;
}

std::string ShowCount(const GraphOptions& o, uint64_t n) {
  return o.show_count ? o.show_count(n) : std::to_string(n);
}

// The pruned graph: node 0 = start, 1 = end, then activities.
struct G {
  std::vector<std::string> label;
  std::vector<uint64_t> weight;
  struct E {
    int from, to;
    uint64_t count;
    double median_s;
    bool timed;
  };
  std::vector<E> edges;
  uint64_t max_count = 1;
  size_t shown_acts = 0, total_acts = 0, shown_edges = 0, total_edges = 0;
};

G Prune(const EventLog& log, const Core& core, const GraphOptions& o) {
  G g;
  g.label = {"start", "end"};
  g.weight = {core.cases, core.cases};
  std::vector<uint32_t> acts;
  for (uint32_t a = 0; a < log.activities.size(); ++a)
    if (core.activity_events[a]) acts.push_back(a);
  g.total_acts = acts.size();
  std::stable_sort(acts.begin(), acts.end(),
                   [&](uint32_t a, uint32_t b) { return core.activity_events[a] > core.activity_events[b]; });
  if (acts.size() > o.max_activities) acts.resize(o.max_activities);
  std::map<uint32_t, int> node;
  for (uint32_t a : acts) {
    node[a] = static_cast<int>(g.label.size());
    g.label.push_back(log.activities[a]);
    g.weight.push_back(core.activity_events[a]);
  }
  g.total_edges = core.edges.size();
  for (const Edge& e : core.edges) {  // by count already
    if (g.shown_edges >= o.max_edges) break;
    auto f = node.find(e.from), t = node.find(e.to);
    if (f == node.end() || t == node.end()) continue;
    g.edges.push_back({f->second, t->second, e.count, e.time.median, true});
    ++g.shown_edges;
  }
  for (auto& [a, n] : node) {
    if (core.start[a]) g.edges.push_back({0, n, core.start[a], 0, false});
    if (core.end[a]) g.edges.push_back({n, 1, core.end[a], 0, false});
  }
  for (auto& e : g.edges) g.max_count = std::max(g.max_count, e.count);
  return g;
}

double Width(const G& g, uint64_t c) { return 1.0 + 7.0 * std::sqrt(static_cast<double>(c) / g.max_count); }

std::string Caption(const G& g) {
  if (g.shown_acts == g.total_acts && g.shown_edges == g.total_edges) return "";
  char buf[160];
  std::snprintf(buf, sizeof buf, "Showing the %zu most frequent of %zu activities and %zu of %zu directly-follows edges.",
                g.shown_acts, g.total_acts, g.shown_edges, g.total_edges);
  return buf;
}

std::string DotOf(const G& g, const GraphOptions& o) {
  std::string d = "digraph dfg {\n  rankdir=TB; nodesep=0.35; ranksep=0.45;\n"
                  "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10, "
                  "fillcolor=\"#e3ecf7\", color=\"#4a6fa5\"];\n  edge [fontname=\"Helvetica\", fontsize=8, color=\"#555555\"];\n"
                  "  n0 [shape=circle, label=\"\", width=0.22, fillcolor=\"#3b8a3e\", color=\"#3b8a3e\"];\n"
                  "  n1 [shape=doublecircle, label=\"\", width=0.18, fillcolor=\"#b23b3b\", color=\"#b23b3b\"];\n";
  for (size_t i = 2; i < g.label.size(); ++i)
    d += "  n" + std::to_string(i) + " [label=\"" + DotEsc(g.label[i]) + "\\n(" + ShowCount(o, g.weight[i]) + ")\"];\n";
  for (auto& e : g.edges) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f", Width(g, e.count));
    std::string label = DotEsc(ShowCount(o, e.count));
    if (e.timed) label += "\\n" + DotEsc(HumanDuration(e.median_s));
    d += "  n" + std::to_string(e.from) + " -> n" + std::to_string(e.to) + " [penwidth=" + buf + ", label=\"" +
         label + "\"" + (e.timed ? "" : ", style=dashed, color=\"#999999\"") + "];\n";
  }
  d += "}\n";
  return d;
}

bool HaveDot() {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::string p = path;
  size_t s = 0;
  while (s <= p.size()) {
    size_t e = p.find(':', s);
    if (e == std::string::npos) e = p.size();
    if (access((p.substr(s, e - s) + "/dot").c_str(), X_OK) == 0) return true;
    s = e + 1;
  }
  return false;
}

// Runs `dot -Tsvg`; empty on any failure.
std::string RunDot(const std::string& dot) {
  char tmpl[] = "/tmp/ark-dfg-XXXXXX";
  const int fd = mkstemp(tmpl);
  if (fd < 0) return "";
  const bool wrote = write(fd, dot.data(), dot.size()) == static_cast<ssize_t>(dot.size());
  close(fd);
  std::string out;
  if (wrote) {
    CommandOutput r = RunCommand(std::string("dot -Tsvg ") + tmpl + " 2>/dev/null");
    if (r.exit_code == 0) out = std::move(r.output);
  }
  unlink(tmpl);
  const size_t svg = out.find("<svg");
  return svg == std::string::npos ? "" : out.substr(svg);
}

// Built-in layered layout.
std::string BuiltinSvg(const G& g, const GraphOptions& o) {
  const int n = static_cast<int>(g.label.size());
  std::vector<std::vector<std::pair<int, uint64_t>>> out(n);
  for (size_t i = 0; i < g.edges.size(); ++i) out[g.edges[i].from].push_back({g.edges[i].to, g.edges[i].count});
  for (auto& v : out) std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.second > b.second; });
  // DFS from start, heaviest edges first; back edges are ignored for layering.
  std::vector<int> state(n, 0);
  std::set<std::pair<int, int>> back;
  std::function<void(int)> dfs = [&](int u) {
    state[u] = 1;
    for (auto& [v, c] : out[u]) {
      if (state[v] == 1) back.insert({u, v});
      else if (state[v] == 0) dfs(v);
    }
    state[u] = 2;
  };
  dfs(0);
  for (int u = 0; u < n; ++u)
    if (!state[u]) dfs(u);
  std::vector<int> layer(n, 0);
  for (int it = 0; it < n; ++it) {  // longest path by relaxation (graph is small)
    bool changed = false;
    for (auto& e : g.edges) {
      if (back.count({e.from, e.to}) || e.from == e.to) continue;
      if (layer[e.to] < layer[e.from] + 1) {
        layer[e.to] = layer[e.from] + 1;
        changed = true;
      }
    }
    if (!changed) break;
  }
  int maxl = 0;
  for (int u = 0; u < n; ++u)
    if (u != 1) maxl = std::max(maxl, layer[u]);
  layer[1] = maxl + 1;
  std::vector<std::vector<int>> layers(maxl + 2);
  for (int u = 0; u < n; ++u) layers[layer[u]].push_back(u);
  std::vector<double> pos(n, 0);
  for (auto& L : layers)
    for (size_t i = 0; i < L.size(); ++i) pos[L[i]] = i;
  for (int sweep = 0; sweep < 4; ++sweep) {
    for (size_t l = 1; l < layers.size(); ++l) {
      std::vector<std::pair<double, int>> key;
      for (int u : layers[l]) {
        double s = 0, w = 0;
        for (auto& e : g.edges)
          if (e.to == u && layer[e.from] < static_cast<int>(l)) {
            s += pos[e.from] * e.count;
            w += e.count;
          }
        key.push_back({w > 0 ? s / w : pos[u], u});
      }
      std::stable_sort(key.begin(), key.end());
      for (size_t i = 0; i < key.size(); ++i) {
        layers[l][i] = key[i].second;
        pos[key[i].second] = i;
      }
    }
  }
  const double nw = 170, nh = 40, gx = 40, gy = 70;
  size_t widest = 1;
  for (auto& L : layers) widest = std::max(widest, L.size());
  const double W = widest * (nw + gx) + 140, H = layers.size() * (nh + gy) + 20;
  std::vector<double> cx(n), cy(n);
  for (size_t l = 0; l < layers.size(); ++l) {
    const double row_w = layers[l].size() * (nw + gx) - gx;
    for (size_t i = 0; i < layers[l].size(); ++i) {
      const int u = layers[l][i];
      cx[u] = (W - 140 - row_w) / 2 + i * (nw + gx) + nw / 2;
      cy[u] = 20 + l * (nh + gy) + nh / 2;
    }
  }
  char buf[512];
  std::string s;
  std::snprintf(buf, sizeof buf,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" "
                "font-family=\"Helvetica,Arial,sans-serif\" role=\"img\">",
                W, H, std::min(W, 1100.0));
  s += buf;
  s += "<defs><marker id=\"arr\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"9\" markerHeight=\"9\" "
       "markerUnits=\"userSpaceOnUse\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" fill=\"#555\"/></marker></defs>";
  for (auto& e : g.edges) {
    const double x1 = cx[e.from], y1 = cy[e.from], x2 = cx[e.to], y2 = cy[e.to];
    const double w = Width(g, e.count);
    std::string title = g.label[e.from] + " -> " + g.label[e.to] + ": " + ShowCount(o, e.count);
    if (e.timed) title += ", median " + HumanDuration(e.median_s);
    std::string path;
    double lx, ly;
    if (e.from == e.to) {
      std::snprintf(buf, sizeof buf, "M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f", x1 + nw / 2, y1 - 8, x1 + nw / 2 + 45,
                    y1 - 30, x1 + nw / 2 + 45, y1 + 30, x1 + nw / 2, y1 + 8);
      lx = x1 + nw / 2 + 48;
      ly = y1;
    } else if (layer[e.to] > layer[e.from]) {
      const double sy = y1 + nh / 2, ty = y2 - nh / 2 - 2;
      std::snprintf(buf, sizeof buf, "M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f", x1, sy, x1, (sy + ty) / 2, x2,
                    (sy + ty) / 2, x2, ty);
      lx = (x1 + x2) / 2;
      ly = (sy + ty) / 2;
    } else {  // back or same-layer edge: around the right
      const double sx = x1 + nw / 2, tx = x2 + nw / 2 + 2;
      const double bulge = 40 + 25 * std::abs(layer[e.from] - layer[e.to]);
      std::snprintf(buf, sizeof buf, "M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f", sx, y1, sx + bulge, y1,
                    tx + bulge, y2, tx, y2);
      lx = std::max(sx, tx) + bulge * 0.75;
      ly = (y1 + y2) / 2;
    }
    path = buf;
    std::snprintf(buf, sizeof buf, "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"%.2f\" %s marker-end=\"url(#arr)\" opacity=\"0.75\">",
                  path.c_str(), e.timed ? "#4a5a70" : "#aaaaaa", w, e.timed ? "" : "stroke-dasharray=\"4 3\"");
    s += buf;
    s += "<title>" + Esc(title) + "</title></path>";
    std::string label = ShowCount(o, e.count) + (e.timed ? " · " + HumanDuration(e.median_s) : "");
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" fill=\"#333\" text-anchor=\"middle\">",
                  lx, ly);
    s += buf + Esc(label) + "</text>";
  }
  for (int u = 0; u < n; ++u) {
    if (u <= 1) {
      std::snprintf(buf, sizeof buf, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"10\" fill=\"%s\"><title>%s</title></circle>", cx[u],
                    cy[u], u == 0 ? "#3b8a3e" : "#b23b3b", u == 0 ? "start" : "end");
      s += buf;
      continue;
    }
    std::snprintf(buf, sizeof buf,
                  "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\" rx=\"7\" fill=\"#e3ecf7\" stroke=\"#4a6fa5\"/>",
                  cx[u] - nw / 2, cy[u] - nh / 2, nw, nh);
    s += buf;
    std::string name = g.label[u];
    if (name.size() > 26) name = name.substr(0, 24) + "…";
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">", cx[u], cy[u] - 2);
    s += buf + Esc(name) + "<title>" + Esc(g.label[u]) + "</title></text>";
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" fill=\"#555\" text-anchor=\"middle\">", cx[u],
                  cy[u] + 12);
    s += buf + ShowCount(o, g.weight[u]) + "</text>";
  }
  s += "</svg>";
  return s;
}

}  // namespace

std::string DfgDot(const EventLog& log, const Core& core, const GraphOptions& o) {
  G g = Prune(log, core, o);
  return DotOf(g, o);
}

std::string DfgSvg(const EventLog& log, const Core& core, const GraphOptions& o) {
  G g = Prune(log, core, o);
  g.shown_acts = g.label.size() - 2;
  std::string svg;
  if (o.use_dot && HaveDot()) svg = RunDot(DotOf(g, o));
  if (svg.empty()) svg = BuiltinSvg(g, o);
  const std::string cap = Caption(g);
  if (!cap.empty()) svg += "<p class=\"note\">" + Esc(cap) + "</p>";
  return svg;
}

}  // namespace ark::pathways
