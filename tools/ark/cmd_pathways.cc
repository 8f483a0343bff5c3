// `ark pathways`: process mining on an Ark's linked timelines (a pathway definition) or on any
// event log a process-mining user brings (CSV, XES, XES.gz). docs/pathways.md has the details.
#include <chrono>
#include <cstdio>

#include "catalog/catalog.h"
#include "command.h"
#include "disclosure/opensafely.h"
#include "governance/gate.h"
#include "pathways/log_io.h"
#include "pathways/output.h"
#include "pathways/pathway.h"
#include "runs/governed_pathway.h"
#include "store/store.h"
#include "who.h"

namespace ark::cli {
namespace {

using namespace ark::pathways;

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t b = 0;
  while (b <= s.size()) {
    size_t e = s.find(',', b);
    if (e == std::string::npos) e = s.size();
    if (e > b) out.push_back(s.substr(b, e - b));
    b = e + 1;
  }
  return out;
}

// A pathway run in a project (gov::Admit passed): runs::PublishPathway (src/runs/governed_pathway.h),
// the same code the server's pathway jobs run: opt-outs fail closed, the ledger, then only the
// disclosure-controlled report.html.
Status GovernedPathway(const std::string& ark_dir, const std::string& yaml, const gov::Access& access,
                       const PathwayRun& run, const std::string& out) {
  ARK_ASSIGN_OR_RETURN(std::string def, ReadFile(yaml));
  ARK_ASSIGN_OR_RETURN(runs::PathwayOutcome o, runs::PublishPathway(ark_dir, def, access, run, out));
  std::printf("%s cases (project %s: counts <= 7 redacted, others rounded to 5); wrote %s/report.html\n",
              sdc::Show(o.cases).c_str(), access.project.id.c_str(), out.c_str());
  return Status::OK();
}

int Pathways(int argc, char** argv) {
  CLI::App app(
      "Process mining on linked timelines or on an event log: directly-follows graph, variants, "
      "durations, waiting times, rework, group comparison, conformance.\n"
      "  ark pathways ARK PATHWAY.yaml --out DIR\n"
      "  ark pathways --log FILE [--case COL --activity COL --timestamp COL] --out DIR",
      "ark pathways");
  std::string ark_dir, yaml, log_path, out, export_xes, export_csv, reference, compare_by, group_a, group_b;
  std::vector<std::string> waits;
  CsvLogOptions csv;
  bool complete_only = false, json = false;
  int threads = 2;
  app.add_option("ark", ark_dir, "Ark directory");
  app.add_option("pathway", yaml, "pathway definition (YAML)");
  app.add_option("--log", log_path, "an event log instead of an Ark: .csv, .xes or .xes.gz");
  app.add_option("--case", csv.case_col, "CSV: case id column (default: case_id, case:concept:name, ...)");
  app.add_option("--activity", csv.activity_col, "CSV: activity column (default: activity, concept:name, ...)");
  app.add_option("--timestamp", csv.timestamp_col, "CSV: timestamp column, ISO 8601 (default: timestamp, time:timestamp, ...)");
  app.add_option("--resource", csv.resource_col, "CSV: resource column ('-' for none)");
  app.add_option("--lifecycle", csv.lifecycle_col, "CSV: lifecycle column ('-' for none)");
  app.add_option("--case-attr", csv.case_attr_cols, "CSV: columns kept as case attributes (repeatable)");
  app.add_flag("--complete-only", complete_only, "keep only events whose lifecycle is 'complete'");
  app.add_option("--wait", waits, "waiting time between two activities, 'FROM=>TO' (repeatable)");
  app.add_option("--reference", reference, "reference pathway: activities separated by ','");
  app.add_option("--compare-by", compare_by, "case attribute to compare two groups by");
  app.add_option("--group-a", group_a, "values of group A, separated by ','");
  app.add_option("--group-b", group_b, "values of group B, separated by ','");
  app.add_option("--export-xes", export_xes, "also write the event log as XES (.xes or .xes.gz)");
  app.add_option("--export-csv", export_csv, "also write the event log as CSV");
  app.add_option("--out", out, "output directory")->required();
  app.add_option("--threads", threads, "worker threads")->capture_default_str();
  app.add_flag("--json", json, "print summary.json to stdout");
  GateFlags gate;
  gate.Add(app);
  if (int rc = Parse(app, argc, argv); rc >= 0) return rc;
  if (log_path.empty() == (ark_dir.empty() || yaml.empty())) {
    std::fprintf(stderr, "ark pathways: give either ARK PATHWAY.yaml or --log FILE\n");
    return 2;
  }
  std::unique_ptr<PathwayRun> run;
  if (!log_path.empty()) {
    run = std::make_unique<PathwayRun>();
    auto t0 = std::chrono::steady_clock::now();
    auto log = ReadLog(log_path, csv);
    if (!log.ok()) return ReportError(log.status());
    run->log = std::move(*log);
    if (complete_only) run->log = FilterLifecycle(run->log, "complete");
    Analysis& a = run->analysis;
    a.read_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    t0 = std::chrono::steady_clock::now();
    a.log = &run->log;
    a.source = log_path;
    a.title = "Process map of " + log_path.substr(log_path.find_last_of('/') + 1);
    AnalysisOptions opts;
    opts.threads = threads;
    a.core = Analyse(run->log, opts);
    a.rework = FindRework(run->log);
    for (auto& w : waits) {
      const size_t p = w.find("=>");
      if (p == std::string::npos) return ReportError(Status::InvalidArgument("--wait '" + w + "': expected FROM=>TO"));
      auto r = WaitingTime(run->log, w.substr(0, p), w.substr(p + 2));
      if (!r.ok()) return ReportError(r.status());
      a.waits.push_back(std::move(*r));
    }
    if (!compare_by.empty()) {
      auto c = Compare(run->log, compare_by, SplitList(group_a), SplitList(group_b), compare_by + " " + group_a,
                       compare_by + " " + group_b, opts);
      if (!c.ok()) return ReportError(c.status());
      a.comparison = std::move(*c);
    }
    if (!reference.empty()) {
      auto c = CheckConformance(run->log, a.core, SplitList(reference));
      if (!c.ok()) return ReportError(c.status());
      a.conformance = std::move(*c);
    }
    a.analyse_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } else {
    // An Ark's timelines: through the one gate (src/governance/gate.h).
    auto access = gate.Admit(ark_dir, "pathways", "", /*every_feed=*/true);  // reads every feed
    if (!access.ok()) return ReportError(access.status());
    if (access->governed && (!export_xes.empty() || !export_csv.empty() || json)) {
      return ReportError(gov::LogRefusal(ark_dir, access->actor.user, Status::PermissionDenied(
          "in a project only the disclosure-controlled report leaves the Ark: --export-xes, --export-csv "
          "(a patient-level event log) and --json (exact figures) are refused")));
    }
    auto r = RunPathway(ark_dir, yaml, threads);
    if (!r.ok()) return ReportError(r.status());
    run = std::move(*r);
    if (access->governed) return ReportError(GovernedPathway(ark_dir, yaml, *access, *run, out));
  }
  if (!export_xes.empty())
    if (int rc = ReportError(WriteXesLog(run->log, export_xes))) return rc;
  if (!export_csv.empty())
    if (int rc = ReportError(WriteCsvLog(run->log, export_csv))) return rc;
  if (int rc = ReportError(WriteOutputs(run->analysis, out))) return rc;
  const Core& c = run->analysis.core;
  if (json) {
    std::printf("%s\n", SummaryJson(run->analysis).dump(2).c_str());
  } else {
    uint64_t acts = 0;
    for (auto n : c.activity_events) acts += n > 0;
    std::printf("%llu cases, %llu events, %llu activities, %zu variants, %zu edges; median case duration %s\n",
                (unsigned long long)c.cases, (unsigned long long)c.events, (unsigned long long)acts, c.variants.size(),
                c.edges.size(), HumanDuration(c.duration.median).c_str());
    std::printf("read %.3f s, analysed %.3f s; wrote %s/{summary.json,dfg.json,variants.csv,edges.csv,durations.csv,report.html}\n",
                run->analysis.read_seconds, run->analysis.analyse_seconds, out.c_str());
  }
  return 0;
}

ARK_COMMAND(kPathways, "pathways", "process mining on linked timelines or an event log (CSV, XES)", Pathways);

}  // namespace
}  // namespace ark::cli
