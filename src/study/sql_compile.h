// The SQL compiler: one study definition -> one SQL script over the Ark relational schema
// (docs/relational-schema.md) that SQLite, PostgreSQL (and DuckDB) run unchanged. It keeps to
// portable constructs (docs/study-definitions.md lists them): CTEs, correlated scalar subqueries
// with ORDER BY .. LIMIT 1, EXISTS, CASE, COALESCE, NULLIF, substr, CAST(.. AS BIGINT / DOUBLE
// PRECISION), ROW_NUMBER() OVER, CREATE TEMP TABLE .. AS, and integer arithmetic written so that
// no engine's division or date functions matter (times are integer seconds, days integer days).
//
// The engines compute raw values and counts only; formatting and disclosure happen in C++ on the
// results (engine.h, output.h), exactly as for the native engine.
#pragma once

#include <string>
#include <vector>

#include "sql/connection.h"
#include "study/engine.h"
#include "study/feeds.h"

namespace ark::study {

struct SqlScript {
  // Run in order with Exec: (re)create the temporary tables study_rows (rows at the dataset
  // index) and, for a fixed index with measures, study_mrows (persons x measure interval starts).
  std::vector<std::string> setup;
  // SELECT person_id, iseq, iday, o<i> for every variable i (raw values; bool as 1/0).
  std::string dataset;
  // SELECT count(*): rows in the population excluded by opt-outs.
  std::string excluded;
  // Per measure: SELECT iday, <group values...>, numerator sum, denominator sum.
  std::vector<std::string> measures;
  std::string Text() const;  // the whole script, statements separated by ";\n"
};

// `feeds`: the script reads only events whose source is one of them (nullopt: every event).
Result<SqlScript> CompileSql(const Definition& def, Purpose purpose, const Feeds& feeds = std::nullopt);

}  // namespace ark::study
