#include "disclosure/opensafely.h"

#include <gtest/gtest.h>

namespace ark::sdc {

TEST(OpenSafelyRules, SpecVectors) {
  EXPECT_FALSE(PublishCount(0)->has_value());
  EXPECT_FALSE(PublishCount(6)->has_value());
  EXPECT_FALSE(PublishCount(7)->has_value());
  EXPECT_EQ(PublishCount(8)->value(), 10);
  EXPECT_EQ(PublishCount(12)->value(), 10);
  EXPECT_EQ(PublishCount(13)->value(), 15);
  EXPECT_EQ(PublishCount(16)->value(), 15);
  EXPECT_EQ(PublishCount(23)->value(), 25);
  EXPECT_FALSE(PublishCount(-1).ok());
}

TEST(OpenSafelyRules, RatesFromRoundedCounts) {
  auto n = *PublishCount(13), d = *PublishCount(1002);
  EXPECT_DOUBLE_EQ(*PublishRate(n, d, 1000), 1000.0 * 15 / 1000);
  EXPECT_FALSE(PublishRate(*PublishCount(5), d, 1000).has_value());
  EXPECT_EQ(Show(std::nullopt), "[REDACTED]");
}

}  // namespace ark::sdc
