// The one value formatter every engine's results go through, so that engines agree byte for byte.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "core/time.h"
#include "study/engine.h"

namespace ark::study {

Result<Purpose> ParsePurpose(const std::string& s) {
  if (s == "research") return Purpose::kResearch;
  if (s == "planning") return Purpose::kPlanning;
  if (s == "direct-care") return Purpose::kDirectCare;
  return Status::InvalidArgument("--purpose must be research, planning or direct-care, not '" + s + "'");
}

const char* PurposeName(Purpose p) {
  switch (p) {
    case Purpose::kResearch: return "research";
    case Purpose::kPlanning: return "planning";
    case Purpose::kDirectCare: return "direct-care";
  }
  return "?";
}

void AppendValue(std::string* out, Type t, double num) {
  switch (t) {
    case Type::kBool: out->push_back(num != 0 ? 'T' : 'F'); return;
    case Type::kInt: fmt::format_to(std::back_inserter(*out), "{}", static_cast<int64_t>(std::llround(num))); return;
    case Type::kFloat: {
      char buf[40];
      double v = num == 0 ? 0.0 : num;  // no "-0"
      int n = snprintf(buf, sizeof buf, "%.6g", v);
      out->append(buf, static_cast<size_t>(n));
      return;
    }
    case Type::kDate: out->append(FormatDate(static_cast<int32_t>(std::llround(num)))); return;
    case Type::kStr: return;  // strings are appended by the caller
  }
}

std::string FormatValue(Type t, double num) {
  std::string s;
  AppendValue(&s, t, num);
  return s;
}

void AppendCsvField(std::string* out, std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) {
    out->append(s);
    return;
  }
  out->push_back('"');
  for (char c : s) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

bool ParseValue(Type t, const std::string& text, double* num) {
  if (t == Type::kBool) {
    if (text == "1" || text == "t" || text == "true" || text == "1.0") return *num = 1, true;
    if (text == "0" || text == "f" || text == "false" || text == "0.0") return *num = 0, true;
    return false;
  }
  char* end = nullptr;
  *num = std::strtod(text.c_str(), &end);
  return !text.empty() && end == text.c_str() + text.size();
}

std::string DatasetHeader(const Definition& def) {
  std::string h = "patient_id";
  if (HasIndexDateColumn(def)) h += ",index_date";
  for (auto& v : def.variables) h += "," + v.name;
  return h;
}

void SortRows(std::vector<DatasetRow>* rows) {
  std::sort(rows->begin(), rows->end(), [](const DatasetRow& a, const DatasetRow& b) {
    return a.person != b.person ? a.person < b.person : a.seq < b.seq;
  });
}

Interval MeasurePoint(const Definition& def, const Interval& iv) { return Interval{iv.start, def.uses_interval_end ? iv.end : iv.start}; }

std::vector<Interval> MeasurePoints(const Definition& def) {
  std::vector<Interval> pts;
  for (auto& m : def.measures)
    for (auto& iv : m.intervals) pts.push_back(MeasurePoint(def, iv));
  auto key = [](const Interval& a) { return std::pair{a.start, a.end}; };
  std::sort(pts.begin(), pts.end(), [&](const Interval& a, const Interval& b) { return key(a) < key(b); });
  pts.erase(std::unique(pts.begin(), pts.end(), [&](const Interval& a, const Interval& b) { return key(a) == key(b); }), pts.end());
  return pts;
}

}  // namespace ark::study
