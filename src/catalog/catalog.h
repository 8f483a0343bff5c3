// The catalog: an Ark's governance and bookkeeping state in one SQLite file (ARK/catalog.db).
// It holds the key fingerprint, the ingested batches, and the stable person keys. Timeline data
// lives in the store (src/store), staged extracts in ARK/staging.
//
// Files: ARK/catalog.db (and SQLite's -wal/-shm/-journal) are 0600, the Ark directory 0700, whatever
// the umask; Open tightens an older Ark's catalog files.
//
// Thread safety: one Catalog per thread (SQLite connection semantics).
#pragma once

#include <sqlite3.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ark/status.h"

namespace ark {

// A prepared statement; Bind* are 1-based. Step() returns true while a row is available.
class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& Bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); return *this; }
  Stmt& Bind(int i, const std::string& v) { sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); return *this; }
  Stmt& BindBlob(int i, const void* p, int n) { sqlite3_bind_blob(s_, i, p, n, SQLITE_TRANSIENT); return *this; }
  Result<bool> Step();
  Status Run();  // Step to completion, then Reset
  void Reset() { sqlite3_reset(s_); sqlite3_clear_bindings(s_); }
  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  std::string Text(int col) const {
    const unsigned char* t = sqlite3_column_text(s_, col);
    return t ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(s_, col)) : std::string();
  }
  std::string Blob(int col) const {
    const void* b = sqlite3_column_blob(s_, col);
    return b ? std::string(static_cast<const char*>(b), sqlite3_column_bytes(s_, col)) : std::string();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_;
};

struct BatchInfo {
  int64_t id = 0;
  std::string feed;
  std::string dir;  // relative to the Ark directory
  int64_t records = 0, events = 0, optouts = 0;
  std::string ingested_at;
};

class Catalog {
 public:
  ~Catalog();
  // Creates ARK/catalog.db with the current schema; fails if it exists.
  static Result<std::unique_ptr<Catalog>> Create(const std::string& ark_dir);
  // Opens an existing Ark; NotFound with a hint to run `ark init` otherwise.
  static Result<std::unique_ptr<Catalog>> Open(const std::string& ark_dir);

  Status Exec(const std::string& sql);
  Result<std::unique_ptr<Stmt>> Prepare(const std::string& sql);
  Status Begin() { return Exec("BEGIN IMMEDIATE"); }
  Status Commit() { return Exec("COMMIT"); }
  void Rollback() { (void)Exec("ROLLBACK"); }

  Result<std::optional<std::string>> GetMeta(const std::string& key);
  Status SetMeta(const std::string& key, const std::string& value);

  // meta next_person: every person key below it is taken (by linkage, imports, live data or
  // appends). Corruption naming the catalog and the field when the stored value is not a count.
  Result<uint32_t> NextPerson();
  // Sets next_person to `at_least` if it is lower (keys below it were handed out elsewhere).
  Status RaiseNextPerson(uint64_t at_least);

  Result<std::vector<BatchInfo>> Batches();
  const std::string& ark_dir() const { return dir_; }

 private:
  Catalog(sqlite3* db, std::string dir) : db_(db), dir_(std::move(dir)) {}
  sqlite3* db_;
  std::string dir_;
};

// Current UTC time as "YYYY-MM-DDTHH:MM:SSZ".
std::string UtcNow();

}  // namespace ark
