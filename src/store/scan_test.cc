#include "store/scan.h"

#include <gtest/gtest.h>

#include "store/store_test_util.h"

namespace ark::store {
namespace {

using testing::BruteCount;
using testing::Data;
using testing::kDay;
using testing::kFirstDay;
using testing::MakeData;
using testing::TempDir;

WriterOptions SmallBlocks() {
  WriterOptions o;
  o.block_events = 700;
  o.segment_events = 5000;
  return o;
}

std::vector<CodeId> RandomCodes(std::mt19937_64& rng, uint32_t num_codes, int n) {
  std::vector<CodeId> codes;
  for (int i = 0; i < n; ++i) codes.push_back(static_cast<CodeId>(1 + rng() % (num_codes + 5)));  // some unknown
  return codes;
}

// Random windows: whole days, or bounds inside a day (seconds matter), wide and narrow.
void RandomWindow(std::mt19937_64& rng, Seconds* from, Seconds* to) {
  const int64_t d0 = kFirstDay - 100 + static_cast<int64_t>(rng() % 7500);
  const int64_t len = rng() % 3 == 0 ? static_cast<int64_t>(rng() % 5) : static_cast<int64_t>(rng() % 4000);
  *from = d0 * kDay;
  *to = (d0 + len) * kDay;
  if (rng() % 2) *from += static_cast<Seconds>(rng() % kDay);
  if (rng() % 2) *to += static_cast<Seconds>(rng() % kDay);
}

void CheckAgainstBruteForce(const Store& s, const Data& d, uint32_t num_codes, uint64_t seed, int rounds) {
  std::mt19937_64 rng(seed);
  for (int r = 0; r < rounds; ++r) {
    const auto codes = RandomCodes(rng, num_codes, 1 + static_cast<int>(rng() % 50));
    Seconds from, to;
    RandomWindow(rng, &from, &to);
    const uint64_t want = BruteCount(d, codes, from, to);
    for (int threads : {1, 2}) {
      auto got = s.CountPersonsWithAnyCode(codes, from, to, threads);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_EQ(*got, want) << "round " << r << " from " << from << " to " << to << " threads " << threads;
    }
  }
}

TEST(Scan, MatchesBruteForce) {
  const std::string dir = TempDir("scan");
  const uint32_t kCodes = 800;  // more than 255: blocks have escapes
  const Data d = MakeData(1500, 70, kCodes, 21);
  ASSERT_TRUE(testing::WriteData(dir, d, SmallBlocks()).ok());
  auto s = Store::Open(dir);
  ASSERT_TRUE(s.ok());
  CheckAgainstBruteForce(**s, d, kCodes, 1, 150);
  // Degenerate windows and sets.
  EXPECT_EQ(*(*s)->CountPersonsWithAnyCode({}, 0, INT64_MAX, 1), 0u);
  EXPECT_EQ(*(*s)->CountPersonsWithAnyCode({1}, 100, 100, 1), 0u);
  EXPECT_EQ(*(*s)->CountPersonsWithAnyCode({1, 2, 3}, INT64_MIN, INT64_MAX, 2), BruteCount(d, {1, 2, 3}, INT64_MIN, INT64_MAX));
  (void)RemoveAll(dir);
}

TEST(Scan, MatchesBruteForceWithDelta) {
  const std::string dir = TempDir("scan_delta");
  const uint32_t kCodes = 300;
  Data d = MakeData(800, 50, kCodes, 22);
  ASSERT_TRUE(testing::WriteData(dir, d, SmallBlocks()).ok());
  auto s = Store::Open(dir);
  ASSERT_TRUE(s.ok());
  std::mt19937_64 rng(5);
  std::vector<AppendEvent> adds;
  for (int i = 0; i < 3000; ++i) {
    AppendEvent a;
    a.person = static_cast<PersonKey>(rng() % 900);  // some new persons
    a.time = (kFirstDay + static_cast<int64_t>(rng() % 7300)) * kDay + (rng() % 2 ? 0 : rng() % kDay);
    a.code = d.dicts.codes[1 + rng() % kCodes];
    adds.push_back(a);
  }
  ASSERT_TRUE((*s)->Append(adds).ok());
  for (const AppendEvent& a : adds) {
    while (d.events.size() <= a.person) d.events.emplace_back();
    Event e;
    e.person = a.person;
    e.time = a.time;
    e.code = static_cast<CodeId>(std::find(d.dicts.codes.begin(), d.dicts.codes.end(), a.code) - d.dicts.codes.begin());
    d.events[a.person].push_back(e);
  }
  CheckAgainstBruteForce(**s, d, kCodes, 2, 100);
  ASSERT_TRUE((*s)->Compact().ok());
  CheckAgainstBruteForce(**s, d, kCodes, 3, 50);
  (void)RemoveAll(dir);
}

TEST(Scan, BlockSkippingByDayAndCode) {
  // Persons in key order live in successive eras, and rare codes occur in one era only, so most
  // blocks are skipped by their day range or their dictionary; answers must still be exact.
  const std::string dir = TempDir("scan_skip");
  Data d = MakeData(2000, 30, 100, 23);
  for (uint32_t k = 0; k < d.events.size(); ++k) {
    const int64_t era = k / 200;  // 10 eras of 200 persons
    for (Event& e : d.events[k]) {
      e.time = (kFirstDay + era * 400) * kDay + (e.time % (300 * kDay));
      if (era == 7 && e.code % 10 == 0) e.code = 100 + era;  // only in era 7
    }
    std::stable_sort(d.events[k].begin(), d.events[k].end(), [](const Event& a, const Event& b) { return a.time < b.time; });
  }
  for (CodeId c = 101; c <= 110; ++c) d.dicts.codes.push_back("RARE/" + std::to_string(c));
  ASSERT_TRUE(testing::WriteData(dir, d, SmallBlocks()).ok());
  auto s = Store::Open(dir);
  ASSERT_TRUE(s.ok());
  ASSERT_GT((*s)->Stats().blocks, 20u);
  const Seconds era3 = (kFirstDay + 3 * 400) * kDay;
  for (const std::vector<CodeId>& codes : {std::vector<CodeId>{107}, std::vector<CodeId>{1, 2}, std::vector<CodeId>{5, 107}}) {
    for (auto [from, to] : {std::pair<Seconds, Seconds>{era3, era3 + 100 * kDay}, {era3 + 3600, era3 + 5 * kDay + 7},
                            {0, INT64_MAX}, {(kFirstDay + 7 * 400) * kDay + 50 * kDay, (kFirstDay + 9 * 400) * kDay}}) {
      EXPECT_EQ(*(*s)->CountPersonsWithAnyCode(codes, from, to, 2), BruteCount(d, codes, from, to));
    }
  }
  EXPECT_EQ(*(*s)->CountPersonsWithAnyCode({107}, 0, INT64_MAX, 1), BruteCount(d, {107}, 0, INT64_MAX));
  EXPECT_GT(BruteCount(d, {107}, 0, INT64_MAX), 0u);
  (void)RemoveAll(dir);
}

}  // namespace
}  // namespace ark::store
