#include "store/block_format.h"

#include <gtest/gtest.h>

#include "store/block_columns.h"
#include "store/store_test_util.h"

namespace ark::store {
namespace {

using testing::MakeData;
using testing::SameEvent;
using testing::SamePerson;

// Encodes persons [0, n) of `d` into one block and decodes it back.
void RoundTrip(const testing::Data& d, std::string* bytes) {
  BlockBuilder b(3);
  std::vector<Event> all;
  for (size_t k = 0; k < d.persons.size(); ++k) {
    b.Add(d.persons[k], d.events[k]);
    all.insert(all.end(), d.events[k].begin(), d.events[k].end());
  }
  BlockInfo info;
  ASSERT_TRUE(b.Finish(bytes, &info).ok());
  EXPECT_EQ(info.num_events, all.size());
  EXPECT_EQ(info.num_persons, d.persons.size());
  auto view = BlockView::Parse(bytes->data(), bytes->size());
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  std::vector<Event> events;
  std::vector<Person> persons;
  ASSERT_TRUE(view->DecodeEvents(&events).ok());
  ASSERT_TRUE(view->DecodePersons(&persons).ok());
  ASSERT_EQ(events.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) ASSERT_TRUE(SameEvent(events[i], all[i])) << "event " << i;
  for (size_t k = 0; k < persons.size(); ++k) ASSERT_TRUE(SamePerson(persons[k], d.persons[k]));
  for (uint32_t j = 0, pos = 0; j < persons.size(); ++j) {
    EXPECT_EQ(view->PersonStart(j), pos);
    pos += static_cast<uint32_t>(d.events[j].size());
  }
}

TEST(Block, RoundTripFewCodes) {
  std::string bytes;
  RoundTrip(MakeData(50, 40, 30, 1), &bytes);
}

TEST(Block, RoundTripManyCodesUsesEscapes) {
  const auto d = MakeData(300, 60, 2000, 2);
  std::string bytes;
  RoundTrip(d, &bytes);
  auto view = BlockView::Parse(bytes.data(), bytes.size());
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->num_hot(), 255u);
  EXPECT_GT(view->num_cold(), 0u);
}

TEST(Block, PersonsWithoutEvents) {
  auto d = MakeData(20, 5, 10, 3);
  for (auto& ev : d.events) ev.clear();
  d.events[7] = MakeData(1, 5, 10, 4).events[0];
  for (auto& e : d.events[7]) e.person = 7;
  std::string bytes;
  RoundTrip(d, &bytes);
}

TEST(Block, ExactDecimals) {
  EXPECT_EQ(ExactDecimals(5.0), 0);
  EXPECT_EQ(ExactDecimals(5.4), 1);
  EXPECT_EQ(ExactDecimals(5.35), 2);
  EXPECT_EQ(ExactDecimals(-0.0001), 4);
  EXPECT_EQ(ExactDecimals(0.1 + 0.2), -1);  // 0.30000000000000004
  EXPECT_EQ(ExactDecimals(-0.0), -1);       // the sign of zero must survive
  EXPECT_EQ(ExactDecimals(1e300), -1);
}

TEST(Block, ParseRejectsGarbage) {
  std::string bytes;
  RoundTrip(MakeData(10, 10, 10, 5), &bytes);
  EXPECT_FALSE(BlockView::Parse(bytes.data(), 100).ok());
  std::string bad = bytes;
  bad[0] ^= 1;
  EXPECT_EQ(BlockView::Parse(bad.data(), bad.size()).status().code(), StatusCode::kCorruption);
  bad = bytes;
  StoreU32(bad.data() + kStreamTableOffset + 8 * kCodes + 4, 1u << 30);  // codes stream size out of bounds
  EXPECT_FALSE(BlockView::Parse(bad.data(), bad.size()).ok());
}

}  // namespace
}  // namespace ark::store
