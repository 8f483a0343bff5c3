#include "link/blocking_store.h"

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "link/outcome_testing.h"

namespace ark {
namespace {

uint64_t KeyOf(size_t record, size_t column) { return (record + 1) * 1000003 + column * 7919; }

// Columns read back as appended, in memory and in a file, across the file's blocks of records.
TEST(KeyColumns, ColumnsReadBackAsAppended) {
  const std::string dir = LinkTestDir("key_columns");
  for (const std::string& where : {std::string(), dir}) {
    auto cols = KeyColumns::Create(3, where);
    ASSERT_TRUE(cols.ok()) << cols.status().message();
    const size_t n = 150000;  // two whole blocks of 65,536 records and part of a third
    for (size_t i = 0; i < n; ++i) {
      const uint64_t k[3] = {KeyOf(i, 0), KeyOf(i, 1), KeyOf(i, 2)};
      ASSERT_TRUE((*cols)->Append(k).ok());
    }
    std::vector<uint64_t> col;
    EXPECT_FALSE((*cols)->Read(0, &col).ok());  // before Finish
    ASSERT_TRUE((*cols)->Finish().ok());
    EXPECT_EQ((*cols)->size(), n);
    for (size_t c = 0; c < 3; ++c) {
      ASSERT_TRUE((*cols)->Read(c, &col).ok());
      ASSERT_EQ(col.size(), n);
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(col[i], KeyOf(i, c)) << "record " << i << " column " << c;
    }
    EXPECT_FALSE((*cols)->Read(3, &col).ok());
    const uint64_t k[3] = {1, 2, 3};
    EXPECT_FALSE((*cols)->Append(k).ok());  // after Finish
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir));  // the file is unnamed: nothing is left behind
  EXPECT_FALSE(KeyColumns::Create(2, dir + "/no/such/folder").ok());
  EXPECT_FALSE(KeyColumns::Create(0, "").ok());
  std::filesystem::remove_all(dir);
}

// Blocks come back in the order added, with their rules and members, in memory and in a file,
// including a block larger than the piece the file is read in, and again on a second pass.
TEST(BlockStream, BlocksComeBackInOrderEveryPass) {
  const std::string dir = LinkTestDir("block_stream");
  std::vector<std::pair<uint32_t, std::vector<uint32_t>>> want;
  uint32_t next = 0;
  for (uint32_t b = 0; b < 200000; ++b) {
    const uint32_t size = 2 + b % 9;
    std::vector<uint32_t> m;
    for (uint32_t j = 0; j < size; ++j) m.push_back(next + j * 3);
    next += 5;
    want.emplace_back(b % 18, std::move(m));
  }
  std::vector<uint32_t> huge(5u << 20);  // more words than a piece (4 Mi words)
  for (uint32_t j = 0; j < huge.size(); ++j) huge[j] = j;
  want.insert(want.begin() + 100000, {7u, huge});
  for (const std::string& where : {std::string(), dir}) {
    auto s = BlockStream::Create(where);
    ASSERT_TRUE(s.ok()) << s.status().message();
    for (auto& [rule, m] : want) ASSERT_TRUE((*s)->Add(rule, m).ok());
    EXPECT_FALSE((*s)->Add(1, {}).ok());  // an empty block
    EXPECT_FALSE((*s)->ForEach([](uint32_t, std::span<const uint32_t>) {}).ok());  // before Finish
    ASSERT_TRUE((*s)->Finish().ok());
    EXPECT_EQ((*s)->blocks(), want.size());
    for (int pass = 0; pass < 2; ++pass) {
      size_t at = 0;
      bool same = true;
      ASSERT_TRUE((*s)->ForEach([&](uint32_t rule, std::span<const uint32_t> m) {
                       same = same && at < want.size() && rule == want[at].first &&
                              std::equal(m.begin(), m.end(), want[at].second.begin(), want[at].second.end());
                       ++at;
                     }).ok());
      EXPECT_TRUE(same) << (where.empty() ? "memory" : "file") << ", pass " << pass;
      EXPECT_EQ(at, want.size());
    }
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  EXPECT_FALSE(BlockStream::Create(dir + "/no/such/folder").ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ark
