// What the API reads on almost every request, kept between requests so that a read costs a
// query, not an open (docs/api.md, "Reads under load"; bench/api/wrk.sh measures it).
//
// Thread safety: ThreadCatalog is per thread by construction; CheckpointCache::Get may be called
// from any thread.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "ark/status.h"
#include "catalog/catalog.h"
#include "governance/checkpoint.h"

namespace ark::server {

// This thread's connection to ARK/catalog.db, opened on first use and kept; opened again when
// the file was replaced (another inode) since. For handlers that only read: a read handler
// never leaves a transaction open, so the kept connection holds no lock between requests, and
// under WAL each statement sees the latest committed state. A handler that writes opens its
// own catalog (Catalog::Open), as the CLI does.
Result<Catalog*> ThreadCatalog(const std::string& ark_dir);

// The answer to a read that depends on the catalog alone (and on `key`, which names the route and
// anything else the answer depends on, such as who asks), made by `compute` on this thread's
// kept connection and kept by this thread until the catalog changes: a commit by any other
// connection (the CLI, a write handler; SQLite's PRAGMA data_version, read on the kept
// connection before `compute` runs) or a replaced catalog.db. So a decision committed before a
// read starts is in that read's answer. An error is returned, never kept. At most 256 answers
// are kept per thread (then all are dropped). `compute` must not write through the connection.
Result<std::string> CatalogAnswer(const std::string& ark_dir, const std::string& key,
                                  const std::function<Result<std::string>(Catalog&)>& compute);

// The latest signed checkpoint (ARK/ledger/checkpoint), checked against the ledger's verifier
// key (ledger.pub) before it is served.
struct SignedCheckpoint {
  std::string note, vkey;
  gov::Checkpoint cp;
};

// Reads and verifies the checkpoint again only when `checkpoint` or `ledger.pub` changed (their
// inode, size or modification time), so a poll costs two stat calls, not a signature check.
class CheckpointCache {
 public:
  // NotFound when the Ark has no ledger yet; the error of reading or verifying otherwise.
  Result<std::shared_ptr<const SignedCheckpoint>> Get(const std::string& ark_dir);

 private:
  struct Key {
    ino_t ino[2] = {0, 0};
    off_t size[2] = {0, 0};
    long long mtime_ns[2] = {0, 0};
    bool operator==(const Key&) const = default;
  };
  std::mutex mu_;
  Key key_;
  std::shared_ptr<const SignedCheckpoint> value_;
};

}  // namespace ark::server
