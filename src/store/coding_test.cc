#include "store/coding.h"

#include <gtest/gtest.h>

#include <random>

#include "store/crc32c.h"

namespace ark::store {
namespace {

TEST(Coding, VarintAndZigZagRoundTrip) {
  std::string buf;
  const std::vector<int64_t> values = {0, 1, -1, 63, -64, 1 << 20, -(int64_t{1} << 40), INT64_MAX, INT64_MIN};
  for (int64_t v : values) PutVarint(&buf, ZigZag(v));
  PutString(&buf, "hello");
  ByteReader r(buf);
  for (int64_t v : values) EXPECT_EQ(r.ZigZagVarint(), v);
  EXPECT_EQ(r.String(), "hello");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  r.U32();
  EXPECT_FALSE(r.ok());  // reading past the end fails, sticky
}

TEST(Coding, BitPackingRandomAccess) {
  std::mt19937 rng(7);
  for (int width = 0; width <= 32; ++width) {
    std::vector<uint32_t> v(1000);
    for (auto& x : v) x = width == 0 ? 0 : static_cast<uint32_t>(rng() & ((uint64_t{1} << width) - 1));
    std::string buf = "x";  // unaligned start
    PackBits(&buf, v.data(), v.size(), width);
    EXPECT_EQ(buf.size(), 1 + PackedSize(v.size(), width));
    const auto* base = reinterpret_cast<const uint8_t*>(buf.data() + 1);
    for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(UnpackBits(base, i, width), v[i]) << "width " << width;
  }
  EXPECT_EQ(BitsFor(0), 0);
  EXPECT_EQ(BitsFor(1), 1);
  EXPECT_EQ(BitsFor(255), 8);
  EXPECT_EQ(BitsFor(256), 9);
}

TEST(Crc32c, KnownValuesAndMasking) {
  EXPECT_EQ(Crc32c("123456789", 9), 0xe3069283u);
  EXPECT_EQ(Crc32c("", 0), 0u);
  std::string zeros(32, '\0');
  EXPECT_EQ(Crc32c(zeros), 0x8a9136aau);
  EXPECT_EQ(Crc32cExtend(Crc32c("1234", 4), "56789", 5), 0xe3069283u);
  EXPECT_EQ(UnmaskCrc(MaskCrc(0xdeadbeef)), 0xdeadbeefu);
  EXPECT_NE(MaskCrc(0xdeadbeef), 0xdeadbeefu);
}

}  // namespace
}  // namespace ark::store
