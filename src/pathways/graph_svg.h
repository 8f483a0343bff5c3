// Drawing the directly-follows graph as SVG: edge width by frequency, edge label by median time.
//
// Layout: graphviz `dot` when it is on PATH (the graph is written as DOT and laid out by
// `dot -Tsvg`), otherwise a built-in layered layout (cycles broken by a depth-first search from
// the start node, layers by longest path, order within a layer by barycentre). Large graphs are
// pruned to the most frequent activities and edges (the caption says how many are shown).
#pragma once

#include <string>

#include "pathways/analysis.h"
#include "pathways/event_log.h"

namespace ark::pathways {

struct GraphOptions {
  size_t max_activities = 25;  // most frequent activities drawn. Default: 25.
  size_t max_edges = 40;       // most frequent edges drawn. Default: 40.
  bool use_dot = true;         // use graphviz `dot` if found. Default: true.
  // Count shown for a frequency (e.g. a disclosure-controlled "≈125"); identity when empty.
  std::string (*show_count)(uint64_t) = nullptr;
};

// DOT text of the graph (also written beside the report as dfg.dot).
std::string DfgDot(const EventLog& log, const Core& core, const GraphOptions& o = {});
// An <svg> element.
std::string DfgSvg(const EventLog& log, const Core& core, const GraphOptions& o = {});

}  // namespace ark::pathways
