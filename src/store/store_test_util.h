// Test helpers for the timeline store: random data sets, brute-force answers, temporary
// directories. Header-only; used by the *_test.cc files beside it.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "core/fs.h"
#include "store/options.h"
#include "store/store.h"
#include "store/timeline_writer.h"

namespace ark::store::testing {

struct Data {
  Dictionaries dicts;
  std::vector<Person> persons;
  std::vector<std::vector<Event>> events;  // by person key, in time order
  uint64_t num_events() const {
    uint64_t n = 0;
    for (const auto& e : events) n += e.size();
    return n;
  }
};

inline std::string TempDir(const std::string& name) {
  static int counter = 0;
  std::string dir = ::testing::TempDir() + "ark_store_" + name + "_" + std::to_string(::getpid()) + "_" +
                    std::to_string(counter++);
  (void)RemoveAll(dir);
  return dir;
}

constexpr Seconds kDay = kSecondsPerDay;
constexpr int32_t kFirstDay = 10957;  // 2000-01-01

// Random data: codes drawn from a Zipf-like law over `num_codes` codes, days over ~20 years,
// about half the events at midnight, some equal times, values that need raw doubles, end times.
inline Data MakeData(uint32_t num_persons, int max_events, uint32_t num_codes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Data d;
  for (uint32_t c = 1; c <= num_codes; ++c) d.dicts.codes.push_back("TEST/C" + std::to_string(c));
  d.dicts.units = {"", "mmol/L", "kg", "mmHg"};
  d.dicts.areas = {"", "E01000001", "E01000002"};
  d.dicts.practices = {"", "P1", "P2", "P3"};
  d.dicts.sources = {"", "gp", "acute", "lab"};
  std::vector<double> weights(num_codes);
  for (uint32_t c = 0; c < num_codes; ++c) weights[c] = 1.0 / (c + 1);
  std::discrete_distribution<uint32_t> code_dist(weights.begin(), weights.end());
  auto uni = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  for (uint32_t k = 0; k < num_persons; ++k) {
    Person p;
    p.key = k;
    p.birth_year = static_cast<int16_t>(uni(1920, 2020));
    p.birth_month = static_cast<uint8_t>(uni(0, 12));
    p.sex = "MFU"[uni(0, 2)];
    p.death_day = uni(0, 9) == 0 ? static_cast<int32_t>(uni(15000, 19000)) : INT32_MIN;
    p.lsoa = static_cast<uint32_t>(uni(0, 2));
    p.imd_decile = static_cast<uint8_t>(uni(0, 10));
    p.practice = static_cast<uint32_t>(uni(0, 3));
    p.flags = static_cast<uint8_t>(uni(0, 15));
    d.persons.push_back(p);
    std::vector<Event> ev(static_cast<size_t>(uni(0, max_events)));
    for (size_t i = 0; i < ev.size(); ++i) {
      Event& e = ev[i];
      e.person = k;
      if (i > 0 && uni(0, 9) == 0) {
        e.time = ev[i - 1].time;  // equal timestamps keep their order
      } else {
        e.time = (kFirstDay + uni(0, 7300)) * kDay + (uni(0, 1) ? 0 : uni(1, kDay - 1));
      }
      e.code = code_dist(rng) + 1;
      const int64_t v = uni(0, 9);
      if (v < 2) e.value = static_cast<double>(uni(-5000, 100000)) / 100.0;
      if (v == 2) e.value = std::ldexp(static_cast<double>(uni(1, 1 << 30)), -17);  // needs a raw double
      if (v == 3) e.value = static_cast<double>(uni(0, 200));
      if (e.has_value()) e.unit = static_cast<uint32_t>(uni(1, 3));
      if (uni(0, 9) == 0) e.end = e.time + uni(0, 30 * kDay);
      e.source = static_cast<uint16_t>(uni(1, 3));
      e.encounter = uni(0, 3) == 0 ? static_cast<uint32_t>(uni(1, 1000000)) : 0;
    }
    std::stable_sort(ev.begin(), ev.end(), [](const Event& a, const Event& b) { return a.time < b.time; });
    d.events.push_back(std::move(ev));
  }
  return d;
}

inline Status WriteData(const std::string& dir, const Data& d, WriterOptions opts = {}) {
  ARK_ASSIGN_OR_RETURN(auto w, TimelineWriter::Create(dir, opts));
  for (size_t k = 0; k < d.persons.size(); ++k) ARK_RETURN_IF_ERROR(w->AddPerson(d.persons[k], d.events[k]));
  return w->Finish(d.dicts);
}

inline bool SameEvent(const Event& a, const Event& b) {
  const bool values = (std::isnan(a.value) && std::isnan(b.value)) || std::memcmp(&a.value, &b.value, sizeof(double)) == 0;
  return a.person == b.person && a.time == b.time && a.end == b.end && a.code == b.code && values &&
         a.unit == b.unit && a.source == b.source && a.encounter == b.encounter;
}

inline bool SamePerson(const Person& a, const Person& b) {
  return a.key == b.key && a.birth_year == b.birth_year && a.birth_month == b.birth_month && a.sex == b.sex &&
         a.death_day == b.death_day && a.lsoa == b.lsoa && a.imd_decile == b.imd_decile && a.practice == b.practice &&
         a.flags == b.flags;
}

// Everything a store holds, read through ForEachPerson.
inline Data ReadAll(const Store& s, int threads = 1) {
  Data d;
  d.dicts = *s.dicts();
  d.persons.resize(s.num_persons());
  d.events.resize(s.num_persons());
  std::mutex mu;
  Status st = s.ForEachPerson(
      [&](const Person& p, std::span<const Event> ev) {
        std::lock_guard<std::mutex> l(mu);
        d.persons[p.key] = p;
        d.events[p.key].assign(ev.begin(), ev.end());
        return Status::OK();
      },
      threads);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return d;
}

inline uint64_t BruteCount(const Data& d, const std::vector<CodeId>& codes, Seconds from, Seconds to) {
  std::set<CodeId> set(codes.begin(), codes.end());
  uint64_t n = 0;
  for (const auto& ev : d.events) {
    n += std::any_of(ev.begin(), ev.end(), [&](const Event& e) { return set.count(e.code) && e.time >= from && e.time < to; });
  }
  return n;
}

}  // namespace ark::store::testing
