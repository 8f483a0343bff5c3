// Feed specs: how one custodian's extract maps onto records (people) and events.
// The format is documented in docs/feed-specs.md; built-in specs live in specs/*.yaml and are
// compiled into the binary (BuiltinFeedSpec).
//
// One spec serves both ends: `ark pseudonymise` reads the identity columns of the raw extract
// and writes the pseudonymised layout; `ark ingest` reads that layout (PseudonymisedView).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ark/status.h"

namespace ark {

struct TimeColumn {
  std::string column;
  std::string format = "%Y-%m-%d";
  bool optional = false;  // empty -> no value (for `time`: the row yields no event)
};

struct IdentitySpec {
  std::string file;                 // one row per record (a person as this custodian knows them)
  std::string id;                   // local identifier: dropped, replaced by the record number
  std::string nhs_number;           // replaced by a keyed pseudonym
  std::vector<std::string> names;   // dropped
  std::optional<TimeColumn> date_of_birth;  // reduced to year and month
  std::string sex;                  // mapped to M / F / U by sex_values
  std::map<std::string, std::string> sex_values;  // raw value -> "M" or "F"
  std::string postcode;             // dropped
  std::string lsoa;                 // kept
  std::string imd_decile;           // kept (optional)
  std::string practice;             // kept (optional)
  // The custodian states that no person has two records in one extract (a death register; a
  // deduplicated index): linkage never puts two of its records in one person.
  bool one_record_per_person = false;
};

struct CodeSpec {
  std::string column;  // code from this column ...
  std::string value;   // ... or this constant
  std::string system;  // vocabulary prefix: the stored code is "<system>/<code>"
  std::string split;   // if set, the column holds a list: one event per item; empty -> none
};

struct EventSpec {
  std::string file;
  std::string person;  // column with the local identifier (the identity spec's id values)
  TimeColumn time;
  std::optional<TimeColumn> end;
  CodeSpec code;
  std::string value;      // numeric value column (optional)
  std::string unit;       // unit column (optional) ...
  std::string unit_value; // ... or constant unit
  std::string encounter;  // encounter / spell id column (optional)
};

struct OptOutSpec {
  std::string file;
  std::string nhs_number;
  std::string kind = "national";  // national | type1
};

struct FeedSpec {
  std::string name;  // custodian / feed name
  IdentitySpec identity;
  std::vector<EventSpec> events;
  std::optional<OptOutSpec> optouts;
  std::string text;  // the YAML it was parsed from
};

// Parses a spec. Errors name `origin`, the YAML line and column, and what is wrong.
Result<FeedSpec> ParseFeedSpec(const std::string& yaml, const std::string& origin);
// The spec for one of the synthetic region's custodians (gp, acute, community, social_care,
// deaths); NotFound for other names.
Result<FeedSpec> BuiltinFeedSpec(const std::string& custodian);
std::vector<std::string> BuiltinFeedNames();

// The pseudonymised extract's layout (docs/feed-specs.md): the identity file becomes
// records.csv with the standard record columns; event files keep their names, their person
// column becomes `record`, and only the columns the spec uses are kept.
inline constexpr const char* kRecordsFile = "records.csv";
inline constexpr const char* kOptOutsFile = "optouts.csv";
FeedSpec PseudonymisedView(const FeedSpec& raw);
// Columns of records.csv, in order.
const std::vector<std::string>& RecordColumns();
// Columns an event spec needs from its file (person first).
std::vector<std::string> EventColumns(const EventSpec& e);

}  // namespace ark
