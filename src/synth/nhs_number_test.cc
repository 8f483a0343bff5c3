#include "synth/nhs_number.h"

#include <gtest/gtest.h>

#include <set>

#include "core/time.h"
#include "synth/world.h"

namespace ark::synth {
namespace {

TEST(SynthNhsNumber, Modulus11Examples) {
  EXPECT_TRUE(IsValidNhsNumber("9434765919"));
  EXPECT_FALSE(IsValidNhsNumber("9991234560"));
  EXPECT_FALSE(IsValidNhsNumber("943476591"));
  EXPECT_FALSE(IsValidNhsNumber("943 476 5919"));
  EXPECT_EQ(NhsCheckDigit(943476591), 9);
  EXPECT_EQ(NhsCheckDigit(999123456), -1);  // c = 10: never issued
  EXPECT_EQ(FormatNhsNumber(9434765919, true), "943 476 5919");
  EXPECT_EQ(FormatNhsNumber(9434765919, false), "9434765919");
}

TEST(SynthNhsNumber, CorruptionsNeverValidate) {
  Rng rng(7);
  for (int i = 0; i < 5000; ++i) {
    std::string bad = CorruptNhsNumber(9434765919, i % 2 == 0, rng);
    std::string digits;
    for (char c : bad)
      if (c != ' ') digits.push_back(c);
    EXPECT_FALSE(IsValidNhsNumber(digits)) << bad;
  }
}

TEST(SynthNhsNumber, AllocatorGivesUniqueValidTestRangeNumbers) {
  NhsAllocator a(50000, 3);
  std::set<uint64_t> seen;
  for (uint64_t i = 0; i < 50000; ++i) {
    const uint64_t n = a.Get(i);
    EXPECT_TRUE(IsValidNhsNumber(FormatNhsNumber(n, false)));
    EXPECT_GE(n, 9990000000u);
    EXPECT_TRUE(seen.insert(n).second);
  }
  EXPECT_EQ(NhsAllocator::test_range_capacity(), 909091u);
  // Seeded: the same seed gives the same numbers, another seed others.
  NhsAllocator b(10, 3), c(10, 4);
  EXPECT_EQ(a.Get(5), b.Get(5));
  EXPECT_NE(b.Get(5), c.Get(5));
}

TEST(SynthIdPermutation, IsABijection) {
  for (uint64_t domain : {1ull, 7ull, 1000ull, 65537ull}) {
    IdPermutation p(domain, 42);
    std::set<uint64_t> seen;
    for (uint64_t x = 0; x < domain; ++x) {
      const uint64_t y = p.Map(x);
      ASSERT_LT(y, domain);
      seen.insert(y);
    }
    EXPECT_EQ(seen.size(), domain);
  }
}

TEST(SynthWorld, AreasPostcodesPractices) {
  World w(30000, 10, 1);
  EXPECT_EQ(w.lsoas().size(), 20u);  // at least 20
  EXPECT_EQ(w.practices().size(), 5u);
  World big(150000, 10, 1);
  EXPECT_EQ(big.lsoas().size(), 100u);  // one per 1,500 people
  EXPECT_EQ(big.practices().size(), 19u);  // one per 8,000 people
  int by_decile[11] = {};
  for (const Lsoa& l : big.lsoas()) {
    ASSERT_GE(l.imd_decile, 1);
    ASSERT_LE(l.imd_decile, 10);
    ++by_decile[l.imd_decile];
    EXPECT_GE(l.num_postcodes, 20u);
    EXPECT_EQ(l.code.size(), 9u);
  }
  EXPECT_GT(by_decile[1], by_decile[10]);  // a deprived city region
  std::set<std::string> postcodes;
  for (uint32_t i = 0; i < big.lsoas().back().first_postcode + big.lsoas().back().num_postcodes; ++i) {
    const std::string& pc = big.postcode(i);
    EXPECT_TRUE(postcodes.insert(pc).second) << pc;
    // Outward code, a space, digit + two letters ("LS7 3QB").
    ASSERT_GE(pc.size(), 6u);
    EXPECT_EQ(pc[pc.size() - 4], ' ');
    EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(pc[pc.size() - 3])));
  }
  EXPECT_EQ(w.start_day(), DaysFromCivil(2016, 1, 1));
  EXPECT_EQ(w.end_day(), DaysFromCivil(2025, 12, 31));
}

}  // namespace
}  // namespace ark::synth
