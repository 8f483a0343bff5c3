// The report section "Targeting: who is most likely to be admitted as an emergency", for a
// director of public health: a risk model's card (`ark model train`, model_card.json) said in
// plain words: how well it ranks people (AUROC with its DeLong interval, beside the oracle's, the
// best possible on the region when its true risks are known), whether its risks are right
// (calibration intercept and slope, Brier score, a calibration chart by risk decile), and whether
// it serves every deprivation quintile alike (calibration in the large, false-positive and
// false-negative rates at the top-k% threshold, as charts); and, when the model was trained with
// a remedy (`--remedy recalibrate-by-deprivation`), the false-negative-rate gap and calibration
// before and after.
//
// Disclosure (OpenSAFELY's rules, as the need section): every count shown (people, admissions,
// people flagged, missed or wrongly flagged) is redacted at 7 or less and rounded to 5, and every
// rate is computed from the rounded counts, never from the true ones: observed rates by decile
// and quintile, and the error rates, use the card's counts through sdc::PublishCount. Statistics
// that are not counts (AUROC, calibration intercept and slope, Brier, mean predicted risk) are
// shown as the card gives them.
//
// Example:
//   TargetingInputs in{.card = card, .oracle = roc, .oracle_people = 19338, .project = "demo-targeting"};
//   ARK_ASSIGN_OR_RETURN(std::string html, TargetingSectionHtml(in, &figures));
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "ark/status.h"
#include "stats/metrics.h"

namespace ark {

struct TargetingInputs {
  nlohmann::ordered_json card;       // model_card.json
  std::optional<stats::Roc> oracle;  // AUROC of the region's true risks, when known (synthetic)
  int64_t oracle_people = 0;         // people the oracle was measured on
  std::string oracle_date;           // its reference date
  std::string project;               // the approved project the model was trained in
  // The card of the same model trained with `--remedy` (its "remedy" gives before and after),
  // when the headline model (`card`) was trained without it; absent: `card`'s own remedy, if any.
  std::optional<nlohmann::ordered_json> remedy_card;
  std::string quintile_variable = "deprivation_quintile";
};

// The section's HTML (<section> .. </section>); its published figures go to (*out)["targeting"].
// InvalidArgument when the card has no temporal validation.
Result<std::string> TargetingSectionHtml(const TargetingInputs& in, nlohmann::ordered_json* out);

}  // namespace ark
