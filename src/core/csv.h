// CSV reading (RFC 4180): fields separated by ',', optionally enclosed in '"' with "" for a
// quote; records end with LF, CRLF or CR-less end of file. Files are memory-mapped and checked
// to be UTF-8 before parsing. Errors name the file, the line and, where known, the column.
//
// Example:
//   ARK_ASSIGN_OR_RETURN(CsvFile f, CsvFile::Open("events.csv"));
//   CsvParser p(f.body(), f.body_first_line());
//   std::vector<std::string_view> row;
//   for (;;) { ARK_ASSIGN_OR_RETURN(bool more, p.Next(&row)); if (!more) break; ... }
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ark/status.h"
#include "core/fs.h"

namespace ark {

// Checks that `text` is well-formed UTF-8. On failure the message gives the line and byte column.
Status ValidateUtf8(std::string_view text);

// Splits `text` into records. Not thread-safe; cheap to create, so use one per thread/chunk.
class CsvParser {
 public:
  explicit CsvParser(std::string_view text, int64_t first_line = 1)
      : text_(text), line_(first_line), next_line_(first_line) {}

  // Reads the next record into *fields (views into the text or into this parser's scratch, valid
  // until the next call). Returns false at end of input. Blank lines are skipped.
  Result<bool> Next(std::vector<std::string_view>* fields);
  // Line on which the last record returned by Next() started.
  int64_t line() const { return line_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int64_t line_;
  int64_t next_line_;
  std::deque<std::string> scratch_;
};

// A CSV file with a header row, memory-mapped and UTF-8 checked.
class CsvFile {
 public:
  // Errors: not found, not UTF-8, empty file (no header), duplicate column names.
  // With `threads` > 1 the body is checked on that many threads and split into chunks for
  // parallel parsing (see chunks()); with 1, it is one chunk.
  static Result<CsvFile> Open(const std::string& path, int threads = 1);

  const std::string& path() const { return path_; }
  const std::vector<std::string>& header() const { return header_; }
  // Index of `name` in the header, or -1.
  int ColumnIndex(std::string_view name) const;
  // The text after the header line, and the file line number it starts on.
  std::string_view body() const { return body_; }
  int64_t body_first_line() const { return body_line_; }
  // True if the body contains a '"' (then it must be parsed sequentially).
  bool has_quotes() const { return has_quotes_; }
  // The body split at line ends into pieces to parse in parallel (one piece when the file has
  // quotes, as a quoted field may hold a line break), each piece's first line number, and the
  // number of line ends in each.
  const std::vector<std::string_view>& chunks() const { return chunks_; }
  const std::vector<int64_t>& chunk_first_lines() const { return chunk_first_lines_; }
  const std::vector<int64_t>& chunk_line_counts() const { return chunk_line_counts_; }

  // Reads the next record of this file's body with `p` into *row, requiring one field per
  // header column. Returns false at the end; errors name the file and line
  // ("<path>:<line>: expected 5 fields, found 2").
  Result<bool> NextRow(CsvParser& p, std::vector<std::string_view>* row) const;
  // Calls fn(line, row) for each record of the body in order, checked as NextRow does; stops at
  // the first error, the file's or fn's.
  Status ForEachRow(const std::function<Status(int64_t line, const std::vector<std::string_view>& row)>& fn) const;

  // "<path>:<line>: column '<column>': <what>"
  Status Error(int64_t line, std::string_view column, std::string_view what) const;
  Status Error(int64_t line, std::string_view what) const;

 private:
  std::string path_;
  MappedFile map_;
  std::vector<std::string> header_;
  std::string_view body_;
  int64_t body_line_ = 2;
  bool has_quotes_ = false;
  std::vector<std::string_view> chunks_;
  std::vector<int64_t> chunk_first_lines_, chunk_line_counts_;
};

// Splits `body` into up to `n` pieces that each end at a line end. first_lines[i] is not known
// until counted; CountLines gives the number of '\n' in a piece.
std::vector<std::string_view> SplitAtLines(std::string_view body, int n);
int64_t CountLines(std::string_view text);

// Writes CSV: quotes a field only when it contains ',', '"', CR or LF.
void AppendCsvField(std::string* out, std::string_view field);
void AppendCsvRow(std::string* out, const std::vector<std::string_view>& fields);

}  // namespace ark
