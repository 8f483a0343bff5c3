#include "live/window_set.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <unordered_set>

namespace ark::live {
namespace {

// Random inserts, lookups and sliding-window erases agree with std::unordered_set, including
// with many colliding homes (small value range) and the value 0.
TEST(WindowSet, AgreesWithUnorderedSet) {
  for (uint64_t range : {uint64_t{64}, uint64_t{5000}, ~uint64_t{0}}) {
    std::mt19937_64 rng(range);
    WindowSet a;
    std::unordered_set<uint64_t> b;
    std::deque<uint64_t> order;
    for (int i = 0; i < 200000; ++i) {
      const uint64_t h = range == ~uint64_t{0} ? rng() : rng() % range;
      const bool fresh = a.insert(h);
      ASSERT_EQ(fresh, b.insert(h).second) << i;
      if (fresh) order.push_back(h);
      while (order.size() > 1000) {
        a.erase(order.front());
        b.erase(order.front());
        order.pop_front();
      }
      const uint64_t q = range == ~uint64_t{0} ? (i % 2 ? h : rng()) : rng() % range;
      ASSERT_EQ(a.count(q), b.count(q) == 1) << i;
      ASSERT_EQ(a.size(), b.size());
    }
    for (uint64_t h : order) EXPECT_TRUE(a.count(h));
  }
}

}  // namespace
}  // namespace ark::live
