#include "study/codes.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "sql/connection.h"

namespace ark::study {
namespace {

// The characters of range bounds, in their order.
constexpr std::string_view kAlphabet = ".0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

bool AllEqual(std::string_view s, char c) { return std::all_of(s.begin(), s.end(), [c](char x) { return x == c; }); }

// Prefixes of the strings of length p.size() + s.size() that start with p and whose rest is >= s.
void AtLeast(const std::string& p, std::string_view s, std::vector<std::string>* out) {
  if (AllEqual(s, kAlphabet.front())) {
    out->push_back(p);
    return;
  }
  AtLeast(p + s[0], s.substr(1), out);
  for (char c : kAlphabet)
    if (c > s[0]) out->push_back(p + c);
}
// ... whose rest is <= s.
void AtMost(const std::string& p, std::string_view s, std::vector<std::string>* out) {
  if (AllEqual(s, kAlphabet.back())) {
    out->push_back(p);
    return;
  }
  AtMost(p + s[0], s.substr(1), out);
  for (char c : kAlphabet)
    if (c < s[0]) out->push_back(p + c);
}
// ... whose rest is between lo and hi (same length, lo <= hi).
void Between(const std::string& p, std::string_view lo, std::string_view hi, std::vector<std::string>* out) {
  size_t k = 0;
  while (k < lo.size() && lo[k] == hi[k]) ++k;
  const std::string common = p + std::string(lo.substr(0, k));
  if (k == lo.size()) {
    out->push_back(common);
    return;
  }
  AtLeast(common + lo[k], lo.substr(k + 1), out);
  for (char c : kAlphabet)
    if (c > lo[k] && c < hi[k]) out->push_back(common + c);
  AtMost(common + hi[k], hi.substr(k + 1), out);
}

std::string Upper(std::string_view s) {
  std::string o(s);
  for (auto& c : o) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return o;
}

}  // namespace

bool IsHierarchicalSystem(std::string_view system) {
  const std::string s = Upper(system);
  for (const char* p : {"ICD", "OPCS", "READ", "CTV3", "DEATH"})
    if (s.rfind(p, 0) == 0) return true;
  return false;
}

Status AddCode(const std::string& system, const std::string& code, Codelist* cl) {
  if (code.empty()) return Status::InvalidArgument("empty code");
  const bool none = system == "none";
  const size_t slash = code.find('/');
  if (!none && system.empty() && slash == std::string::npos) {
    return Status::InvalidArgument("code '" + code + "' has no system: write SYSTEM/CODE, give 'system', or 'system: none' for codes stored without one (MEDS: HR, MEDS_BIRTH)");
  }
  // The system part and the code part of the stored form.
  std::string sys, body;
  if (none) {
    body = code;
  } else if (slash != std::string::npos) {
    sys = code.substr(0, slash);
    body = code.substr(slash + 1);
  } else {
    sys = system;
    body = code;
  }
  const std::string head = sys.empty() ? "" : sys + "/";
  if (!body.empty() && body.back() == '*') {
    const std::string prefix = head + body.substr(0, body.size() - 1);
    if (prefix.empty()) return Status::InvalidArgument("code '" + code + "': a prefix needs at least one character before '*'");
    cl->prefixes.push_back(prefix);  // SYSTEM/* is every code of the system
    return Status::OK();
  }
  const size_t dash = body.find('-');
  if (!sys.empty() && IsHierarchicalSystem(sys) && dash != std::string::npos) {
    const std::string lo = body.substr(0, dash), hi = body.substr(dash + 1);
    if (lo.empty() || lo.size() != hi.size()) return Status::InvalidArgument("range '" + code + "': both bounds must have the same length (E10-E14)");
    if (lo.size() > 8) return Status::InvalidArgument("range '" + code + "': bounds longer than 8 characters (list the codes, or use a prefix)");
    for (char c : lo + hi)
      if (kAlphabet.find(c) == std::string_view::npos) return Status::InvalidArgument("range '" + code + "': bounds may hold only . 0-9 A-Z a-z");
    if (lo > hi) return Status::InvalidArgument("range '" + code + "': " + lo + " is after " + hi);
    Between(head, lo, hi, &cl->prefixes);
    return Status::OK();
  }
  cl->codes.push_back(head + body);
  if (none && code == "MEDS_DEATH") cl->codes.push_back("DEATH/MEDS");  // how import-meds stores a death
  return Status::OK();
}

bool CodelistMatches(const Codelist& cl, std::string_view code) {
  if (std::binary_search(cl.codes.begin(), cl.codes.end(), code, [](auto a, auto b) { return std::string_view(a) < std::string_view(b); })) return true;
  for (const std::string& p : cl.prefixes)
    if (code.substr(0, p.size()) == p) return true;
  return false;
}

std::string CodelistSql(const Codelist& cl, const std::string& column) {
  std::string s;
  auto list = [](const std::vector<std::string>& v) {
    std::string l = "(";
    for (auto& x : v) l += (l.size() > 1 ? ", " : "") + sql::QuoteLiteral(x);
    return l + ")";
  };
  if (!cl.codes.empty()) s = column + " IN " + list(cl.codes);
  std::map<size_t, std::vector<std::string>> by_len;
  // substr counts characters (not bytes) in SQLite and PostgreSQL.
  for (auto& p : cl.prefixes) by_len[static_cast<size_t>(std::count_if(p.begin(), p.end(), [](char c) { return (c & 0xC0) != 0x80; }))].push_back(p);
  for (auto& [len, ps] : by_len) {
    s += (s.empty() ? "" : " OR ") + ("substr(" + column + ", 1, " + std::to_string(len) + ") IN " + list(ps));
  }
  return "(" + s + ")";
}

}  // namespace ark::study
