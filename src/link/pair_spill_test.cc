#include "link/pair_spill.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <tuple>
#include <vector>

namespace ark {
namespace {

// The same pairs read back from memory and from the file, across appends and read windows.
TEST(PairSpill, MemoryAndFileHoldTheSamePairs) {
  const std::string dir = ::testing::TempDir() + "/pair_spill_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  PairSpill mem(3), file(3);
  ASSERT_TRUE(file.SpillTo(dir).ok());
  EXPECT_TRUE(file.spilled());
  EXPECT_FALSE(mem.spilled());
  for (uint64_t chunk = 0; chunk < 4; ++chunk) {
    for (PairSpill* s : {&mem, &file}) {
      std::vector<uint64_t> p;
      std::vector<uint8_t> l;
      for (uint64_t i = 0; i < 1000 + chunk; ++i) {
        p.push_back(chunk << 40 | i << 1);
        for (int f = 0; f < 3; ++f) l.push_back(static_cast<uint8_t>(i * 7 + f + chunk));
      }
      ASSERT_TRUE(s->Append(&p, &l).ok());
      EXPECT_TRUE(p.empty());
    }
  }
  ASSERT_EQ(mem.size(), 4006u);
  ASSERT_EQ(file.size(), 4006u);
  EXPECT_EQ(file.file_bytes(), 4006u * 11);
  EXPECT_EQ(mem.file_bytes(), 0u);
  std::vector<uint64_t> pm, pf;
  std::vector<uint8_t> lm, lf;
  for (size_t from : {size_t{0}, size_t{999}, size_t{2500}, size_t{4000}}) {
    ASSERT_TRUE(mem.Read(from, 6, &pm, &lm).ok());
    ASSERT_TRUE(file.Read(from, 6, &pf, &lf).ok());
    EXPECT_EQ(pm, pf);
    EXPECT_EQ(lm, lf);
  }
  EXPECT_EQ(pf[5], uint64_t{3} << 40 | uint64_t{1002} << 1);  // the last pair
  EXPECT_FALSE(file.Read(4001, 6, &pf, &lf).ok());
  // Unnamed: nothing in the folder, even while the spill is open.
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  PairSpill late(3);
  std::vector<uint64_t> p{1};
  std::vector<uint8_t> l{0, 0, 0};
  ASSERT_TRUE(late.Append(&p, &l).ok());
  EXPECT_FALSE(late.SpillTo(dir).ok());  // only before the first pair
  PairSpill nowhere(3);
  EXPECT_FALSE(nowhere.SpillTo(dir + "/missing").ok());
  std::filesystem::remove_all(dir);
}

// Every record's ends, in pair order, whatever the budget: one range placed straight from the
// scan, or many ranges sorted through the staging file; the pairs are scanned twice either way.
TEST(WeakPairFile, AnyBudgetGivesEveryRecordItsEndsInPairOrder) {
  const std::string dir = ::testing::TempDir() + "/weak_pairs_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const size_t n = 3000;
  std::mt19937 rng(5);
  std::vector<std::tuple<uint32_t, uint32_t, float>> pairs;
  for (uint32_t a = 0; a < n; ++a)
    for (int k = 0; k < static_cast<int>(rng() % 6); ++k) {
      const uint32_t b = a + 1 + rng() % 200;
      if (b < n) pairs.emplace_back(a, b, static_cast<float>(rng() % 1000) / 1000);
    }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end(), [](auto& x, auto& y) {
                return std::get<0>(x) == std::get<0>(y) && std::get<1>(x) == std::get<1>(y);
              }), pairs.end());
  std::vector<std::vector<std::pair<uint32_t, float>>> want(n);
  for (auto& [a, b, p] : pairs) {
    want[a].emplace_back(b, p);
    want[b].emplace_back(a, p);
  }
  for (size_t budget : {size_t{1} << 30, size_t{1000}, size_t{7}, size_t{1}}) {
    WeakPairFile f;
    int scans = 0;
    auto scan = [&](auto&& fn) {
      ++scans;
      for (auto& [a, b, p] : pairs) fn(a, b, p);
      return Status::OK();
    };
    ASSERT_TRUE(f.Build(dir, n, budget, scan).ok()) << budget;
    EXPECT_EQ(scans, 2) << budget;
    EXPECT_EQ(f.ends(), pairs.size() * 2);
    std::vector<WeakPairFile::End> got;
    for (uint32_t m = 0; m < n; ++m) {
      ASSERT_TRUE(f.Of(m, &got));
      ASSERT_EQ(got.size(), want[m].size()) << "record " << m << ", budget " << budget;
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(got[i].other, want[m][i].first) << "record " << m << ", budget " << budget;
        ASSERT_EQ(got[i].probability, want[m][i].second);
      }
    }
    EXPECT_TRUE(std::filesystem::is_empty(dir));  // unnamed files only
  }
  std::filesystem::remove_all(dir);
}

// A scan that gives more pairs the second time (against Build's contract) is an error, whether
// the ends are placed straight or staged by range, never a write past the counted ends.
TEST(WeakPairFile, PairsThatChangeBetweenScansAreAnError) {
  const std::string dir = ::testing::TempDir() + "/weak_pairs_bad_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  for (size_t budget : {size_t{1} << 30, size_t{3}}) {
    WeakPairFile f;
    int scans = 0;
    auto scan = [&](auto&& fn) {
      ++scans;
      for (uint32_t a = 0; a < 100; ++a) fn(a, a + 1, 0.5f);
      if (scans > 1) fn(0, 2, 0.5f);  // one pair more than counted
      return Status::OK();
    };
    const Status s = f.Build(dir, 101, budget, scan);
    EXPECT_FALSE(s.ok()) << budget;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ark
