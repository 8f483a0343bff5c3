// What every study engine (native, SQLite, PostgreSQL) returns: the patient-level dataset rows
// already formatted by the one shared formatter, and raw (undisclosed) measure counts. The
// disclosure step and the files are engine-independent (output.h), so identical raw results
// give identical files.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ark/status.h"
#include "study/definition.h"

namespace ark::study {

enum class Purpose { kResearch, kPlanning, kDirectCare };
Result<Purpose> ParsePurpose(const std::string& s);
const char* PurposeName(Purpose p);
// Opt-outs apply to every purpose except direct care (fail closed: AllowedForSecondaryUse).
inline bool AppliesOptOuts(Purpose p) { return p != Purpose::kDirectCare; }

struct DatasetRow {
  uint32_t person = 0;
  int64_t seq = 0;   // order of the index event in the person's timeline (0 for a fixed index)
  std::string line;  // the CSV line without its '\n'
};

// Raw counts of one measure: (interval number, formatted group values) -> (numerator, denominator).
using MeasureCells = std::map<std::pair<int, std::vector<std::string>>, std::pair<int64_t, int64_t>>;

struct EngineResult {
  std::vector<DatasetRow> rows;       // SQL engines: sorted by (person, seq)
  // The native engine: the dataset's lines already in (person, seq) order, each ending in '\n',
  // in consecutive parts (then `rows` is empty).
  std::vector<std::string> text_parts;
  uint64_t text_rows = 0;
  // The native engine without the rows' text (NativeOptions::row_text false): each dataset row's
  // person, in (person, seq) order (then `rows` and `text_parts` are empty).
  std::vector<uint32_t> row_persons;
  uint64_t num_rows() const { return rows.size() + text_rows + row_persons.size(); }
  uint64_t optout_excluded = 0;       // index rows in the population but opted out (0 for direct care)
  std::vector<MeasureCells> measures; // one per Definition::measures
  std::map<std::string, double> seconds;  // phase -> wall seconds
};

// The shared formatter. null -> "". bool "T"/"F"; int as a whole number; float with 6
// significant digits (C's %.6g); date YYYY-MM-DD from days since 1970-01-01; str as is.
void AppendValue(std::string* out, Type t, double num);
std::string FormatValue(Type t, double num);
// Appends `s` as a CSV field (quoted when it holds a comma, quote or line break).
void AppendCsvField(std::string* out, std::string_view s);
// Parses an engine's text for a value of type t (not str) back to its number; false if malformed.
bool ParseValue(Type t, const std::string& text, double* num);

// The dataset CSV header: patient_id[,index_date],<variables...>.
std::string DatasetHeader(const Definition& def);
inline bool HasIndexDateColumn(const Definition& def) { return def.index.kind != IndexSpec::Kind::kFixed; }
// Sorts rows by (person, seq).
void SortRows(std::vector<DatasetRow>* rows);

// The points at which a fixed-index definition's measures are evaluated: (index day = interval
// start, interval end) of every interval of every measure, sorted and unique. When nothing in the
// definition refers to the interval's end, `end` is the start (one point per start day).
std::vector<Interval> MeasurePoints(const Definition& def);
// The point of interval `iv` (as in MeasurePoints).
Interval MeasurePoint(const Definition& def, const Interval& iv);

// A run stopped because its caller cancelled it (RunOptions::cancelled): a FailedPrecondition
// whose message starts "cancelled" and names the stage. Nothing was written.
Status Cancelled(const std::string& stage);
bool IsCancelled(const Status& s);

}  // namespace ark::study
