// SQL engines behind one small interface: SQLite (a file) and PostgreSQL (a server, libpq).
// The study definitions' SQL compiler (src/study) runs its SQL through this; `ark export` writes
// an Ark into either in the Ark relational schema or OMOP CDM 5.4 (docs/relational-schema.md).
//
// URLs: "sqlite:PATH" (created if missing) or "postgresql://user@host:port/db" (libpq URI).
//
// Thread safety: a Connection is used by one thread at a time.
//
// Example:
//   ARK_ASSIGN_OR_RETURN(auto conn, sql::Connection::Open("sqlite:/tmp/a.sqlite"));
//   ARK_RETURN_IF_ERROR(conn->Exec("CREATE TABLE t(x INTEGER)"));
//   ARK_ASSIGN_OR_RETURN(auto rs, conn->Query("SELECT count(*) FROM t"));
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ark/status.h"

namespace ark::sql {

enum class Dialect { kSqlite, kPostgres };

// The rows of a query as text, NULL as nullopt. Numbers are as the engine prints them (SQLite
// REAL values as the shortest text that reads back exactly, like PostgreSQL's float8): callers
// that compare engines re-format by the column's known type.
struct ResultSet {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
};

class Connection {
 public:
  virtual ~Connection() = default;

  // Opens a connection. Errors: InvalidArgument (unknown URL scheme), IOError (cannot connect or
  // open the file) with the engine's message.
  static Result<std::unique_ptr<Connection>> Open(const std::string& url);

  virtual Dialect dialect() const = 0;
  // Runs one or more statements separated by ';'. Errors name the engine and its message.
  virtual Status Exec(const std::string& sql) = 0;
  virtual Result<ResultSet> Query(const std::string& sql) = 0;

  // Bulk load into an existing table: `next` fills one row (values as text, nullopt = NULL)
  // and returns false when there are no more rows. SQLite: one transaction with a prepared
  // INSERT; PostgreSQL: COPY FROM STDIN. All or nothing.
  using RowFn = std::function<bool(std::vector<std::optional<std::string>>& row)>;
  virtual Status Load(const std::string& table, const std::vector<std::string>& columns,
                      const RowFn& next) = 0;

  // The same with typed values (no text round trip, no per-row allocation): the fast path for
  // big loads such as `ark export`. Text values must stay valid until `next` is called again.
  // Inside a transaction the caller opened (Exec("BEGIN")), both loads join it (SQLite through a
  // SAVEPOINT); otherwise each load is its own transaction.
  struct Value {
    enum Kind : uint8_t { kNull, kInt, kReal, kText } kind = kNull;
    int64_t i = 0;
    double d = 0;
    std::string_view s;
    static Value Null() { return {}; }
    static Value Int(int64_t v) { Value x; x.kind = kInt; x.i = v; return x; }
    static Value Real(double v) { Value x; x.kind = kReal; x.d = v; return x; }
    static Value Text(std::string_view v) { Value x; x.kind = kText; x.s = v; return x; }
  };
  using ValueRowFn = std::function<bool(std::vector<Value>& row)>;
  virtual Status LoadValues(const std::string& table, const std::vector<std::string>& columns,
                            const ValueRowFn& next) = 0;
};

// The dialect of a URL without connecting: kSqlite for "sqlite:", kPostgres for "postgresql://"
// or "postgres://"; InvalidArgument otherwise.
Result<Dialect> DialectOfUrl(const std::string& url);

// Standard SQL quoting, the same in every dialect: "identifier" and 'literal', with the quote
// character doubled inside.
std::string QuoteIdentifier(std::string_view s);
std::string QuoteLiteral(std::string_view s);

}  // namespace ark::sql
