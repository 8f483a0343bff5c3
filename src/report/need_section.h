// The report section "Where need is highest: practices and small areas": a funnel plot of GP
// practices' indirectly standardised emergency admission ratios (src/stats/funnel.h) and
// empirical-Bayes shrunk emergency admission rates by small area (src/stats/eb.h).
//
// Disclosure (OpenSAFELY's rules, disclosure/opensafely.h): every count shown is redacted at 7 or
// less and rounded to 5. A practice's ratio is computed from its rounded observed count, and a
// practice whose count is redacted is neither plotted nor fitted (the text says how many). Raw
// small-area rates, raw and shrunk, are computed from rounded counts only; an area where either
// count is 7 or fewer is left out.
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
  std::map<uint32_t, NeedCell> area;                                // small area (LSOA) id
};

// The section's HTML (<section> .. </section>); its published figures go to (*out)["need"].
std::string NeedSectionHtml(const NeedCounts& c, const Dictionaries& dicts, int year, nlohmann::ordered_json* out);

}  // namespace ark
