// CSV event logs: read with the core CSV parser (memory-mapped, UTF-8 checked), write plainly.
#include <algorithm>
#include <initializer_list>

#include "core/csv.h"
#include "core/fs.h"
#include "pathways/log_io.h"

namespace ark::pathways {
namespace {

int PickColumn(const CsvFile& f, const std::string& given, std::initializer_list<const char*> defaults) {
  if (!given.empty()) return given == "-" ? -1 : f.ColumnIndex(given);
  for (const char* d : defaults)
    if (int i = f.ColumnIndex(d); i >= 0) return i;
  return -1;
}

Status MissingColumn(const CsvFile& f, const std::string& role, const std::string& given) {
  std::string cols;
  for (auto& h : f.header()) cols += (cols.empty() ? "" : ", ") + h;
  if (given.empty())
    return Status::InvalidArgument(f.path() + ": no " + role + " column found (give --" + role +
                                   " COL; columns: " + cols + ")");
  return Status::InvalidArgument(f.path() + ": no column '" + given + "' for the " + role + " (columns: " + cols + ")");
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Result<EventLog> ReadCsvLog(const std::string& path, const CsvLogOptions& o) {
  ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open(path));
  const int ci = PickColumn(f, o.case_col, {"case_id", "case:concept:name", "case", "CaseID", "Case ID"});
  if (ci < 0) return MissingColumn(f, "case", o.case_col);
  const int ai = PickColumn(f, o.activity_col, {"activity", "concept:name", "Activity", "activity_id"});
  if (ai < 0) return MissingColumn(f, "activity", o.activity_col);
  const int ti = PickColumn(f, o.timestamp_col, {"timestamp", "time:timestamp", "Timestamp", "time", "start_time"});
  if (ti < 0) return MissingColumn(f, "timestamp", o.timestamp_col);
  const int ri = PickColumn(f, o.resource_col, {"org:resource", "resource"});
  if (!o.resource_col.empty() && o.resource_col != "-" && ri < 0) return MissingColumn(f, "resource", o.resource_col);
  const int li = PickColumn(f, o.lifecycle_col, {"lifecycle:transition", "lifecycle"});
  if (!o.lifecycle_col.empty() && o.lifecycle_col != "-" && li < 0) return MissingColumn(f, "lifecycle", o.lifecycle_col);
  std::vector<int> attr_idx;
  for (auto& a : o.case_attr_cols) {
    const int i = f.ColumnIndex(a);
    if (i < 0) return MissingColumn(f, "case attribute", a);
    attr_idx.push_back(i);
  }
  const size_t need = static_cast<size_t>(std::max({ci, ai, ti, ri, li, 0})) + 1;
  const std::string& act_name = f.header()[ai];
  const std::string& time_name = f.header()[ti];

  EventLogBuilder b;
  CsvParser p(f.body(), f.body_first_line());
  std::vector<std::string_view> row;
  std::string last_case;
  for (;;) {
    auto more = p.Next(&row);
    if (!more.ok()) return Status::InvalidArgument(f.path() + ": " + more.status().message());
    if (!*more) break;
    if (row.size() < need || row.size() != f.header().size())
      return f.Error(p.line(), "expected " + std::to_string(f.header().size()) + " fields, found " +
                                   std::to_string(row.size()));
    // An empty case id is a case of its own (hospital_billing.csv has one; pm4py counts it).
    if (row[ai].empty()) return f.Error(p.line(), act_name, "empty activity");
    auto t = ParseTimestampMs(row[ti]);
    if (!t.ok())
      return f.Error(p.line(), time_name,
                     "'" + std::string(row[ti]) + "' is not a timestamp (" + t.status().message() + ")");
    b.Add(row[ci], row[ai], *t, ri >= 0 ? row[ri] : std::string_view(), li >= 0 ? row[li] : std::string_view());
    if (!attr_idx.empty() && row[ci] != last_case) {
      last_case.assign(row[ci]);
      for (size_t k = 0; k < attr_idx.size(); ++k) b.SetCaseAttr(row[ci], o.case_attr_cols[k], row[attr_idx[k]]);
    }
  }
  if (b.events() == 0) return Status::InvalidArgument(f.path() + ": no events (only a header row)");
  return std::move(b).Finish();
}

Status WriteCsvLog(const EventLog& log, const std::string& path) {
  std::string out;
  std::vector<std::string_view> row{"case_id", "activity", "timestamp"};
  const bool res = !log.resource.empty(), lc = !log.lifecycle.empty();
  if (res) row.push_back("resource");
  if (lc) row.push_back("lifecycle");
  for (auto& n : log.case_attr_names) row.push_back(n);
  AppendCsvRow(&out, row);
  for (size_t c = 0; c < log.num_cases(); ++c) {
    for (uint64_t i = log.case_start[c]; i < log.case_start[c + 1]; ++i) {
      const std::string ts = FormatTimestampMs(log.time_ms[i]);
      row.assign({log.case_ids[c], log.activities[log.activity[i]], ts});
      if (res) row.push_back(log.resources[log.resource[i]]);
      if (lc) row.push_back(log.lifecycles[log.lifecycle[i]]);
      for (auto& col : log.case_attrs) row.push_back(col[c]);
      AppendCsvRow(&out, row);
    }
  }
  return WriteFileAtomic(path, out);
}

Result<EventLog> ReadLog(const std::string& path, const CsvLogOptions& opts) {
  if (EndsWith(path, ".xes") || EndsWith(path, ".xes.gz") || EndsWith(path, ".XES")) return ReadXesLog(path);
  return ReadCsvLog(path, opts);
}

}  // namespace ark::pathways
