#include "core/csv.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

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

// Opening with several threads checks and splits the body in parallel: the chunks cover the
// body, start on the right lines, and errors name the same place as a sequential open.
TEST(Csv, OpenWithThreadsSplitsIntoChunksOnTheRightLines) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("ark_csv_" + std::to_string(::getpid()) + ".csv")).string();
  auto write = [&](const std::string& text) { std::ofstream(path, std::ios::binary) << text; };
  std::string text = "id,name\n";
  for (int i = 0; i < 5000; ++i) text += std::to_string(i) + ",n\xC3\xA9" + std::to_string(i) + "\n";
  write(text);
  for (int threads : {1, 2, 3}) {
    auto f = CsvFile::Open(path, threads);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_EQ(f->chunks().size(), threads == 1 ? 1u : static_cast<size_t>(threads) * 4);
    std::string joined;
    int64_t rows = 0;
    for (size_t c = 0; c < f->chunks().size(); ++c) {
      joined += f->chunks()[c];
      CsvParser p(f->chunks()[c], f->chunk_first_lines()[c]);
      std::vector<std::string_view> row;
      int64_t n = 0;
      while (*p.Next(&row)) {
        EXPECT_EQ(p.line(), std::stoll(std::string(row[0])) + 2);  // data row i is on line i + 2
        ++n;
      }
      EXPECT_EQ(n, f->chunk_line_counts()[c]);
      rows += n;
    }
    EXPECT_EQ(joined, f->body());
    EXPECT_EQ(rows, 5000);
  }
  // A quote anywhere: one chunk (a quoted field may hold a line break).
  write(text + "5000,\"a\nb\"\n");
  auto q = CsvFile::Open(path, 2);
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(q->has_quotes());
  EXPECT_EQ(q->chunks().size(), 1u);
  // Bad UTF-8 deep in the file: the same line and byte from every thread count.
  std::string bad = text;
  bad.insert(bad.find("\n4321,") + 3, "\xFF");
  write(bad);
  for (int threads : {1, 2}) {
    auto b = CsvFile::Open(path, threads);
    ASSERT_FALSE(b.ok());
    EXPECT_NE(b.status().message().find("line 4323, byte 3: not valid UTF-8"), std::string::npos) << b.status().message();
  }
  // A body larger than one scan window (16 MiB), scanned a window at a time with each
  // window's pages dropped: the same chunks, line counts and rows, and bad UTF-8 in a late
  // window is still found at its line.
  std::string big = "id,name\n";
  const int big_rows = 1'200'000;  // about 20 MiB
  for (int i = 0; i < big_rows; ++i) big += std::to_string(i) + ",name" + std::to_string(i % 97) + "\xC3\xA9\n";
  write(big);
  for (int threads : {1, 2}) {
    auto f = CsvFile::Open(path, threads);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    ASSERT_GT(f->body().size(), size_t{16} << 20);
    EXPECT_EQ(f->chunks().size(), threads == 1 ? 1u : static_cast<size_t>(threads) * 4);
    EXPECT_FALSE(f->has_quotes());
    int64_t lines = 0;
    for (size_t c = 0; c < f->chunks().size(); ++c) {
      EXPECT_EQ(f->chunk_first_lines()[c], 2 + lines);
      EXPECT_EQ(f->chunk_line_counts()[c], CountLines(f->chunks()[c]));
      lines += f->chunk_line_counts()[c];
    }
    EXPECT_EQ(lines, big_rows);
    int64_t rows = 0;
    ASSERT_TRUE(f->ForEachRow([&](int64_t line, const std::vector<std::string_view>& row) {
      EXPECT_EQ(line, rows + 2);
      ++rows;
      return Status::OK();
    }).ok());
    EXPECT_EQ(rows, big_rows);
  }
  big.insert(big.find("\n1100000,") + 5, "\xC3");  // a cut UTF-8 sequence on line 1,100,002
  write(big);
  for (int threads : {1, 2}) {
    auto b = CsvFile::Open(path, threads);
    ASSERT_FALSE(b.ok());
    EXPECT_NE(b.status().message().find("line 1100002"), std::string::npos) << b.status().message();
  }
  // Header only: one empty chunk.
  write("id,name\n");
  auto h = CsvFile::Open(path, 2);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->chunks().size(), 1u);
  EXPECT_TRUE(h->chunks()[0].empty());
  std::filesystem::remove(path);
}

TEST(Csv, ForEachRowGivesLinesAndStopsAtTheFirstError) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("ark_csv_rows_" + std::to_string(::getpid()) + ".csv")).string();
  std::ofstream(path, std::ios::binary) << "a,b\n1,x\n\n2,y\n3\n";
  auto f = CsvFile::Open(path);
  ASSERT_TRUE(f.ok());
  std::vector<int64_t> lines;
  Status s = f->ForEachRow([&](int64_t line, const std::vector<std::string_view>& row) -> Status {
    lines.push_back(line);
    if (row[0] == "2") return Status::InvalidArgument("stop here");
    return Status::OK();
  });
  EXPECT_EQ(s.message(), "stop here");
  EXPECT_EQ(lines, (std::vector<int64_t>{2, 4}));
  // Without the stop, the short row on line 5 is the file's error.
  s = f->ForEachRow([](int64_t, const std::vector<std::string_view>&) { return Status::OK(); });
  EXPECT_NE(s.message().find(":5: expected 2 fields, found 1"), std::string::npos) << s.message();
  std::filesystem::remove(path);
}

TEST(Csv, WriteQuotesOnlyWhenNeeded) {
  std::string out;
  AppendCsvRow(&out, {"a", "b,c", "d\"e", ""});
  EXPECT_EQ(out, "a,\"b,c\",\"d\"\"e\",\n");
}

}  // namespace
}  // namespace ark
