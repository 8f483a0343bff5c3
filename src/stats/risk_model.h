// A risk model trained on one feature table and validated on another (temporal validation:
// the same definition at a later index date), with its model card: intended use, data,
// features, performance with 95% intervals, calibration, and fairness by subgroup
// (docs/risk-models.md). No person-level data is in the outputs.
//
// Example:
//   ARK_ASSIGN_OR_RETURN(TrainedModel m, TrainAndValidate(train, validate, spec));
//   std::string html = ModelCardHtml(m.card);
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ark/status.h"
#include "stats/gbt.h"
#include "stats/logistic.h"

namespace ark::stats {

// Rows of one index date: features (columns named as `features`), the 0/1 outcome, and for each
// subgroup variable a label per row.
struct FeatureTable {
  std::string index_date;  // YYYY-MM-DD
  std::vector<std::string> features;
  Design x;
  std::vector<int> y;
  std::map<std::string, std::vector<std::string>> groups;
  uint64_t dropped = 0;  // rows left out for a missing feature or outcome
};

struct ModelSpec {
  std::string name;
  std::string outcome;
  int horizon_days = 365;
  std::string type = "logistic";  // or "gbt" (gradient-boosted trees, `gbt` below)
  double lambda = 1;          // logistic: L2 penalty on standardised features
  GbtParams gbt;
  double top_percent = 5;     // the threshold a service would use
  std::string purpose;        // planning or direct_care
  std::string intended_use;
  std::string definition;     // file name and SHA-256, for the card
  std::string definition_sha256;
  // Subgroups (and error rates) with fewer than this many cases or non-cases are suppressed.
  int min_cell = 10;
  // "" or "recalibrate-by-deprivation": group-wise logistic recalibration (stats/remedy.h) on
  // the training rows by `remedy_group`, which must be one of the tables' groups. The card then
  // gives the false-negative-rate gap and calibration before and after ("remedy"), and the
  // performance is the remedied model's.
  std::string remedy;
  std::string remedy_group = "deprivation_quintile";
};

struct TrainedModel {
  nlohmann::ordered_json model;  // model.json: coefficients and standardisation, or for gbt the features
  std::string booster_json;      // gbt: xgboost's JSON model (booster.json beside model.json)
  nlohmann::ordered_json card;   // the model card (model_card.json)
  double validation_auroc = 0;
  double seconds_fit = 0;
};

// Standardises features on the training rows (constant columns are kept with sd 1), fits the
// L2 logistic model, and measures it on the validation rows. For type "gbt" it fits boosted trees
// on the raw features and measures them, and the card compares them with the logistic model
// fitted on the same rows ("comparison"). Errors: InvalidArgument when the
// tables' features differ, a table has no rows, or the remedy is unknown or its group variable
// is not among the tables' groups; the fit's and metrics' errors.
Result<TrainedModel> TrainAndValidate(const FeatureTable& train, const FeatureTable& validate, const ModelSpec& spec);

// A small self-contained HTML page for a model card.
std::string ModelCardHtml(const nlohmann::ordered_json& card);

}  // namespace ark::stats
