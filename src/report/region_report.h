// The demo's first report: a region profile, data volume, linkage quality and emergency
// admissions by deprivation, written as one self-contained HTML file with inline SVG charts.
//
// Every count shown about people passes OpenSAFELY's rules (disclosure/opensafely.h): counts
// <= 7 redacted, others rounded to 5, rates from rounded counts. Population figures are for a
// planning purpose, so only people known not to have opted out are counted (fail closed).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ark/status.h"
#include "link/link.h"

namespace ark {

struct ReportContext {
  std::string ark_dir;
  std::string title = "Ark demo: a synthetic city region";
  std::optional<LinkReport> link;                     // from `ark link` (with truth if known)
  std::vector<std::pair<std::string, double>> steps;  // pipeline step -> seconds
  nlohmann::ordered_json region;                      // synthetic region manifest, if any
};

// Writes `html_path` and returns the figures it shows (published values only) as JSON.
Result<nlohmann::ordered_json> WriteRegionReport(const ReportContext& ctx, const std::string& html_path);

// The linkage section's clustering part (pprl): cluster size distribution, largest cluster,
// clusters with two valid NHS numbers, merges refused and the expected false-merge rate, as HTML;
// its figures go to (*out)["pprl_clustering"].
std::string PprlClusteringHtml(const PprlStats& p, nlohmann::ordered_json* out);

}  // namespace ark
