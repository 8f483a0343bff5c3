#include "core/fs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace ark {
namespace {

// PwriteFull writes every byte where asked; PreadFull reads them back, and says how many it got
// when the file ends first; a read on a bad descriptor is an error naming the path.
TEST(Fs, PwriteFullAndPreadFull) {
  const std::string path = ::testing::TempDir() + "ark_fs_pread_test";
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  const std::string text(100000, 'x');
  ASSERT_TRUE(PwriteFull(fd, 10, text.data(), text.size(), path).ok());
  std::string back(text.size(), '\0');
  auto got = PreadFull(fd, 10, back.data(), back.size(), path);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, text.size());
  EXPECT_EQ(back, text);
  auto tail = PreadFull(fd, 100000, back.data(), 100, path);  // 10 bytes before the end
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(*tail, 10u);
  ::close(fd);
  ::unlink(path.c_str());
  auto bad = PreadFull(-1, 0, back.data(), 1, path);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(path + ": read:"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace ark
