// The federated measure: a study definition run at every site, each applying its own disclosure
// rules before anything leaves; the coordinator pools what the sites released. No operation of the
// network returns rows: a site answers only disclosure-controlled measure tables.
//
// Site side (MeasureAtSite), for a request from USER at site S in project P:
//  1. P must be a project of this Ark with the same id, approved by this Ark's own committee, naming
//     "USER@S" among its people (that is what makes a local project a federated one: its committee
//     approved that remote person), inside its dates, on the datasets it approved (gov::AuthoriseRun), which are the only feeds the run reads;
//     otherwise the answer is a refusal naming the site and why (and the refusal is on its ledger).
//  2. The definition (text, with its codelist files) is run by the normal path (study::RunStudy,
//     native engine, the project's purpose, opt-outs as the project requires) without the
//     patient-level dataset (RunOptions::dataset false: its rows are found, not written);
//     gov::RecordRun records it ("run.executed" by USER@S) before anything is written.
//  3. Each measure table is checked with the site's rule set (sdc::CheckTable, as `ark sdc check`
//     and `ark release submit` do for a measure table) and published in the released form; a table
//     whose check fails is withheld, with the rule that failed it. The run's directory is removed
//     before the answer leaves.
//
// Coordinator side: MeasureRequestBody reads a definition and its codelists for the wire;
// PoolMeasures sums the sites' released numerators and denominators cell by cell (a cell redacted
// at any site is redacted in the pool).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ark/status.h"
#include "catalog/catalog.h"
#include "governance/governance.h"
#include "network/site.h"
#include "study/engine.h"

namespace ark::net {

// {"definition": text, "name": file name, "files": {relative path: text}} for a definition file.
Result<Json> MeasureRequestBody(const std::string& definition_path);

// The site's answer body: {"site", "rules", "population_band", "measures": [{"name", "status",
// "summary", "csv"}]} ("csv" absent when the table was withheld).
Result<Json> MeasureAtSite(const Site& site, const Request& r);

// Shared by the site's operations (measure, glm):
// The federated project as this site's committee approved it for the remote person `who`
// (USER@SITE), over the datasets it approved (gov::AuthoriseRun: also refused when one of them has
// an unknown opt-out status); a refusal (PermissionDenied naming this site, logged) otherwise. A
// run in it reads only those feeds (project.datasets).
Result<gov::Project> FederatedProject(const Site& site, Catalog& cat, const gov::Actor& who, const std::string& id);
// The purpose a run in `project` uses (an opt-out exemption runs as direct care does).
Result<study::Purpose> ProjectPurpose(const gov::Project& project);
// Writes the request's definition and codelist files under `work` (relative names only); returns
// the definition's path.
Result<std::string> UnpackDefinition(const Request& r, const std::string& work);

// Pools released measure tables (one CSV text per site, the same measure). Rows are matched on
// (measure, interval_start, interval_end, groups...); a row missing at a site counts 0 there.
// Numerator and denominator are summed; "[REDACTED]" at any site makes the pooled cell
// "[REDACTED]"; the ratio is recomputed (%.6g), redacted when either count is or the denominator is 0.
Result<std::string> PoolMeasures(const std::vector<std::string>& site_csvs);

}  // namespace ark::net
