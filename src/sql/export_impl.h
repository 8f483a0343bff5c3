// Internal to src/sql: pieces shared by the Ark and OMOP exports.
#pragma once

#include <string>

#include "sql/connection.h"
#include "store/store.h"

namespace ark::sql {

// Opens the Ark's store; NotFound when `ark_dir` is not an Ark (no catalog.db).
Result<std::unique_ptr<Store>> OpenArkStore(const std::string& ark_dir);

// Runs `body` inside one transaction on `conn` (BEGIN ... COMMIT, ROLLBACK on error).
Status InTransaction(Connection& conn, const std::function<Status()>& body);

// Writes the OMOP CDM 5.4 tables (docs/relational-schema.md "OMOP CDM 5.4"), inside the
// caller's transaction; with `secondary_use_only`, persons not AllowedForSecondaryUse are left out.
Status WriteOmop(const Store& store, Connection& conn, bool secondary_use_only);

}  // namespace ark::sql
