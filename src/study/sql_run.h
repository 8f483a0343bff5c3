// Running a study definition on a SQL engine that holds the Ark relational schema.
#pragma once

#include "sql/connection.h"
#include "study/engine.h"
#include "study/feeds.h"

namespace ark::study {

// Compiles `def` (sql_compile.h), runs it on `conn` (which must hold the Ark schema: see
// sql::EnsureExported) and converts the results. Errors: the engine's, or Internal when a result
// cannot be read back.
Result<EngineResult> RunSql(const Definition& def, sql::Connection& conn, Purpose purpose, const Feeds& feeds = std::nullopt);

}  // namespace ark::study
