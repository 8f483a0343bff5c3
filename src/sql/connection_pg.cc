// PostgreSQL behind sql::Connection (libpq). Bulk loads use COPY ... FROM STDIN in text format.
#include <libpq-fe.h>

#include <charconv>
#include <cmath>

#include "sql/connection_impl.h"

namespace ark::sql {
namespace {

// COPY text format: backslash escapes for the delimiter (tab), newlines and backslash.
void AppendCopyText(std::string& buf, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\': buf += "\\\\"; break;
      case '\t': buf += "\\t"; break;
      case '\n': buf += "\\n"; break;
      case '\r': buf += "\\r"; break;
      default: buf += c;
    }
  }
}

void AppendInt(std::string& buf, int64_t v) {
  char tmp[24];
  auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
  buf.append(tmp, r.ptr);
}

void AppendReal(std::string& buf, double v) {
  if (std::isnan(v)) { buf += "NaN"; return; }
  if (std::isinf(v)) { buf += v > 0 ? "Infinity" : "-Infinity"; return; }
  char tmp[32];
  auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
  buf.append(tmp, r.ptr);
}

void IgnoreNotice(void*, const char*) {}

class PgConnection final : public Connection {
 public:
  explicit PgConnection(PGconn* c) : c_(c) {}
  ~PgConnection() override { PQfinish(c_); }

  Dialect dialect() const override { return Dialect::kPostgres; }

  Status Exec(const std::string& sql) override {
    PGresult* r = PQexec(c_, sql.c_str());
    Status s = Check(r);
    PQclear(r);
    return s;
  }

  Result<ResultSet> Query(const std::string& sql) override {
    PGresult* r = PQexec(c_, sql.c_str());
    Status s = Check(r);
    if (!s.ok()) {
      PQclear(r);
      return s;
    }
    ResultSet rs;
    const int nf = PQnfields(r), nt = PQntuples(r);
    for (int f = 0; f < nf; ++f) rs.columns.emplace_back(PQfname(r, f));
    rs.rows.resize(nt);
    for (int t = 0; t < nt; ++t) {
      auto& row = rs.rows[t];
      row.resize(nf);
      for (int f = 0; f < nf; ++f) {
        if (!PQgetisnull(r, t, f)) row[f].emplace(PQgetvalue(r, t, f), PQgetlength(r, t, f));
      }
    }
    PQclear(r);
    return rs;
  }

  Status Load(const std::string& table, const std::vector<std::string>& columns, const RowFn& next) override {
    std::vector<std::optional<std::string>> row(columns.size());
    return CopyImpl(table, columns, [&](std::string& buf) -> Result<bool> {
      for (auto& v : row) v.reset();
      if (!next(row)) return false;
      if (row.size() != columns.size()) return Status::InvalidArgument("postgresql: load into " + table + ": row has wrong number of values");
      for (size_t c = 0; c < row.size(); ++c) {
        if (c) buf += '\t';
        if (row[c]) AppendCopyText(buf, *row[c]);
        else buf += "\\N";
      }
      buf += '\n';
      return true;
    });
  }

  Status LoadValues(const std::string& table, const std::vector<std::string>& columns, const ValueRowFn& next) override {
    std::vector<Value> row(columns.size());
    return CopyImpl(table, columns, [&](std::string& buf) -> Result<bool> {
      if (!next(row)) return false;
      if (row.size() != columns.size()) return Status::InvalidArgument("postgresql: load into " + table + ": row has wrong number of values");
      for (size_t c = 0; c < row.size(); ++c) {
        if (c) buf += '\t';
        const Value& v = row[c];
        switch (v.kind) {
          case Value::kNull: buf += "\\N"; break;
          case Value::kInt: AppendInt(buf, v.i); break;
          case Value::kReal: AppendReal(buf, v.d); break;
          case Value::kText: AppendCopyText(buf, v.s); break;
        }
      }
      buf += '\n';
      return true;
    });
  }

 private:
  Status Err(const std::string& m) const {
    std::string msg = m;
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return Status::IOError("postgresql: " + msg);
  }

  Status Check(PGresult* r) const {
    if (!r) return Err(PQerrorMessage(c_));
    const ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) return Status::OK();
    return Err(PQresultErrorMessage(r));
  }

  template <typename RowToText>
  Status CopyImpl(const std::string& table, const std::vector<std::string>& columns, RowToText row_to_text) {
    std::string sql = "COPY " + QuoteIdentifier(table) + " (";
    for (size_t c = 0; c < columns.size(); ++c) sql += (c ? ", " : "") + QuoteIdentifier(columns[c]);
    sql += ") FROM STDIN";
    PGresult* r = PQexec(c_, sql.c_str());
    if (!r || PQresultStatus(r) != PGRES_COPY_IN) {
      Status s = r ? Err(PQresultErrorMessage(r)) : Err(PQerrorMessage(c_));
      PQclear(r);
      return s.WithContext("load into " + table);
    }
    PQclear(r);
    std::string buf;
    buf.reserve(1 << 20);
    Status s;
    for (;;) {
      Result<bool> more = row_to_text(buf);
      if (!more.ok()) { s = more.status(); break; }
      if (!*more || buf.size() >= (1 << 20)) {
        if (!buf.empty() && PQputCopyData(c_, buf.data(), static_cast<int>(buf.size())) != 1) {
          s = Err(PQerrorMessage(c_));
          break;
        }
        buf.clear();
      }
      if (!*more) break;
    }
    // Ending with an error message aborts the COPY: nothing of it is kept.
    if (PQputCopyEnd(c_, s.ok() ? nullptr : s.message().c_str()) != 1 && s.ok()) s = Err(PQerrorMessage(c_));
    while ((r = PQgetResult(c_)) != nullptr) {
      if (s.ok() && PQresultStatus(r) != PGRES_COMMAND_OK) s = Err(PQresultErrorMessage(r)).WithContext("load into " + table);
      PQclear(r);
    }
    return s;
  }

  PGconn* c_;
};

}  // namespace

Result<std::unique_ptr<Connection>> OpenPostgres(const std::string& conninfo) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (!c) return Status::IOError("postgresql: out of memory");
  if (PQstatus(c) != CONNECTION_OK) {
    std::string m = PQerrorMessage(c);
    PQfinish(c);
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    return Status::IOError("postgresql: cannot connect: " + m);
  }
  PQsetNoticeProcessor(c, IgnoreNotice, nullptr);
  return std::unique_ptr<Connection>(new PgConnection(c));
}

}  // namespace ark::sql
