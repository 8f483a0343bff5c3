#include "live/window_set.h"

#include <gtest/gtest.h>

#include <algorithm>
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

// The window remembers the last `capacity` distinct hashes: membership and order (oldest first)
// agree with a deque model through wrap-around, and a copy of the order rebuilds the same window.
TEST(RetransmitWindow, KeepsTheLastNInOrder) {
  for (size_t capacity : {size_t{1}, size_t{7}, size_t{1000}}) {
    std::mt19937_64 rng(capacity);
    RetransmitWindow w(capacity);
    std::deque<uint64_t> model;
    for (int i = 0; i < 20000; ++i) {
      const uint64_t h = rng() % 3000;
      const bool known = std::find(model.begin(), model.end(), h) != model.end();
      ASSERT_EQ(w.Remember(h), !known) << i;
      if (!known) model.push_back(h);
      if (model.size() > capacity) model.pop_front();
      ASSERT_EQ(w.size(), model.size());
      const uint64_t q = rng() % 3000;
      ASSERT_EQ(w.count(q), std::find(model.begin(), model.end(), q) != model.end()) << i;
    }
    std::vector<uint64_t> order;
    w.AppendOrder(&order);
    EXPECT_EQ(order, std::vector<uint64_t>(model.begin(), model.end()));
    RetransmitWindow again(capacity);
    for (uint64_t h : order) again.Remember(h);
    std::vector<uint64_t> order2;
    again.AppendOrder(&order2);
    EXPECT_EQ(order2, order);
  }
}

}  // namespace
}  // namespace ark::live
