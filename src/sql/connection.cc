#include "sql/connection.h"

#include "sql/connection_impl.h"

namespace ark::sql {

Result<Dialect> DialectOfUrl(const std::string& url) {
  if (url.rfind("sqlite:", 0) == 0) return Dialect::kSqlite;
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) return Dialect::kPostgres;
  return Status::InvalidArgument("unknown database URL '" + url +
                                 "': expected sqlite:FILE or postgresql://user@host:port/db");
}

namespace {

std::string Quoted(std::string_view s, char q) {
  std::string out(1, q);
  for (char c : s) {
    if (c == q) out += q;
    out += c;
  }
  return out + q;
}

}  // namespace

std::string QuoteIdentifier(std::string_view s) { return Quoted(s, '"'); }
std::string QuoteLiteral(std::string_view s) { return Quoted(s, '\''); }

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& url) {
  ARK_ASSIGN_OR_RETURN(Dialect d, DialectOfUrl(url));
  if (d == Dialect::kSqlite) {
    std::string path = url.substr(7);
    if (path.rfind("//", 0) == 0) path = path.substr(2);  // sqlite:///abs/path
    if (path.empty()) return Status::InvalidArgument("sqlite URL without a file: '" + url + "'");
    return OpenSqlite(path);
  }
  return OpenPostgres(url);
}

}  // namespace ark::sql
