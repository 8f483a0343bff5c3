// Internal: the engine-specific factories behind Connection::Open.
#pragma once

#include <memory>
#include <string>

#include "sql/connection.h"

namespace ark::sql {

Result<std::unique_ptr<Connection>> OpenSqlite(const std::string& path);
Result<std::unique_ptr<Connection>> OpenPostgres(const std::string& conninfo);

}  // namespace ark::sql
