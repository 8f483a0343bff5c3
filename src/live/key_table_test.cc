#include "live/key_table.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_map>

namespace ark::live {
namespace {

std::string Hex64(std::mt19937_64& rng, uint64_t range) {
  static constexpr char kDigits[] = "0123456789abcdef";
  const uint64_t v = rng() % range;
  std::string s(64, '0');
  for (int i = 0; i < 16; ++i) s[63 - i] = kDigits[(v >> (4 * i)) & 15];
  s[0] = kDigits[v & 15];  // vary the front too
  return s;
}

// Random sets, sets-if-absent and lookups agree with std::unordered_map, through growth, for
// pseudonyms in raw form and in text form (upper case, other lengths), and a copy is independent.
TEST(KeyTable, AgreesWithUnorderedMap) {
  for (uint64_t range : {uint64_t{50}, uint64_t{100000}}) {
    std::mt19937_64 rng(range);
    KeyTable t;
    std::unordered_map<std::string, PersonKey> m;
    for (int i = 0; i < 200000; ++i) {
      std::string k = Hex64(rng, range);
      if (rng() % 50 == 0) k[5] = 'F';                   // upper case: text form
      if (rng() % 50 == 0) k = k.substr(0, rng() % 64);  // short (maybe empty): text form
      const auto v = static_cast<PersonKey>(rng() % 1000);
      switch (rng() % 3) {
        case 0: {
          const bool fresh = !m.count(k);
          m[k] = v;
          ASSERT_EQ(t.Set(k, v), fresh) << k;
          break;
        }
        case 1: {
          const bool fresh = m.try_emplace(k, v).second;
          ASSERT_EQ(t.SetIfAbsent(k, v), fresh) << k;
          break;
        }
        default: {
          const auto it = m.find(k);
          ASSERT_EQ(t.Find(k), it == m.end() ? kNoPerson : it->second) << k;
        }
      }
    }
    ASSERT_EQ(t.size(), m.size());
    KeyTable copy = t;
    copy.Set(m.begin()->first, 999999);
    for (const auto& [k, v] : m) {
      ASSERT_EQ(t.Find(k), v);
      ASSERT_EQ(copy.Find(k), k == m.begin()->first ? 999999u : v);
    }
    size_t visited = 0;
    t.ForEach(
        [&](const char* raw, PersonKey v) {
          ++visited;
          EXPECT_EQ(t.FindRaw(raw), v);
        },
        [&](const std::string& k, PersonKey v) {
          ++visited;
          EXPECT_EQ(m.at(k), v);
        });
    EXPECT_EQ(visited, m.size());
  }
}

TEST(KeyTable, RawAndTextFormsAreTheSameKeyAndNoPersonIsRefused) {
  KeyTable t;
  const std::string hex = "00ff" + std::string(60, 'e');
  char raw[32];
  ASSERT_TRUE(KeyTable::ToRaw(hex, raw));
  EXPECT_EQ(static_cast<uint8_t>(raw[1]), 0xff);
  EXPECT_TRUE(t.Set(hex, 7));
  EXPECT_EQ(t.FindRaw(raw), 7u);
  EXPECT_FALSE(t.SetRaw(raw, 8, /*overwrite=*/false));
  EXPECT_EQ(t.Find(hex), 7u);
  EXPECT_FALSE(t.Set(hex, kNoPerson));
  EXPECT_EQ(t.Find(hex), 7u);
  EXPECT_FALSE(KeyTable::ToRaw("00FF" + std::string(60, 'e'), raw));
  EXPECT_EQ(t.Find("00FF" + std::string(60, 'e')), kNoPerson);
  EXPECT_EQ(t.size(), 1u);
  t.clear();
  EXPECT_EQ(t.Find(hex), kNoPerson);
  EXPECT_EQ(t.size(), 0u);
}

}  // namespace
}  // namespace ark::live
