#include "core/csv.h"

#include <gtest/gtest.h>

namespace ark {
namespace {

std::vector<std::vector<std::string>> ParseAll(std::string_view text) {
  CsvParser p(text);
  std::vector<std::string_view> row;
  std::vector<std::vector<std::string>> out;
  for (;;) {
    auto r = p.Next(&row);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || !*r) break;
    out.emplace_back(row.begin(), row.end());
  }
  return out;
}

TEST(Csv, PlainQuotedAndLineEnds) {
  auto rows = ParseAll("a,b,c\r\n1,\"x,y\",\"say \"\"hi\"\"\"\n\n2,,\"multi\nline\"");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"1", "x,y", "say \"hi\""}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"2", "", "multi\nline"}));
}

TEST(Csv, LineNumbersCountBlankAndQuotedLines) {
  CsvParser p("a\n\"x\ny\"\n\nb\n");
  std::vector<std::string_view> row;
  ASSERT_TRUE(*p.Next(&row));
  EXPECT_EQ(p.line(), 1);
  ASSERT_TRUE(*p.Next(&row));
  EXPECT_EQ(p.line(), 2);
  ASSERT_TRUE(*p.Next(&row));
  EXPECT_EQ(p.line(), 5);
  EXPECT_EQ(row[0], "b");
}

TEST(Csv, Errors) {
  std::vector<std::string_view> row;
  CsvParser p("a,\"unterminated\n");
  EXPECT_FALSE(p.Next(&row).ok());
  CsvParser q("a,\"x\"y\n");
  EXPECT_FALSE(q.Next(&row).ok());
}

TEST(Csv, Utf8) {
  EXPECT_TRUE(ValidateUtf8("plain, \xC3\xA9t\xC3\xA9, \xE2\x80\x94").ok());
  Status s = ValidateUtf8("ok\nbad \xFF here");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("line 2"), std::string::npos);
  EXPECT_FALSE(ValidateUtf8("\xC0\xAF").ok());      // overlong
  EXPECT_FALSE(ValidateUtf8("\xED\xA0\x80").ok());  // surrogate
  EXPECT_FALSE(ValidateUtf8("\xE2\x80").ok());      // truncated
}

TEST(Csv, SplitAtLinesCoversEverything) {
  std::string body;
  for (int i = 0; i < 1000; ++i) body += std::to_string(i) + ",x\n";
  for (int n : {1, 2, 3, 7, 64}) {
    auto parts = SplitAtLines(body, n);
    std::string joined;
    for (auto p : parts) {
      joined += p;
      EXPECT_EQ(p.back(), '\n');
    }
    EXPECT_EQ(joined, body);
  }
}

TEST(Csv, WriteQuotesOnlyWhenNeeded) {
  std::string out;
  AppendCsvRow(&out, {"a", "b,c", "d\"e", ""});
  EXPECT_EQ(out, "a,\"b,c\",\"d\"\"e\",\n");
}

}  // namespace
}  // namespace ark
