// Reading and writing event logs: CSV (one row per event, named case/activity/timestamp columns)
// and XES (IEEE 1849, plain or gzip-compressed .xes.gz).
//
// Errors name the file and the position: "log.csv:12: column 'timestamp': '2020-13-01' is not a
// timestamp (month 13)", "log.csv: no column 'case' (columns: a, b, c)",
// "log.xes:812:5: unexpected end of file inside <trace> opened at line 790".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ark/status.h"
#include "pathways/event_log.h"

namespace ark::pathways {

struct CsvLogOptions {
  // Column names. Empty: the first present of common names (case: case_id, case:concept:name,
  // case, CaseID; activity: activity, concept:name, Activity; timestamp: timestamp,
  // time:timestamp, Timestamp, time). Default: empty (auto).
  std::string case_col, activity_col, timestamp_col;
  // Optional columns: resource and lifecycle ("" = auto: org:resource/resource and
  // lifecycle:transition/lifecycle if present; "-" = none).
  std::string resource_col, lifecycle_col;
  // Further columns kept as case attributes (value of the case's first row). Default: none.
  std::vector<std::string> case_attr_cols;
};

Result<EventLog> ReadCsvLog(const std::string& path, const CsvLogOptions& opts = {});
// Columns case_id, activity, timestamp (ISO 8601 UTC), then resource/lifecycle if the log has
// them, then the case attributes.
Status WriteCsvLog(const EventLog& log, const std::string& path);

// XES: traces become cases (concept:name = case id; other simple trace attributes become case
// attributes), events need concept:name and time:timestamp; org:resource and
// lifecycle:transition are kept. Files ending in .gz are decompressed, up to
// MaxDecompressedBytes(): a file that inflates beyond it (a gzip bomb) is refused with
// InvalidArgument naming the file and the limit, before memory runs out.
Result<EventLog> ReadXesLog(const std::string& path);
// The most a gzip-compressed log may decompress to: ARK_MAX_DECOMPRESSED_BYTES (a positive byte
// count) when set, else kDefaultMaxDecompressedBytes (1 GiB).
constexpr uint64_t kDefaultMaxDecompressedBytes = 1ull << 30;
uint64_t MaxDecompressedBytes();
// Parses XES text held in memory; `name` is used in error messages.
Result<EventLog> ParseXes(std::string_view text, const std::string& name);
// Writes XES 1849-2016 with the concept, time, lifecycle and org extensions; gzip if the path
// ends in .gz.
Status WriteXesLog(const EventLog& log, const std::string& path);
std::string XesText(const EventLog& log);

// By extension: .xes / .xes.gz -> XES, anything else -> CSV.
Result<EventLog> ReadLog(const std::string& path, const CsvLogOptions& opts = {});

}  // namespace ark::pathways
