// Code patterns of study codelists: exact codes, prefixes (`J44*`) and ranges (`E10-E14`) of
// hierarchical systems, and codes stored without a system (`system: none`). See
// docs/study-definitions.md, "Codelists".
//
// A range LO-HI (both bounds the same length n, characters from . 0-9 A-Z a-z) matches the codes
// whose first n characters lie between LO and HI, comparing character by character in that
// order (. < digits < capitals < lower case). It is expanded here into a set of prefixes, so the
// native engine (a table over the code dictionary) and the SQL engines (substr(..) IN (..))
// match exactly the same codes, without LIKE or string ordering (collations differ).
#pragma once

#include <string>
#include <string_view>

#include "ark/status.h"
#include "study/definition.h"

namespace ark::study {

// Adds `code` (as written in a codelist) with `system` ("" = none given; "none" = stored
// without a system) to `cl`. Errors are the reason only (the caller adds the position).
Status AddCode(const std::string& system, const std::string& code, Codelist* cl);

// Whether systems of this name use ranges (ICD-10/9 variants, OPCS-4, Read, CTV3, DEATH causes):
// elsewhere '-' is part of a code (LOINC 2160-0).
bool IsHierarchicalSystem(std::string_view system);

// Whether `code` (SYSTEM/CODE as stored) is in `cl`.
bool CodelistMatches(const Codelist& cl, std::string_view code);

// A portable SQL condition: `column` holds a code of `cl`.
std::string CodelistSql(const Codelist& cl, const std::string& column);

}  // namespace ark::study
