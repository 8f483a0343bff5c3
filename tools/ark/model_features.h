// The feature table of a risk model: a study definition's dataset at one index date, evaluated by
// the native engine, as rows of numbers (`ark model train` and `ark model score`).
#pragma once

#include <string>
#include <vector>

#include "ark/status.h"
#include "catalog/catalog.h"
#include "core/event.h"
#include "stats/risk_model.h"
#include "stats/score.h"
#include "store/store.h"
#include "study/definition.h"
#include "study/engine.h"
#include "study/feeds.h"
#include "who.h"

namespace ark::cli {

struct FeatureRequest {
  std::string definition_path;  // for messages
  std::vector<std::string> features, groups;
  std::string outcome;          // "" when scoring: no outcome is read and none is required
  study::Feeds feeds;           // the feeds read (ModelAccess::datasets); nullopt = every feed
};

// The definition's dataset at `day`. Features must be bool, int or float variables; the outcome
// (when given) a bool. Rows with a missing feature (or outcome) are dropped and counted.
// `persons` gets each kept row's person key, in row order (appended).
Result<stats::FeatureTable> FeatureTableAt(study::Definition def, int32_t day, const FeatureRequest& req,
                                           const std::string& ark_dir, study::Purpose purpose, int threads,
                                           std::vector<PersonKey>* persons);

// The gate of `ark model train` and `ark model score`: who asks is identified, the project exists and
// is not for research (refused and logged with `research_reason`), and gov::AuthoriseRun admits
// them to it over the datasets it is approved for (`datasets`: the only feeds the model reads).
struct ModelAccess {
  std::unique_ptr<Catalog> cat;
  gov::Actor actor;
  gov::Project project;
  std::vector<std::string> datasets;
};
Result<ModelAccess> AdmitModelProject(const std::string& ark_dir, const Who& who, const std::string& project,
                                      const std::string& research_reason);

// A feature table as CSV: a header of the feature names and `outcome`, then one row per person
// (numbers; the outcome 0/1) in the table's order. No person key or other identifier.
std::string FeatureCsv(const stats::FeatureTable& t, const std::string& outcome);

// A model `ark model train` wrote (model.json, booster.json for gbt) and the definition it was
// trained on, checked unchanged since (SHA-256). Errors name the file.
struct LoadedModel {
  nlohmann::ordered_json json;
  stats::Scorer scorer;
  study::Definition def;
};
Result<LoadedModel> LoadTrainedModel(const std::string& dir);

// Practice code, LSOA and deprivation decile of each person in `keys` ("" when unknown).
Status PersonPlaces(const Store& store, const std::vector<PersonKey>& keys, std::vector<std::string>* practice,
                    std::vector<std::string>* area, std::vector<std::string>* decile);

}  // namespace ark::cli
