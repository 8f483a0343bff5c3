#include "serve_risk.h"

#include <algorithm>
#include <climits>
#include <cstdio>

#include "core/time.h"
#include "governance/governance.h"
#include "governance/ledger.h"
#include "live/ingestor.h"
#include "model_features.h"

namespace ark::cli {
namespace {

// The features a live event can change: plain exists/count aggregates (events starting in the
// window) of a codelist, with no bound relative to an interval's end.
std::vector<live::FeatureUpdate> Updates(const study::Definition& def, const std::vector<std::string>& features,
                                         int32_t day) {
  std::vector<live::FeatureUpdate> out;
  for (size_t j = 0; j < features.size(); ++j)
    for (const study::Variable& v : def.variables) {
      if (v.name != features[j] || v.kind != study::Variable::Kind::kAggregate || v.codelist < 0) continue;
      if (v.agg != study::Agg::kExists && v.agg != study::Agg::kCount) continue;
      if (v.match != study::Variable::Match::kStart || v.window.from_end || v.window.to_end) continue;
      live::FeatureUpdate u;
      u.feature = j;
      u.count = v.agg == study::Agg::kCount;
      u.codelist = def.codelists[static_cast<size_t>(v.codelist)];
      u.from_day = v.window.from ? day + *v.window.from : INT32_MIN;
      out.push_back(std::move(u));
    }
  return out;
}

}  // namespace

Result<std::unique_ptr<live::LiveRisk>> BuildLiveRisk(const ServeRiskOptions& o, const live::RuleSet& rules,
                                                     live::Metrics* metrics) {
  const std::string date = o.at.empty() ? gov::Today() : o.at;
  auto t = ParseTime(date, "%Y-%m-%d");
  if (!t.ok()) return Status::InvalidArgument("--risk-at: " + t.status().message());
  const int32_t day = DayOf(*t);
  ARK_ASSIGN_OR_RETURN(LoadedModel model, LoadTrainedModel(o.model_dir));
  ARK_ASSIGN_OR_RETURN(ModelAccess gate, AdmitModelProject(o.ark_dir, o.who, o.project,
                                                           "live risk alerts are for direct care"));
  if (gate.project.purpose != gov::Purpose::kDirectCare)
    return gov::LogRefusal(o.ark_dir, o.who.user,
                           Status::PermissionDenied("project '" + o.project + "' is for " + gov::PurposeName(gate.project.purpose) +
                                                    ": live risk alerts name people, so they are for direct care only"));
  ARK_ASSIGN_OR_RETURN(study::Purpose sp, study::ParsePurpose("direct-care"));  // opt-outs do not apply
  live::RiskBaseline base;
  base.date = FormatDate(day);
  // The engine reads only the project's approved feeds, and never the live one: live events are
  // counted by replaying the live log (Ingestor::SetRisk), once, whatever reached the store.
  std::vector<std::string> feeds;
  for (const std::string& d : gate.datasets)
    if (d != live::kLiveSource) feeds.push_back(d);
  const FeatureRequest req{model.json.value("definition_path", std::string()), model.scorer.features, {}, "",
                           feeds};
  std::vector<PersonKey> persons;
  ARK_ASSIGN_OR_RETURN(stats::FeatureTable table, FeatureTableAt(model.def, day, req, o.ark_dir, sp, o.threads, &persons));
  if (persons.empty()) return Status::FailedPrecondition("nobody in the model's population at " + date + ": nothing to score");
  ARK_ASSIGN_OR_RETURN(auto store, Store::Open(o.ark_dir + "/store"));
  std::vector<std::string> area, decile;
  ARK_RETURN_IF_ERROR(PersonPlaces(*store, persons, &base.practice, &area, &decile));
  // On the ledger (and checked) before anything is scored, as `ark model score` does.
  ARK_ASSIGN_OR_RETURN(auto ledger, gov::Ledger::Open(o.ark_dir));
  std::vector<PersonKey> population = persons;
  std::sort(population.begin(), population.end());
  ARK_RETURN_IF_ERROR(gov::RecordRun(*gate.cat, *ledger, *store, gate.actor, gate.project, gate.datasets, model.def.sha256,
                                     population, gov::Today())
                          .status());
  store.reset();
  std::vector<live::FeatureUpdate> updates = Updates(model.def, model.scorer.features, day);
  base.persons = std::vector<PersonKey>(persons.begin(), persons.end());
  base.x = std::move(table.x);
  std::fprintf(stderr, "ark serve: live risk: %zu people at %s in project %s, %zu of %zu features updated by live events\n",
               base.persons.size(), date.c_str(), o.project.c_str(), updates.size(), model.scorer.features.size());
  return live::LiveRisk::Create(std::move(model.scorer), std::move(updates), std::move(base), rules, metrics);
}

}  // namespace ark::cli
