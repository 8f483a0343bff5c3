// Test helpers for SQL engines: one private PostgreSQL cluster per test binary, started on first
// use and stopped (and its directory removed) when the binary exits. Header-only.
//
// Example (in a test):
//   ARK_ASSIGN_OR_ASSERT...: auto url = ark::sql::testing::SharedPgUrl(); ASSERT_TRUE(url.ok());
//   auto conn = ark::sql::Connection::Open(*url);
#pragma once

#include <unistd.h>

#include <memory>
#include <mutex>
#include <string>

#include "core/fs.h"
#include "sql/export.h"

namespace ark::sql::testing {

struct SharedPg {
  std::unique_ptr<PgCluster> cluster;
  std::string dir;
  Status status;
  ~SharedPg() {
    if (cluster) (void)cluster->Stop();
    cluster.reset();
    if (!dir.empty()) (void)RemoveAll(dir);
  }
};

// The URL of this process's private cluster (postgresql://postgres@127.0.0.1:PORT/postgres).
inline Result<std::string> SharedPgUrl() {
  static SharedPg pg;
  static std::once_flag once;
  std::call_once(once, [] {
    // Under /tmp (searchable by the postgres user), not under a private temp dir.
    pg.dir = "/tmp/ark_test_pg_" + std::to_string(::getpid());
    (void)RemoveAll(pg.dir);
    auto c = PgCluster::Start(pg.dir);
    if (c.ok()) pg.cluster = std::move(*c);
    else pg.status = c.status();
  });
  if (!pg.cluster) return pg.status;
  return pg.cluster->url();
}

}  // namespace ark::sql::testing
