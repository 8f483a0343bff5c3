// The report section "Where need is highest: practices and small areas": a funnel plot of GP
// practices' indirectly standardised emergency admission ratios (src/stats/funnel.h); the same
// ratios (observed / expected from the region's age-band x sex rates) by small area (LSOA),
// shrunk by empirical Bayes (src/stats/eb.h, with the expected count as the population at risk),
// drawn raw against shrunk and as a grid of tiles coloured by shrunk ratio; and a ranking of
// areas and of practices by excess admissions, E x (shrunk ratio - 1): the emergency admissions
// a year above what the region's age and sex rates predict, where extra preventive capacity
// (e.g. community matron caseload) has the most admissions to work against
// (docs/risk-models.md, "Small-area need").
//
// Disclosure (OpenSAFELY's rules, disclosure/opensafely.h): every count shown is redacted at 7 or
// less and rounded to 5. Ratios, raw and shrunk, and excess admissions are computed from the
// rounded observed counts only; a practice or area whose admissions or registered people are 7
// or fewer is neither plotted, shrunk nor ranked (the text says how many). Expected counts come
// from the region's rates and are shown to 0.1.
//
// Example:
//   NeedCounts c;  // filled while scanning the store: c.practice[p][Stratum(band, sex)] ...
//   body += NeedSectionHtml(c, dicts, 2025, &json);
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "store/options.h"

namespace ark {

// Age band (0..4, as the report's kAgeBands) × sex (M, F, unknown).
constexpr int kNeedStrata = 15;
inline int NeedStratum(int age_band, char sex) { return age_band * 3 + (sex == 'M' ? 0 : sex == 'F' ? 1 : 2); }

struct NeedCell {
  int64_t people = 0, admissions = 0;
};

struct NeedCounts {
  std::map<uint32_t, std::array<NeedCell, kNeedStrata>> practice;  // practice id -> strata
  std::map<uint32_t, std::array<NeedCell, kNeedStrata>> area;      // small area (LSOA) id -> strata
  std::map<uint32_t, int> area_decile;  // small area -> its IMD decile (1 most deprived; absent: unknown)
};

// The section's HTML (<section> .. </section>); its published figures go to (*out)["need"].
std::string NeedSectionHtml(const NeedCounts& c, const Dictionaries& dicts, int year, nlohmann::ordered_json* out);

}  // namespace ark
