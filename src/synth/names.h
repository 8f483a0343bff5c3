// Synthetic person names: English given names by sex and birth cohort, family names with a
// frequency skew, two broad naming traditions (British/European and South Asian), nicknames
// and typing errors as custodians record them.
//
// Every name in the lists is a name and not a common English word (no Rose, Mark, Green, Hall,
// Ward, ...), so a privacy test can search other columns for these strings without false hits.
// All functions are pure or use only the Rng passed in; the tables are static and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "synth/rng.h"

namespace ark::synth {

// Index into the name tables; stable for a given build of Ark.
using NameId = uint16_t;
constexpr NameId kNoName = 0xFFFF;

// Names drawn at birth for one person.
struct PersonName {
  uint8_t tradition = 0;      // 0 British/European, 1 South Asian
  NameId given = kNoName;     // GivenName(given)
  NameId middle = kNoName;    // kNoName if none
  NameId family = kNoName;    // FamilyName(family)
};

// Draws a name for a person of `sex` ('M'/'F') born in `birth_year`.
PersonName DrawName(char sex, int birth_year, Rng& rng);
// Draws a different family name in the same tradition (a change on marriage).
NameId DrawFamilyName(uint8_t tradition, char sex, Rng& rng);

std::string_view GivenName(NameId id);
std::string_view FamilyName(NameId id);

// A common informal form of a given name (Elizabeth -> Liz, Mohammed -> Mohd), or "" if the
// name has none. Picks among several at random.
std::string_view Nickname(std::string_view given, Rng& rng);

// One keyboard slip: a neighbouring key, a dropped, doubled or transposed letter. The first
// letter is kept most of the time. Names shorter than 3 letters come back unchanged.
std::string Typo(std::string_view name, Rng& rng);

// All given and family names, for tests and docs.
std::vector<std::string_view> AllNames();

}  // namespace ark::synth
