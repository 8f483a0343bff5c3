// Event logs for process mining (IEEE 1849 XES model, reduced to what the analyses need):
// cases, each an ordered run of events (activity, timestamp[, resource, lifecycle]), with case
// attributes (e.g. the deprivation decile of the person) kept as strings.
//
// The log is columnar and dictionary-encoded so that analyses scan two flat arrays: `activity`
// (uint32 ids into `activities`) and `time_ms` (int64 milliseconds since 1970-01-01 UTC), with the
// events of case c at [case_start[c], case_start[c+1]). Within a case events are in timestamp
// order; events with equal timestamps keep their input order (pm4py does the same; another tie
// rule changes the variant count). EventLogBuilder establishes this order.
//
// Thread safety: an EventLog is an immutable value once built; concurrent readers are fine.
//
// Example:
//   EventLogBuilder b;
//   b.Add("case1", "Register", 1000);
//   b.Add("case1", "Triage", 2000);
//   EventLog log = std::move(b).Finish();
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ark/status.h"

namespace ark::pathways {

struct EventLog {
  std::vector<std::string> activities;  // id -> name
  std::vector<std::string> case_ids;    // case index -> case id as given
  std::vector<uint64_t> case_start;     // cases + 1 offsets into the event columns
  std::vector<uint32_t> activity;       // per event: id into `activities`
  std::vector<int64_t> time_ms;         // per event: ms since 1970-01-01 (UTC, or local for an Ark)
  // Optional per-event strings (empty vectors when the log has none): id 0 = none.
  std::vector<std::string> resources{""};
  std::vector<uint32_t> resource;
  std::vector<std::string> lifecycles{""};
  std::vector<uint32_t> lifecycle;
  // Case attributes: names and, per name, one value per case ("" = missing).
  std::vector<std::string> case_attr_names;
  std::vector<std::vector<std::string>> case_attrs;

  size_t num_cases() const { return case_ids.size(); }
  size_t num_events() const { return activity.size(); }
  // Index of a case attribute, or -1.
  int CaseAttr(std::string_view name) const;
  // Id of an activity name, or -1.
  int ActivityId(std::string_view name) const;
};

// Collects events in input order and builds an EventLog. Not thread-safe.
class EventLogBuilder {
 public:
  EventLogBuilder();
  // Adds one event. Case and activity strings are interned (copied).
  void Add(std::string_view case_id, std::string_view activity, int64_t time_ms,
           std::string_view resource = {}, std::string_view lifecycle = {});
  // Sets a case attribute (creating the case if it has no events yet).
  void SetCaseAttr(std::string_view case_id, std::string_view name, std::string_view value);
  size_t events() const { return ev_case_.size(); }
  // Groups events by case (cases in order of first appearance), then sorts each case stably by
  // time.
  EventLog Finish() &&;

 private:
  uint32_t CaseIndex(std::string_view case_id);
  static uint32_t Intern(std::unordered_map<std::string, uint32_t>* map, std::vector<std::string>* names,
                         std::string_view s);

  EventLog log_;
  std::unordered_map<std::string, uint32_t> case_map_, act_map_, res_map_, lc_map_;
  std::vector<uint32_t> ev_case_, ev_act_, ev_res_, ev_lc_;
  std::vector<int64_t> ev_time_;
  bool any_res_ = false, any_lc_ = false;
};

// Sorts the events of every case stably by time (used by builders that fill columns directly).
void SortCasesByTime(EventLog* log);

// Keeps only events whose lifecycle is `keep` (e.g. "complete"); events without a lifecycle stay.
// Cases left empty are dropped.
EventLog FilterLifecycle(const EventLog& log, std::string_view keep);

// Timestamps. Parses ISO 8601 / XES dates ("2012-12-16T19:33:10Z", "2012-12-16T19:33:10.123+01:00",
// "2012-12-16 19:33:10", "2012-12-16 19:33", "2012-12-16", "2012/12/16 19:33:10") into ms since
// 1970-01-01 UTC; an offset is subtracted, no offset means UTC. Error: InvalidArgument with the
// reason ("month 13", "expected ':' at character 14").
Result<int64_t> ParseTimestampMs(std::string_view text);
// "2012-12-16T19:33:10.123Z" (milliseconds only when non-zero).
std::string FormatTimestampMs(int64_t ms);

}  // namespace ark::pathways
