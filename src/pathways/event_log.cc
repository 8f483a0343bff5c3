#include "pathways/event_log.h"

#include <algorithm>
#include <numeric>

#include "core/time.h"

namespace ark::pathways {

int EventLog::CaseAttr(std::string_view name) const {
  for (size_t i = 0; i < case_attr_names.size(); ++i)
    if (case_attr_names[i] == name) return static_cast<int>(i);
  return -1;
}

int EventLog::ActivityId(std::string_view name) const {
  for (size_t i = 0; i < activities.size(); ++i)
    if (activities[i] == name) return static_cast<int>(i);
  return -1;
}

EventLogBuilder::EventLogBuilder() = default;

uint32_t EventLogBuilder::Intern(std::unordered_map<std::string, uint32_t>* map, std::vector<std::string>* names,
                                 std::string_view s) {
  // One lookup with a temporary key; logs have few distinct strings relative to events.
  thread_local std::string key;
  key.assign(s);
  auto it = map->find(key);
  if (it != map->end()) return it->second;
  const uint32_t id = static_cast<uint32_t>(names->size());
  names->emplace_back(s);
  map->emplace(key, id);
  return id;
}

uint32_t EventLogBuilder::CaseIndex(std::string_view case_id) {
  const size_t before = log_.case_ids.size();
  const uint32_t c = Intern(&case_map_, &log_.case_ids, case_id);
  if (log_.case_ids.size() != before)
    for (auto& col : log_.case_attrs) col.emplace_back();
  return c;
}

void EventLogBuilder::Add(std::string_view case_id, std::string_view activity, int64_t time_ms,
                          std::string_view resource, std::string_view lifecycle) {
  ev_case_.push_back(CaseIndex(case_id));
  ev_act_.push_back(Intern(&act_map_, &log_.activities, activity));
  ev_time_.push_back(time_ms);
  if (!resource.empty()) {
    if (!any_res_) {
      ev_res_.assign(ev_case_.size() - 1, 0);
      any_res_ = true;
      res_map_.emplace("", 0);
    }
  }
  if (any_res_) ev_res_.push_back(resource.empty() ? 0 : Intern(&res_map_, &log_.resources, resource));
  if (!lifecycle.empty()) {
    if (!any_lc_) {
      ev_lc_.assign(ev_case_.size() - 1, 0);
      any_lc_ = true;
      lc_map_.emplace("", 0);
    }
  }
  if (any_lc_) ev_lc_.push_back(lifecycle.empty() ? 0 : Intern(&lc_map_, &log_.lifecycles, lifecycle));
}

void EventLogBuilder::SetCaseAttr(std::string_view case_id, std::string_view name, std::string_view value) {
  const uint32_t c = CaseIndex(case_id);
  int a = log_.CaseAttr(name);
  if (a < 0) {
    log_.case_attr_names.emplace_back(name);
    log_.case_attrs.emplace_back(log_.case_ids.size());
    a = static_cast<int>(log_.case_attr_names.size()) - 1;
  }
  log_.case_attrs[a][c].assign(value);
}

EventLog EventLogBuilder::Finish() && {
  EventLog log = std::move(log_);
  const size_t n = ev_case_.size(), cases = log.case_ids.size();
  // Counting sort by case: stable, so input order is kept within a case.
  log.case_start.assign(cases + 1, 0);
  for (uint32_t c : ev_case_) ++log.case_start[c + 1];
  for (size_t c = 0; c < cases; ++c) log.case_start[c + 1] += log.case_start[c];
  std::vector<uint64_t> pos(log.case_start.begin(), log.case_start.end() - 1);
  log.activity.resize(n);
  log.time_ms.resize(n);
  if (any_res_) log.resource.resize(n);
  if (any_lc_) log.lifecycle.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t p = pos[ev_case_[i]]++;
    log.activity[p] = ev_act_[i];
    log.time_ms[p] = ev_time_[i];
    if (any_res_) log.resource[p] = ev_res_[i];
    if (any_lc_) log.lifecycle[p] = ev_lc_[i];
  }
  SortCasesByTime(&log);
  return log;
}

void SortCasesByTime(EventLog* log) {
  std::vector<uint32_t> perm;
  std::vector<uint32_t> tmp_u;
  std::vector<int64_t> tmp_t;
  const size_t cases = log->num_cases();
  for (size_t c = 0; c < cases; ++c) {
    const uint64_t b = log->case_start[c], e = log->case_start[c + 1];
    if (std::is_sorted(log->time_ms.begin() + b, log->time_ms.begin() + e)) continue;
    perm.resize(e - b);
    std::iota(perm.begin(), perm.end(), 0);
    std::stable_sort(perm.begin(), perm.end(),
                     [&](uint32_t x, uint32_t y) { return log->time_ms[b + x] < log->time_ms[b + y]; });
    auto apply_u = [&](std::vector<uint32_t>& col) {
      if (col.empty()) return;
      tmp_u.resize(perm.size());
      for (size_t i = 0; i < perm.size(); ++i) tmp_u[i] = col[b + perm[i]];
      std::copy(tmp_u.begin(), tmp_u.end(), col.begin() + b);
    };
    apply_u(log->activity);
    apply_u(log->resource);
    apply_u(log->lifecycle);
    tmp_t.resize(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) tmp_t[i] = log->time_ms[b + perm[i]];
    std::copy(tmp_t.begin(), tmp_t.end(), log->time_ms.begin() + b);
  }
}

EventLog FilterLifecycle(const EventLog& in, std::string_view keep) {
  if (in.lifecycle.empty()) return in;
  EventLog out;
  out.activities = in.activities;
  out.resources = in.resources;
  out.lifecycles = in.lifecycles;
  out.case_attr_names = in.case_attr_names;
  out.case_attrs.resize(in.case_attrs.size());
  out.case_start.push_back(0);
  for (size_t c = 0; c < in.num_cases(); ++c) {
    for (uint64_t i = in.case_start[c]; i < in.case_start[c + 1]; ++i) {
      const uint32_t lc = in.lifecycle[i];
      if (lc != 0 && in.lifecycles[lc] != keep) continue;
      out.activity.push_back(in.activity[i]);
      out.time_ms.push_back(in.time_ms[i]);
      out.lifecycle.push_back(lc);
      if (!in.resource.empty()) out.resource.push_back(in.resource[i]);
    }
    if (out.activity.size() == out.case_start.back()) continue;  // empty case dropped
    out.case_start.push_back(out.activity.size());
    out.case_ids.push_back(in.case_ids[c]);
    for (size_t a = 0; a < in.case_attrs.size(); ++a) out.case_attrs[a].push_back(in.case_attrs[a][c]);
  }
  return out;
}

namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char ch = s[pos + i];
    if (ch < '0' || ch > '9') return false;
    v = v * 10 + (ch - '0');
  }
  *out = v;
  return true;
}

Status Expect(std::string_view what, size_t pos) {
  return Status::InvalidArgument("expected " + std::string(what) + " at character " + std::to_string(pos + 1));
}

}  // namespace

Result<int64_t> ParseTimestampMs(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  if (s.empty()) return Status::InvalidArgument("empty timestamp");
  int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
  if (!Digits(s, 0, 4, &y)) return Expect("a 4-digit year", 0);
  if (s.size() < 5 || (s[4] != '-' && s[4] != '/')) return Expect("'-'", 4);
  if (!Digits(s, 5, 2, &mo)) return Expect("a 2-digit month", 5);
  if (s.size() < 8 || s[7] != s[4]) return Expect("'" + std::string(1, s[4]) + "'", 7);
  if (!Digits(s, 8, 2, &d)) return Expect("a 2-digit day", 8);
  if (mo < 1 || mo > 12) return Status::InvalidArgument("month " + std::to_string(mo));
  if (!IsValidDate(y, mo, d)) return Status::InvalidArgument("day " + std::to_string(d) + " of month " + std::to_string(mo));
  size_t p = 10;
  int64_t offset_min = 0;
  if (p < s.size()) {
    if (s[p] != 'T' && s[p] != ' ') return Expect("'T' or ' '", p);
    ++p;
    if (!Digits(s, p, 2, &h)) return Expect("a 2-digit hour", p);
    p += 2;
    if (p >= s.size() || s[p] != ':') return Expect("':'", p);
    ++p;
    if (!Digits(s, p, 2, &mi)) return Expect("2-digit minutes", p);
    p += 2;
    if (p < s.size() && s[p] == ':') {
      ++p;
      if (!Digits(s, p, 2, &sec)) return Expect("2-digit seconds", p);
      p += 2;
      if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
        ++p;
        int scale = 100, digits = 0;
        while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
          ms += (s[p] - '0') * scale;
          scale /= 10;
          ++p;
          ++digits;
        }
        if (digits == 0) return Expect("fraction digits", p);
      }
    }
    if (h > 24 || mi > 59 || sec > 60) return Status::InvalidArgument("time of day out of range");
    if (p < s.size()) {
      if (s[p] == 'Z') {
        ++p;
      } else if (s[p] == '+' || s[p] == '-') {
        const int sign = s[p] == '-' ? -1 : 1;
        int oh, om = 0;
        if (!Digits(s, p + 1, 2, &oh)) return Expect("a 2-digit offset hour", p + 1);
        p += 3;
        if (p < s.size() && s[p] == ':') ++p;
        if (p < s.size()) {
          if (!Digits(s, p, 2, &om)) return Expect("2-digit offset minutes", p);
          p += 2;
        }
        offset_min = sign * (oh * 60 + om);
      }
      if (p != s.size()) return Expect("the end of the timestamp", p);
    }
  }
  const int64_t secs = static_cast<int64_t>(DaysFromCivil(y, mo, d)) * 86400 + h * 3600 + mi * 60 + sec -
                       offset_min * 60;
  return secs * 1000 + ms;
}

std::string FormatTimestampMs(int64_t ms) {
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  const int milli = static_cast<int>(ms - secs * 1000);
  const int32_t days = DayOf(secs);
  const int64_t tod = secs - static_cast<int64_t>(days) * 86400;
  const CivilDate cd = CivilFromDays(days);
  char buf[48];
  if (milli)
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", cd.year, cd.month, cd.day,
                  static_cast<int>(tod / 3600), static_cast<int>(tod / 60 % 60), static_cast<int>(tod % 60), milli);
  else
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", cd.year, cd.month, cd.day,
                  static_cast<int>(tod / 3600), static_cast<int>(tod / 60 % 60), static_cast<int>(tod % 60));
  return buf;
}

}  // namespace ark::pathways
