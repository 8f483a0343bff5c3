// `ark pathways`: process mining on an Ark's linked timelines (a pathway definition) or on any
// event log a process-mining user brings (CSV, XES, XES.gz). docs/pathways.md has the details.
#include <charconv>
#include <chrono>
#include <cstdio>

#include <set>

#include "catalog/catalog.h"
#include "command.h"
#include "disclosure/opensafely.h"
#include "governance/gate.h"
#include "pathways/log_io.h"
#include "pathways/output.h"
#include "pathways/pathway.h"
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

// A pathway run in a project (gov::Admit passed): only the disclosure-controlled report leaves
// (report.html: counts <= 7 redacted, others rounded to 5, rare variants not shown); the exact
// files and the patient-level event log stay unwritten. Opt-outs: the log holds only persons
// cleared for secondary use by the store's flags; a person on an opt-out list loaded since makes
// the run fail closed. Put on the ledger before the report is written.
Status GovernedPathway(const std::string& ark_dir, const std::string& yaml, const gov::Access& access,
                       const PathwayRun& run, const std::string& out) {
  if (!run.analysis.disclosure) return Status::Internal("a pathway log from an Ark has disclosure control on");
  if (access.OptOutsApply()) {
    const int col = run.log.CaseAttr("person");
    if (col < 0) return Status::Internal("a pathway log from an Ark names each case's person");
    std::set<PersonKey> persons;
    for (const std::string& k : run.log.case_attrs[col]) {
      PersonKey key = 0;
      auto [end, ec] = std::from_chars(k.data(), k.data() + k.size(), key);
      if (ec != std::errc() || end != k.data() + k.size()) return Status::Internal("pathway case with person '" + k + "'");
      persons.insert(key);
    }
    ARK_ASSIGN_OR_RETURN(auto cat, Catalog::Open(ark_dir));
    ARK_ASSIGN_OR_RETURN(auto store, Store::Open(ark_dir + "/store"));
    uint64_t excluded = 0;
    ARK_RETURN_IF_ERROR(gov::FilterPopulation(*cat, *store, access.project, {persons.begin(), persons.end()}, &excluded).status());
    if (excluded) {
      return gov::LogRefusal(ark_dir, access.actor.user, Status::PermissionDenied(
          "the pathway's cases include people on an opt-out list (fail closed): rebuild the Ark with the lists in staging"));
    }
  }
  ARK_ASSIGN_OR_RETURN(std::string def, ReadFile(yaml));
  ARK_ASSIGN_OR_RETURN(auto cases, sdc::PublishCount(static_cast<int64_t>(run.analysis.core.cases)));
  ARK_RETURN_IF_ERROR(gov::RecordAccess(ark_dir, access, {{"pathway_sha256", merkle::HexOf(merkle::Sha256(def))},
                                                          {"cases_published", sdc::Show(cases)}}));
  ARK_RETURN_IF_ERROR(MakeDirs(out));
  ARK_RETURN_IF_ERROR(WriteFileAtomic(out + "/report.html", ReportHtml(run.analysis)));
  std::printf("%s cases (project %s: counts <= 7 redacted, others rounded to 5); wrote %s/report.html\n",
              sdc::Show(cases).c_str(), access.project.id.c_str(), out.c_str());
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
