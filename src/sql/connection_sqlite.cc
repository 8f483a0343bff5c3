// SQLite behind sql::Connection: one sqlite3 handle; bulk loads through one prepared INSERT.
#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "sql/connection_impl.h"

namespace ark::sql {
namespace {

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override { sqlite3_close_v2(db_); }

  Dialect dialect() const override { return Dialect::kSqlite; }

  Status Exec(const std::string& sql) override {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      return Status::IOError("sqlite: " + m);
    }
    return Status::OK();
  }

  Result<ResultSet> Query(const std::string& sql) override {
    ResultSet rs;
    const char* tail = sql.c_str();
    const char* end = tail + sql.size();
    // Runs every statement; the rows are those of the last statement that returns columns.
    while (tail < end) {
      sqlite3_stmt* st = nullptr;
      if (sqlite3_prepare_v2(db_, tail, static_cast<int>(end - tail), &st, &tail) != SQLITE_OK) {
        return Err();
      }
      if (!st) break;  // whitespace or comment
      const int ncol = sqlite3_column_count(st);
      if (ncol > 0) {
        rs = ResultSet();
        for (int c = 0; c < ncol; ++c) rs.columns.emplace_back(sqlite3_column_name(st, c));
      }
      int rc;
      while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        auto& row = rs.rows.emplace_back(ncol);
        for (int c = 0; c < ncol; ++c) {
          const int type = sqlite3_column_type(st, c);
          if (type == SQLITE_NULL) continue;
          if (type == SQLITE_FLOAT) {
            // Shortest text that reads back as the same double (SQLite's own has 15 digits),
            // the way PostgreSQL prints float8.
            const double d = sqlite3_column_double(st, c);
            char buf[32];
            if (std::isnan(d)) row[c].emplace("NaN");
            else if (std::isinf(d)) row[c].emplace(d > 0 ? "Infinity" : "-Infinity");
            else row[c].emplace(buf, std::to_chars(buf, buf + sizeof buf, d).ptr);
            continue;
          }
          const unsigned char* t = sqlite3_column_text(st, c);
          row[c].emplace(reinterpret_cast<const char*>(t), sqlite3_column_bytes(st, c));
        }
      }
      if (rc != SQLITE_DONE) {
        Status s = Err();
        sqlite3_finalize(st);
        return s;
      }
      sqlite3_finalize(st);
    }
    return rs;
  }

  Status Load(const std::string& table, const std::vector<std::string>& columns, const RowFn& next) override {
    std::vector<std::optional<std::string>> row(columns.size());
    return LoadImpl(table, columns, [&](Slot& slot) -> Result<bool> {
      for (auto& v : row) v.reset();
      if (!next(row)) return false;
      if (row.size() != columns.size()) return Status::InvalidArgument("sqlite: load into " + table + ": row has wrong number of values");
      for (size_t c = 0; c < row.size(); ++c) {
        if (row[c]) {
          slot.texts[c].assign(*row[c]);
          slot.values[c] = Value::Text(slot.texts[c]);
        } else {
          slot.values[c] = Value::Null();
        }
      }
      return true;
    });
  }

  Status LoadValues(const std::string& table, const std::vector<std::string>& columns, const ValueRowFn& next) override {
    std::vector<Value> row(columns.size());
    return LoadImpl(table, columns, [&](Slot& slot) -> Result<bool> {
      if (!next(row)) return false;
      if (row.size() != columns.size()) return Status::InvalidArgument("sqlite: load into " + table + ": row has wrong number of values");
      for (size_t c = 0; c < row.size(); ++c) {
        if (row[c].kind == Value::kText) {
          slot.texts[c].assign(row[c].s);  // reuses the slot's capacity: no allocation once warm
          slot.values[c] = Value::Text(slot.texts[c]);
        } else {
          slot.values[c] = row[c];
        }
      }
      return true;
    });
  }

 private:
  // One buffered row of a multi-row INSERT: values, with text copied into owned strings.
  struct Slot {
    std::vector<Value> values;
    std::vector<std::string> texts;
  };

  Status Err() const { return Status::IOError(std::string("sqlite: ") + sqlite3_errmsg(db_)); }

  static void BindRow(sqlite3_stmt* st, int base, const Slot& slot) {
    for (size_t c = 0; c < slot.values.size(); ++c) {
      const int i = base + static_cast<int>(c + 1);
      const Value& v = slot.values[c];
      switch (v.kind) {
        case Value::kNull: sqlite3_bind_null(st, i); break;
        case Value::kInt: sqlite3_bind_int64(st, i, v.i); break;
        case Value::kReal: sqlite3_bind_double(st, i, v.d); break;
        case Value::kText: sqlite3_bind_text(st, i, v.s.data(), static_cast<int>(v.s.size()), SQLITE_STATIC); break;
      }
    }
  }

  // Rows are buffered and inserted `group` at a time by one multi-row INSERT (fewer statement
  // executions); a last partial group goes in row by row. A savepoint makes the load all or
  // nothing, alone or inside the caller's transaction.
  template <typename FillFn>
  Status LoadImpl(const std::string& table, const std::vector<std::string>& columns, FillFn fill) {
    const int ncol = static_cast<int>(columns.size());
    const int group = ncol > 0 ? std::max(1, std::min(32, 999 / ncol)) : 1;
    auto insert_sql = [&](int rows) {
      std::string sql = "INSERT INTO " + QuoteIdentifier(table) + " (";
      for (int c = 0; c < ncol; ++c) sql += (c ? ", " : "") + QuoteIdentifier(columns[c]);
      sql += ") VALUES ";
      for (int r = 0; r < rows; ++r) {
        sql += r ? ", (" : "(";
        for (int c = 0; c < ncol; ++c) sql += c ? ", ?" : "?";
        sql += ")";
      }
      return sql;
    };
    std::vector<Slot> slots(group);
    for (auto& sl : slots) {
      sl.values.resize(ncol);
      sl.texts.resize(ncol);
    }
    ARK_RETURN_IF_ERROR(Exec("SAVEPOINT ark_load"));
    sqlite3_stmt* many = nullptr;
    sqlite3_stmt* one = nullptr;
    Status s;
    if (sqlite3_prepare_v2(db_, insert_sql(group).c_str(), -1, &many, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db_, insert_sql(1).c_str(), -1, &one, nullptr) != SQLITE_OK) {
      s = Err();
    }
    int filled = 0;
    while (s.ok()) {
      Result<bool> more = fill(slots[filled]);
      if (!more.ok()) { s = more.status(); break; }
      if (!*more) break;
      if (++filled == group) {
        for (int r = 0; r < group; ++r) BindRow(many, r * ncol, slots[r]);
        if (sqlite3_step(many) != SQLITE_DONE) s = Err().WithContext("load into " + table);
        sqlite3_reset(many);
        filled = 0;
      }
    }
    for (int r = 0; s.ok() && r < filled; ++r) {
      BindRow(one, 0, slots[r]);
      if (sqlite3_step(one) != SQLITE_DONE) s = Err().WithContext("load into " + table);
      sqlite3_reset(one);
    }
    sqlite3_finalize(many);
    sqlite3_finalize(one);
    if (!s.ok()) {
      (void)Exec("ROLLBACK TO ark_load; RELEASE ark_load");
      return s;
    }
    return Exec("RELEASE ark_load");
  }

  sqlite3* db_;
};

}  // namespace

Result<std::unique_ptr<Connection>> OpenSqlite(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    std::string m = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return Status::IOError("sqlite: cannot open " + path + ": " + m);
  }
  sqlite3_busy_timeout(db, 10000);
  // Bigger page cache for loads and index builds (about 256 MiB at most).
  sqlite3_exec(db, "PRAGMA cache_size=-262144", nullptr, nullptr, nullptr);
  return std::unique_ptr<Connection>(new SqliteConnection(db));
}

}  // namespace ark::sql
