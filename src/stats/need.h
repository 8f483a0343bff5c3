// What `ark model score` makes of a population's risks (docs/risk-models.md, "Scoring"):
//  - planning: aggregate need by a grouping (practice, small area, deprivation decile): people,
//    expected emergency admissions (the sum of their risks) and people at or above the threshold,
//    every count of people through the OpenSAFELY disclosure rule (src/disclosure/opensafely.h:
//    redacted at or below 7, then rounded to 5). A group's expected admissions are withheld with
//    its people count; when that leaves exactly one group withheld, the next smallest group's are
//    withheld too, so that the total (which is published) cannot be differenced back to one group.
//  - direct care: case-finding lists, one per practice, of that practice's registered people at or
//    above the threshold (pseudonymous person keys and risks, highest first).
// Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ark/status.h"

namespace ark::stats {

struct NeedRow {
  std::string group;
  int64_t people = 0, above = 0;  // exact: never written
  double expected = 0;            // exact sum of risks: never written
  std::optional<int64_t> people_published, above_published;  // nullopt: redacted
  std::optional<double> expected_published;                   // to 0.1; nullopt: withheld
};

struct NeedTable {
  std::string by;             // the grouping's name, e.g. "practice"
  std::vector<NeedRow> rows;  // in label order (numbers by value); the empty label is "unknown"
  NeedRow total;              // everyone scored; expected = sum of every risk
};

// `labels` and `risk` have one entry per person. InvalidArgument when their sizes differ or a risk
// is outside [0, 1].
Result<NeedTable> AggregateNeed(const std::string& by, const std::vector<std::string>& labels,
                                const std::vector<double>& risk, double threshold);

// by,people,expected_admissions,people_at_or_above_threshold; a last row "total"; "[REDACTED]"
// for a redacted or withheld value.
std::string NeedCsv(const NeedTable& t);

struct CaseEntry {
  uint64_t person = 0;
  double risk = 0;
};
struct CaseList {
  std::string practice;
  std::vector<CaseEntry> people;  // highest risk first (ties: lower key first)
};

// One list per practice with anyone at or above `threshold` (people with no practice, label "",
// are in no list). InvalidArgument when the sizes differ.
Result<std::vector<CaseList>> CaseFindingLists(const std::vector<uint64_t>& persons, const std::vector<std::string>& practice,
                                               const std::vector<double>& risk, double threshold);

// person_key,risk,rank
std::string CaseListCsv(const CaseList& l);

}  // namespace ark::stats
