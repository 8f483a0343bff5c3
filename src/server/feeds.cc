#include "server/feeds.h"

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

namespace ark::server {

void FeedHealth::Count(const std::string& source, std::string_view code, int64_t now_us) {
  const int64_t sec = now_us / 1000000;
  std::lock_guard<std::mutex> l(mu_);
  std::string name = source.empty() ? "unknown" : source;
  // A sender cannot grow the table without bound by inventing facility names.
  if (sources_.size() >= kMaxSources && !sources_.count(name)) name = "other";
  Source& s = sources_[name];
  ++s.messages;
  if (code == "AA") ++s.aa;
  else if (code == "AR") ++s.ar;
  else ++s.ae;
  s.last_us = std::max(s.last_us, now_us);
  const size_t slot = static_cast<size_t>(sec % 60);
  if (s.second_of[slot] != sec) {
    s.second_of[slot] = sec;
    s.per_second[slot] = 0;
  }
  ++s.per_second[slot];
}

namespace {
std::string IsoTime(int64_t us) {
  const std::time_t t = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}
}  // namespace

std::string FeedHealth::Json(int64_t now_us) const {
  const int64_t now = now_us / 1000000;
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [name, s] : sources_) {
    uint64_t last_minute = 0;
    for (size_t i = 0; i < 60; ++i) {
      if (s.second_of[i] > now - 60 && s.second_of[i] <= now) last_minute += s.per_second[i];
    }
    out.push_back({{"source", name},
                   {"messages", s.messages},
                   {"aa", s.aa},
                   {"ae", s.ae},
                   {"ar", s.ar},
                   {"last_message", IsoTime(s.last_us)},
                   {"per_second_1m", static_cast<double>(last_minute) / 60.0}});
  }
  return out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string SendingFacilityOf(std::string_view raw) {
  if (raw.size() < 8 || raw.substr(0, 3) != "MSH") return "";
  const char sep = raw[3];
  size_t at = 3;  // MSH-1 is the separator itself; MSH-2 follows it, then MSH-3, then MSH-4
  for (int i = 0; i < 2; ++i) {
    at = raw.find(sep, at + 1);
    if (at == std::string_view::npos) return "";
  }
  const char comp = raw.size() > 4 ? raw[4] : '^';
  size_t end = at + 1;
  while (end < raw.size() && raw[end] != sep && raw[end] != comp && raw[end] != '\r' && raw[end] != '\n') ++end;
  return std::string(raw.substr(at + 1, std::min<size_t>(end - at - 1, 64)));
}

}  // namespace ark::server
