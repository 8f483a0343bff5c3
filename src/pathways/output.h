// The outputs of a pathway analysis: summary.json, dfg.json, variants.csv, activities.csv,
// edges.csv, durations.csv, log.csv / log.xes (optional) and report.html (graph, variants chart,
// duration distributions, waiting times, rework, comparison, conformance).
//
// Disclosure: when `disclosure` is set (logs derived from an Ark), every count of cases or events
// shown in report.html and in the HTML section passes OpenSAFELY's rules (counts <= 7 redacted,
// others rounded to 5). The JSON and CSV files hold exact figures for the analyst inside the
// secure environment and are not for release.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ark/status.h"
#include "pathways/analysis.h"
#include "pathways/event_log.h"

namespace ark::pathways {

struct Analysis {
  std::string title = "Pathway analysis";
  std::string source;          // file or Ark directory the log came from
  std::string description;     // a line under the title (HTML-escaped when written)
  const EventLog* log = nullptr;
  Core core;
  std::vector<Waiting> waits;
  std::vector<Rework> rework;
  std::optional<Comparison> comparison;
  std::optional<Conformance> conformance;
  bool disclosure = false;
  double read_seconds = 0, analyse_seconds = 0;
};

// Runs every analysis of `a` that needs only the log: core, rework (waits, comparison and
// conformance are filled by the caller).
nlohmann::ordered_json SummaryJson(const Analysis& a);
nlohmann::ordered_json DfgJson(const Analysis& a);
std::string VariantsCsv(const Analysis& a);
// Writes all files into `dir` (created if missing).
Status WriteOutputs(const Analysis& a, const std::string& dir);
// The whole report page, and the embeddable section (no <html>/<body>, its own <style> scoped
// under .ark-pathway).
std::string ReportHtml(const Analysis& a);
std::string SectionHtml(const Analysis& a, int heading_level = 2);

}  // namespace ark::pathways
