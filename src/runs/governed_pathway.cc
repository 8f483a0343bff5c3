#include "runs/governed_pathway.h"

#include <charconv>
#include <set>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "disclosure/opensafely.h"
#include "governance/governance.h"
#include "governance/merkle.h"
#include "pathways/output.h"
#include "runs/steps.h"
#include "store/store.h"
#include "study/engine.h"

namespace ark::runs {
namespace {

// The persons behind the log's cases (case attribute "person": the Ark's person key).
Result<std::vector<PersonKey>> CasePersons(const pathways::EventLog& log) {
  const int col = log.CaseAttr("person");
  if (col < 0) return Status::Internal("a pathway log from an Ark names each case's person");
  std::set<PersonKey> persons;
  for (const std::string& k : log.case_attrs[col]) {
    PersonKey key = 0;
    auto [end, ec] = std::from_chars(k.data(), k.data() + k.size(), key);
    if (ec != std::errc() || end != k.data() + k.size()) return Status::Internal("pathway case with person '" + k + "'");
    persons.insert(key);
  }
  return std::vector<PersonKey>(persons.begin(), persons.end());
}

}  // namespace

Result<PathwayOutcome> PublishPathway(const std::string& ark_dir, const std::string& definition, const gov::Access& access,
                                      const pathways::PathwayRun& run, const std::string& out_dir,
                                      std::mutex* ledger_mutex) {
  if (!access.governed) return Status::Internal("PublishPathway is for an access in a project");
  if (!run.analysis.disclosure) return Status::Internal("a pathway log from an Ark has disclosure control on");
  if (access.OptOutsApply()) {
    ARK_ASSIGN_OR_RETURN(std::vector<PersonKey> persons, CasePersons(run.log));
    ARK_ASSIGN_OR_RETURN(auto cat, Catalog::Open(ark_dir));
    ARK_ASSIGN_OR_RETURN(auto store, Store::Open(ark_dir + "/store"));
    uint64_t excluded = 0;
    ARK_RETURN_IF_ERROR(gov::FilterPopulation(*cat, *store, access.project, persons, &excluded).status());
    if (excluded) {
      MaybeLock l(ledger_mutex);
      return gov::LogRefusal(ark_dir, access.actor.user, Status::PermissionDenied(
          "the pathway's cases include people on an opt-out list (fail closed): rebuild the Ark with the lists in staging"));
    }
  }
  PathwayOutcome o;
  ARK_ASSIGN_OR_RETURN(o.cases, sdc::PublishCount(static_cast<int64_t>(run.analysis.core.cases)));
  {
    MaybeLock l(ledger_mutex);
    ARK_RETURN_IF_ERROR(gov::RecordAccess(ark_dir, access, {{"pathway_sha256", merkle::HexOf(merkle::Sha256(definition))},
                                                            {"cases_published", sdc::Show(o.cases)}}));
  }
  ARK_RETURN_IF_ERROR(MakeDirs(out_dir));
  o.report = out_dir + "/report.html";
  ARK_RETURN_IF_ERROR(WriteFileAtomic(o.report, pathways::ReportHtml(run.analysis)));
  return o;
}

Result<PathwayOutcome> GovernedPathway(PathwayRequest r) {
  auto stage = [&r](const char* name, double f) { return EnterStage(r.cancelled, r.progress, name, f); };
  if (r.gate.project.empty()) return Status::InvalidArgument("a governed pathway analysis needs a project");
  r.gate.command = "pathways";
  r.gate.every_feed = true;  // a pathway reads every feed of the Ark
  ARK_RETURN_IF_ERROR(stage("gate", 0.0));
  ARK_ASSIGN_OR_RETURN(auto cat, Catalog::Open(r.ark_dir));
  ARK_ASSIGN_OR_RETURN(gov::Access access, AdmitLocked(*cat, r.gate, r.ledger_mutex));
  if (!access.governed) return Status::Internal("the gate admitted a pathway in project " + r.gate.project + " ungoverned");
  ARK_ASSIGN_OR_RETURN(pathways::PathwayDefinition def, pathways::ParsePathwayDefinition(r.definition, "pathway"));
  ARK_RETURN_IF_ERROR(stage("timelines", 0.1));
  pathways::PathwayRun run;
  ARK_ASSIGN_OR_RETURN(run.log, pathways::BuildLogFromArk(r.ark_dir, def, r.threads));
  ARK_RETURN_IF_ERROR(stage("analysis", 0.5));
  ARK_RETURN_IF_ERROR(pathways::AnalysePathway(r.ark_dir, def, run, r.threads));
  ARK_RETURN_IF_ERROR(stage("report", 0.9));
  return PublishPathway(r.ark_dir, r.definition, access, run, r.out_dir, r.ledger_mutex);
}

}  // namespace ark::runs
