#include "runs/governed_run.h"

#include <memory>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "governance/governance.h"
#include "governance/ledger.h"
#include "runs/steps.h"
#include "store/store.h"
#include "study/dummy.h"

namespace ark::runs {

Result<RunOutcome> GovernedRun(RunRequest r) {
  const std::string ark_dir = r.run.ark_dir;
  r.gate.command = "run";
  ARK_ASSIGN_OR_RETURN(auto cat, Catalog::Open(ark_dir));
  ARK_ASSIGN_OR_RETURN(gov::Access access, AdmitLocked(*cat, r.gate, r.ledger_mutex));
  study::RunOptions o = std::move(r.run);
  if (access.governed) {
    // The project's purpose; a recorded opt-out exemption lifts opt-outs as direct care does.
    const std::string pname = gov::PurposeName(access.project.purpose);
    ARK_ASSIGN_OR_RETURN(o.purpose, study::ParsePurpose(!gov::OptOutsApply(access.project) || pname == "direct_care"
                                                            ? "direct-care"
                                                            : pname));
    o.feeds = access.Feeds();  // the engines read only the feeds the project is approved for
  }
  RunOutcome out;
  out.governed = access.governed;
  const std::string purpose = study::PurposeName(o.purpose);
  o.authorise = [&](const std::vector<PersonKey>& persons, const std::string& sha) -> Status {
    MaybeLock l(r.ledger_mutex);
    ARK_ASSIGN_OR_RETURN(auto ledger, gov::Ledger::Open(ark_dir));
    if (access.governed) {
      ARK_ASSIGN_OR_RETURN(auto store, Store::Open(ark_dir + "/store"));
      ARK_ASSIGN_OR_RETURN(gov::RunRecord rec, gov::RecordRun(*cat, *ledger, *store, access.actor, access.project,
                                                              access.datasets, sha, persons, gov::Today()));
      out.run_id = rec.id;
      return Status::OK();
    }
    gov::Json e = {{"type", "run.executed"}, {"project", nullptr}, {"workspace_run", true},
                   {"purpose", purpose}, {"definition_sha256", sha},
                   {"population_band", gov::SizeBand(static_cast<int64_t>(persons.size()))}};
    return ledger->Append(std::move(e)).status();
  };
  ARK_ASSIGN_OR_RETURN(out.report, study::RunStudy(o));
  return out;
}

Result<study::RunReport> DummyRun(const DummyRunRequest& r) {
  if (r.people < 1 || r.people > 100000)
    return Status::InvalidArgument("people must be from 1 to 100000, not " + std::to_string(r.people));
  if (r.progress) r.progress("dummy-data", 0.0);
  if (r.cancelled && r.cancelled()) return study::Cancelled("dummy-data");
  ARK_ASSIGN_OR_RETURN(study::Definition def, study::ParseDefinitionFile(r.definition));
  const std::string dummy = r.work_dir + "/ark";
  (void)RemoveAll(dummy);  // a dummy Ark is made afresh for each run
  ARK_RETURN_IF_ERROR(study::MakeDummyArk(def, dummy, {.people = r.people, .seed = r.seed, .threads = r.threads}).status());
  study::RunOptions o;
  o.ark_dir = dummy;
  o.definition = r.definition;
  o.out_dir = r.out_dir;
  o.threads = r.threads;
  o.cancelled = r.cancelled;
  if (r.progress) o.progress = [&r](const std::string& stage, double f) { r.progress(stage, 0.2 + 0.8 * f); };
  o.authorise = [&](const std::vector<PersonKey>&, const std::string& sha) -> Status {
    MaybeLock l(r.ledger_mutex);
    ARK_ASSIGN_OR_RETURN(auto ledger, gov::Ledger::Open(r.ark_dir));
    gov::Json e = {{"type", "run.dummy"}, {"by", r.user}, {"project", r.project.empty() ? gov::Json(nullptr) : gov::Json(r.project)},
                   {"definition_sha256", sha}, {"people", r.people}, {"seed", r.seed}};
    return ledger->Append(std::move(e)).status();
  };
  return study::RunStudy(o);
}

}  // namespace ark::runs
