// Writing an Ark's timelines into a SQL engine: the Ark relational schema (what the study
// definitions' SQL compiler reads) and OMOP CDM 5.4 (for OHDSI tools). Schemas and the mapping
// are in docs/relational-schema.md.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "ark/status.h"
#include "sql/connection.h"

namespace ark::sql {

enum class Schema { kArk, kOmop };

// Writes the Ark at `ark_dir` (store version + live delta) into `conn` in `schema`, replacing
// the tables of that schema, then creates the indexes and runs ANALYZE. All or nothing (one
// transaction). Errors: NotFound (no Ark), IOError from the engine.
// Schema::kOmop leaves out every person not AllowedForSecondaryUse (src/core/event.h): OHDSI
// tools have no opt-out column to filter on, so the export fails closed.
Status ExportArk(const std::string& ark_dir, Connection& conn, Schema schema);

// The OMOP export with the opt-out filter chosen: `secondary_use_only` false writes every person
// (for direct care only; `ark export --schema omop --purpose direct-care`).
Status ExportOmop(const std::string& ark_dir, Connection& conn, bool secondary_use_only);

// Exports in the Ark schema only if `conn` does not already hold the Ark's current state (the
// store version and event count recorded in ark_meta differ). Cheap when up to date.
Status EnsureExported(const std::string& ark_dir, Connection& conn);

// A private PostgreSQL 15 cluster for tests, benchmarks and `ark run --engine postgres` when no
// server is named: initdb in `data_dir` (through `runuser -u postgres --` when running as root;
// the directory is made owned by postgres), listening only on 127.0.0.1 on a free port, trust
// auth for local connections. Stop() (or the destructor) shuts it down (pg_ctl stop -m fast).
// If the owning process dies first (killed, crashed), a watchdog process stops the server.
class PgCluster {
 public:
  static Result<std::unique_ptr<PgCluster>> Start(const std::string& data_dir);
  ~PgCluster();
  Status Stop();
  // "postgresql://postgres@127.0.0.1:PORT/postgres"
  const std::string& url() const { return url_; }
  int port() const { return port_; }

 private:
  PgCluster() = default;
  void StartWatchdog(bool as_postgres);
  void StopWatchdog();

  std::string data_dir_, url_;
  int port_ = 0;
  bool running_ = false;
  // A child process that stops the server if this process dies without Stop() (a crashed test
  // or benchmark), so no server outlives its owner; see pg_cluster.cc.
  pid_t watchdog_ = -1;
  int watchdog_pipe_ = -1;
};

}  // namespace ark::sql
