// Feed health per source, for the operations view (GET /api/v1/live/feeds, docs/api.md): for each
// sending facility (MSH-4; "FHIR" or the record's facility for POST /fhir; "unknown" when a
// message is too broken to name its sender), the messages received, their acknowledgement codes
// (AA, AE, AR), the time of the last one and the rate over the last minute.
//
// Counts are of messages, not of people. Thread safety: every method may be called from any
// thread (one mutex; Count is a few map operations, so the committer thread may call it).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace ark::server {

class FeedHealth {
 public:
  // Sources beyond this many (a sender inventing facility names) are counted together as "other".
  static constexpr size_t kMaxSources = 1000;
  // One message from `source` acknowledged with `code` ("AA", "AE" or "AR") at `now_us` (Unix µs).
  void Count(const std::string& source, std::string_view code, int64_t now_us);
  // A JSON array, one object per source in name order: {"source", "messages", "aa", "ae", "ar",
  // "last_message" (ISO 8601 UTC), "per_second_1m" (messages in the 60 s before `now_us` / 60)}.
  std::string Json(int64_t now_us) const;

 private:
  struct Source {
    uint64_t messages = 0, aa = 0, ae = 0, ar = 0;
    int64_t last_us = 0;
    std::array<uint32_t, 60> per_second{};  // ring by second of the Unix time
    std::array<int64_t, 60> second_of{};    // which second each slot holds
  };
  mutable std::mutex mu_;
  std::map<std::string, Source> sources_;
};

// MSH-4.1 of a raw HL7 v2 message (its first segment), or "" when it cannot be found.
std::string SendingFacilityOf(std::string_view raw);

}  // namespace ark::server
