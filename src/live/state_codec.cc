// LiveState::Encode / Decode: the binary form of the live state kept in the live snapshot
// (ingestor_snapshot.cc). Little-endian varints and strings (store/coding.h); every count is
// checked against the bytes left before anything is reserved. Format version: the snapshot's.
#include <cmath>

#include "live/state.h"
#include "store/coding.h"

namespace ark::live {
namespace {

using store::ByteReader;
using store::PutDouble;
using store::PutString;
using store::PutU8;
using store::PutVarint;
using store::ZigZag;

constexpr uint64_t kStateMagic = 0x4c53'5441'5445'3031ull;  // "LSTATE01" (as a number)

void PutTime(std::string* out, int64_t t) { PutVarint(out, ZigZag(t)); }

// A count read from `r`, refused when it cannot fit in the bytes left (each item >= 1 byte).
bool Count(ByteReader& r, uint64_t* n) {
  *n = r.Varint();
  return r.ok() && *n <= r.remaining();
}

}  // namespace

void LiveState::Encode(std::string* out) const {
  PutVarint(out, kStateMagic);
  PutVarint(out, persons_.size());
  for (const auto& [key, p] : persons_) {
    PutVarint(out, key);
    PutU8(out, static_cast<uint8_t>((p.in_bed ? 1 : 0) | (p.news2_single3 ? 2 : 0)));
    PutString(out, p.place.site);
    PutString(out, p.place.ward);
    PutString(out, p.place.bed);
    PutTime(out, p.last_discharge);
    PutTime(out, p.ae_arrival);
    PutVarint(out, p.creatinine.size());
    for (const clinical::Creatinine& c : p.creatinine) {
      PutTime(out, c.time);
      PutDouble(out, c.umol_per_l);
    }
    PutVarint(out, static_cast<uint64_t>(p.aki_stage));
    PutTime(out, p.news2);
  }
  PutVarint(out, beds_.size());
  for (const auto& [site, wards] : beds_) {
    PutString(out, site);
    PutVarint(out, wards.size());
    for (const auto& [ward, n] : wards) {
      PutString(out, ward);
      PutTime(out, n);
    }
  }
  PutVarint(out, ae_days_.size());
  for (const auto& [day, d] : ae_days_) {
    PutTime(out, day);
    PutVarint(out, d.arrivals);
    PutVarint(out, d.within);
    PutVarint(out, d.breached);
  }
  PutTime(out, ae_open_);
  PutTime(out, clock_);
  for (uint64_t v : {records_, emergency_admissions_, readmissions_, creatinine_results_,
                     news2_sets_})
    PutVarint(out, v);
  PutVarint(out, readmit_days_.size());
  for (const auto& [day, d] : readmit_days_) {
    PutTime(out, day);
    PutVarint(out, d.first);
    PutVarint(out, d.second);
  }
  for (int64_t v : aki_persons_) PutTime(out, v);
  for (int64_t v : {news2_5_, news2_7_, news2_single3_}) PutTime(out, v);
  PutVarint(out, alerts_by_rule_.size());
  for (const auto& [rule, n] : alerts_by_rule_) {
    PutString(out, rule);
    PutVarint(out, n);
  }
  PutVarint(out, alerts_);
}

Status LiveState::Decode(std::string_view data) {
  ByteReader r(data);
  auto bad = [](const char* part) {
    return Status::Corruption(std::string("live state: malformed ") + part);
  };
  if (r.Varint() != kStateMagic || !r.ok()) return bad("header");
  LiveState s(rules_);
  uint64_t n = 0;
  if (!Count(r, &n)) return bad("person count");
  s.persons_.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t key = r.Varint();
    PersonState p;
    const uint8_t flags = r.U8();
    p.in_bed = flags & 1;
    p.news2_single3 = flags & 2;
    p.place.site = std::string(r.String());
    p.place.ward = std::string(r.String());
    p.place.bed = std::string(r.String());
    p.last_discharge = r.ZigZagVarint();
    p.ae_arrival = r.ZigZagVarint();
    uint64_t nc = 0;
    if (!Count(r, &nc)) return bad("creatinine history");
    p.creatinine.reserve(nc);
    for (uint64_t j = 0; j < nc; ++j) {
      clinical::Creatinine c;
      c.time = r.ZigZagVarint();
      c.umol_per_l = r.Double();
      p.creatinine.push_back(c);
    }
    const uint64_t stage = r.Varint();
    p.news2 = static_cast<int>(r.ZigZagVarint());
    if (!r.ok() || key >= kNoPerson || stage > 3) return bad("person");
    p.aki_stage = static_cast<int>(stage);
    s.persons_.emplace(static_cast<PersonKey>(key), std::move(p));
  }
  if (!Count(r, &n)) return bad("bed occupancy");
  for (uint64_t i = 0; i < n; ++i) {
    auto& wards = s.beds_[std::string(r.String())];
    uint64_t nw = 0;
    if (!Count(r, &nw)) return bad("bed occupancy");
    for (uint64_t j = 0; j < nw; ++j) {
      std::string ward(r.String());
      wards[std::move(ward)] = r.ZigZagVarint();
    }
  }
  if (!Count(r, &n)) return bad("A&E days");
  for (uint64_t i = 0; i < n; ++i) {
    DayAe& d = s.ae_days_[static_cast<int32_t>(r.ZigZagVarint())];
    d.arrivals = r.Varint();
    d.within = r.Varint();
    d.breached = r.Varint();
  }
  s.ae_open_ = r.ZigZagVarint();
  s.clock_ = r.ZigZagVarint();
  for (uint64_t* v : {&s.records_, &s.emergency_admissions_, &s.readmissions_,
                      &s.creatinine_results_, &s.news2_sets_})
    *v = r.Varint();
  if (!Count(r, &n)) return bad("readmission days");
  for (uint64_t i = 0; i < n; ++i) {
    auto& d = s.readmit_days_[static_cast<int32_t>(r.ZigZagVarint())];
    d.first = r.Varint();
    d.second = r.Varint();
  }
  for (int64_t& v : s.aki_persons_) v = r.ZigZagVarint();
  for (int64_t* v : {&s.news2_5_, &s.news2_7_, &s.news2_single3_}) *v = r.ZigZagVarint();
  if (!Count(r, &n)) return bad("alerts by rule");
  for (uint64_t i = 0; i < n; ++i) {
    std::string rule(r.String());
    s.alerts_by_rule_[std::move(rule)] = r.Varint();
  }
  s.alerts_ = r.Varint();
  if (!r.ok()) return bad("record (truncated)");
  if (r.remaining() != 0) return bad("record (trailing bytes)");
  *this = std::move(s);
  return Status::OK();
}

}  // namespace ark::live
