#include "catalog/catalog.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>

#include "core/fs.h"
#include "core/private_files.h"

namespace ark {
namespace {

constexpr const char* kSchema = R"(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE batches (
  id INTEGER PRIMARY KEY, feed TEXT NOT NULL, dir TEXT NOT NULL, records INTEGER NOT NULL,
  events INTEGER NOT NULL, optouts INTEGER NOT NULL, ingested_at TEXT NOT NULL, manifest TEXT NOT NULL);
-- Stable person keys: one per NHS-number pseudonym ...
CREATE TABLE person_keys (pseudonym BLOB PRIMARY KEY, person INTEGER NOT NULL UNIQUE) WITHOUT ROWID;
-- ... and one per record that could not be linked (until linkage resolves it).
CREATE TABLE record_keys (batch INTEGER NOT NULL, record INTEGER NOT NULL, person INTEGER NOT NULL UNIQUE,
  PRIMARY KEY (batch, record)) WITHOUT ROWID;
INSERT INTO meta VALUES ('format', 'ark-catalog v1');
INSERT INTO meta VALUES ('next_person', '0');
)";

Status SqlError(sqlite3* db, const std::string& what) {
  return Status::IOError("catalog: " + what + ": " + sqlite3_errmsg(db));
}

// The catalog and SQLite's companion files (which SQLite creates with the database's mode):
// owner-only, also for an Ark made before this rule.
Status MakePrivate(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    const std::string f = path + suffix;
    struct stat st;
    if (::stat(f.c_str(), &st) != 0 || (st.st_mode & 07777) == kPrivateFileMode) continue;
    if (::chmod(f.c_str(), kPrivateFileMode) != 0 && errno != ENOENT && errno != EPERM) {
      return Status::IOError("chmod " + f + ": " + std::strerror(errno));
    }
  }
  return Status::OK();
}

Result<sqlite3*> OpenDb(const std::string& path, int flags) {
  if (flags & SQLITE_OPEN_CREATE) {
    // Create the file ourselves, 0600, before SQLite does (it would use 0644 minus the umask).
    const int fd = OpenPrivate(path, O_RDWR | O_CREAT);
    if (fd < 0) return Status::IOError("create " + path + ": " + std::strerror(errno));
    ::close(fd);
  }
  ARK_RETURN_IF_ERROR(MakePrivate(path));
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    Status s = SqlError(db, "open " + path);
    sqlite3_close(db);
    return s;
  }
  sqlite3_busy_timeout(db, 10000);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", nullptr, nullptr, nullptr);
  if (Status s = MakePrivate(path); !s.ok()) {
    sqlite3_close(db);
    return s;
  }
  return db;
}

}  // namespace

std::string UtcNow() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqlError(db_, "step");
}

Status Stmt::Run() {
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) break;
  }
  Reset();
  return Status::OK();
}

Catalog::~Catalog() { sqlite3_close(db_); }

Result<std::unique_ptr<Catalog>> Catalog::Create(const std::string& ark_dir) {
  const std::string path = ark_dir + "/catalog.db";
  if (PathExists(path)) return Status::FailedPrecondition(ark_dir + " is already an Ark (catalog.db exists)");
  ARK_RETURN_IF_ERROR(MakeDirs(ark_dir));
  // The Ark directory is the Ark's own: owner-only even when it existed before `ark init`.
  if (::chmod(ark_dir.c_str(), kPrivateDirMode) != 0) return Status::IOError("chmod " + ark_dir + ": " + std::strerror(errno));
  ARK_ASSIGN_OR_RETURN(sqlite3* db, OpenDb(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  std::unique_ptr<Catalog> c(new Catalog(db, ark_dir));
  ARK_RETURN_IF_ERROR(c->Exec(std::string("BEGIN;") + kSchema + "COMMIT;"));
  ARK_RETURN_IF_ERROR(c->SetMeta("created", UtcNow()));
  return c;
}

Result<std::unique_ptr<Catalog>> Catalog::Open(const std::string& ark_dir) {
  const std::string path = ark_dir + "/catalog.db";
  if (!PathExists(path)) return Status::NotFound(ark_dir + " is not an Ark (no catalog.db): run 'ark init " + ark_dir + "' first");
  ARK_ASSIGN_OR_RETURN(sqlite3* db, OpenDb(path, SQLITE_OPEN_READWRITE));
  std::unique_ptr<Catalog> c(new Catalog(db, ark_dir));
  ARK_ASSIGN_OR_RETURN(auto fmt, c->GetMeta("format"));
  if (!fmt || *fmt != "ark-catalog v1") return Status::Corruption(path + ": unknown catalog format");
  return c;
}

Status Catalog::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::IOError("catalog: " + m);
  }
  return Status::OK();
}

Result<std::unique_ptr<Stmt>> Catalog::Prepare(const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) return SqlError(db_, "prepare");
  return std::make_unique<Stmt>(db_, s);
}

Result<std::optional<std::string>> Catalog::GetMeta(const std::string& key) {
  ARK_ASSIGN_OR_RETURN(auto st, Prepare("SELECT value FROM meta WHERE key = ?"));
  st->Bind(1, key);
  ARK_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(st->Text(0));
}

Status Catalog::SetMeta(const std::string& key, const std::string& value) {
  ARK_ASSIGN_OR_RETURN(auto st, Prepare("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
  st->Bind(1, key).Bind(2, value);
  return st->Run();
}

Result<uint32_t> Catalog::NextPerson() {
  ARK_ASSIGN_OR_RETURN(auto v, GetMeta("next_person"));
  if (!v) return uint32_t{0};
  uint64_t n = 0;
  const char* end = v->data() + v->size();
  auto [p, ec] = std::from_chars(v->data(), end, n);
  if (v->empty() || ec != std::errc() || p != end || n >= UINT32_MAX) {
    return Status::Corruption(dir_ + "/catalog.db: meta next_person: '" + v->substr(0, 40) +
                              "' is not a person count (0 to 4294967294)");
  }
  return static_cast<uint32_t>(n);
}

Status Catalog::RaiseNextPerson(uint64_t at_least) {
  if (at_least >= UINT32_MAX) return Status::InvalidArgument("person key out of range");
  ARK_ASSIGN_OR_RETURN(uint32_t have, NextPerson());
  if (at_least <= have) return Status::OK();
  return SetMeta("next_person", std::to_string(at_least));
}

Result<std::vector<BatchInfo>> Catalog::Batches() {
  ARK_ASSIGN_OR_RETURN(auto st, Prepare("SELECT id, feed, dir, records, events, optouts, ingested_at FROM batches ORDER BY id"));
  std::vector<BatchInfo> out;
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    out.push_back({st->Int(0), st->Text(1), st->Text(2), st->Int(3), st->Int(4), st->Int(5), st->Text(6)});
  }
  return out;
}

}  // namespace ark
