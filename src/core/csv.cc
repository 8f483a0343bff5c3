#include "core/csv.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <thread>
#include <unordered_set>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ark {
namespace {

// One pass over a piece of text: its line ends, whether it holds a '"', and whether every byte
// is ASCII (then it is valid UTF-8 without further checks).
struct PieceScan {
  int64_t lines = 0;
  bool quote = false, ascii = true;
};

// The most bytes CsvFile::Open scans at once before dropping the pages it read (see Open).
constexpr size_t kScanWindowBytes = size_t{16} << 20;

PieceScan ScanPiece(std::string_view s) {
  PieceScan r;
  const char* p = s.data();
  const char* e = p + s.size();
#if defined(__SSE2__)
  const __m128i nl = _mm_set1_epi8('\n'), qt = _mm_set1_epi8('"');
  int high = 0, quotes = 0;
  for (; p + 16 <= e; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    high |= _mm_movemask_epi8(v);
    quotes |= _mm_movemask_epi8(_mm_cmpeq_epi8(v, qt));
    r.lines += __builtin_popcount(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl))));
  }
  r.ascii = high == 0;
  r.quote = quotes != 0;
#endif
  for (; p < e; ++p) {
    r.lines += *p == '\n';
    r.quote |= *p == '"';
    r.ascii &= static_cast<unsigned char>(*p) < 0x80;
  }
  return r;
}

}  // namespace

Status ValidateUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // Fast path: 8 ASCII bytes at a time.
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    const unsigned char c = p[i];
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    bool ok = len != 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) ok = false;
      else cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (ok) {
      if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
          (cp >= 0xD800 && cp <= 0xDFFF)) ok = false;
    }
    if (!ok) {
      std::string_view before = s.substr(0, i);
      const int64_t line = 1 + CountLines(before);
      const size_t nl = before.rfind('\n');
      const size_t col = nl == std::string_view::npos ? i + 1 : i - nl;
      return Status::InvalidArgument("line " + std::to_string(line) + ", byte " + std::to_string(col) +
                                     ": not valid UTF-8");
    }
    i += len;
  }
  return Status::OK();
}

Result<bool> CsvParser::Next(std::vector<std::string_view>* fields) {
  fields->clear();
  scratch_.clear();
  // Skip blank lines.
  while (pos_ < text_.size() && (text_[pos_] == '\n' || text_[pos_] == '\r')) {
    if (text_[pos_] == '\n') ++next_line_;
    ++pos_;
  }
  if (pos_ >= text_.size()) return false;
  line_ = next_line_;
  const char* s = text_.data();
  const size_t n = text_.size();
  for (;;) {
    if (pos_ < n && s[pos_] == '"') {
      // Quoted field.
      size_t i = pos_ + 1;
      std::string* buf = nullptr;
      size_t run = i;
      for (;;) {
        const void* q = std::memchr(s + i, '"', n - i);
        if (q == nullptr) {
          return Status::InvalidArgument("line " + std::to_string(line_) + ": unterminated quoted field");
        }
        size_t qi = static_cast<const char*>(q) - s;
        for (size_t k = i; k < qi; ++k) if (s[k] == '\n') ++next_line_;
        if (qi + 1 < n && s[qi + 1] == '"') {
          if (buf == nullptr) { scratch_.emplace_back(); buf = &scratch_.back(); }
          buf->append(s + run, qi + 1 - run);
          i = qi + 2;
          run = i;
          continue;
        }
        if (buf != nullptr) {
          buf->append(s + run, qi - run);
          fields->emplace_back(*buf);
        } else {
          fields->emplace_back(s + pos_ + 1, qi - pos_ - 1);
        }
        pos_ = qi + 1;
        break;
      }
      if (pos_ < n && s[pos_] != ',' && s[pos_] != '\n' && s[pos_] != '\r') {
        return Status::InvalidArgument("line " + std::to_string(line_) + ": text after a closing quote");
      }
    } else {
      size_t i = pos_;
      while (i < n && s[i] != ',' && s[i] != '\n') ++i;
      size_t end = i;
      if (end > pos_ && s[end - 1] == '\r' && (i == n || s[i] == '\n')) --end;
      fields->emplace_back(s + pos_, end - pos_);
      pos_ = i;
    }
    if (pos_ >= n) return true;
    if (s[pos_] == ',') { ++pos_; continue; }
    if (s[pos_] == '\r') ++pos_;
    if (pos_ < n && s[pos_] == '\n') { ++pos_; ++next_line_; }
    return true;
  }
}

Result<CsvFile> CsvFile::Open(const std::string& path, int threads) {
  CsvFile f;
  f.path_ = path;
  threads = std::max(1, threads);
  // One thread and a small file: map the whole file up front. Otherwise let the scan fault it in
  // a window at a time (a populated map of a large file would be resident whole).
  std::error_code size_error;
  const uintmax_t file_size = std::filesystem::file_size(path, size_error);
  const bool populate = threads == 1 && !size_error && file_size <= kScanWindowBytes;
  ARK_ASSIGN_OR_RETURN(f.map_, MappedFile::Open(path, populate));
  const std::string_view whole = f.map_.view();
  if (whole.empty()) return Status::InvalidArgument(path + ": empty file (no header row)");
  // Bad UTF-8 anywhere: the exact position comes from one sequential pass over the whole file,
  // run only then.
  auto bad_utf8 = [&]() -> Status {
    Status u = ValidateUtf8(whole);
    return Status::InvalidArgument(path + ": " + (u.ok() ? std::string("not valid UTF-8") : u.message()));
  };
  std::string_view text = whole;
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // BOM
  size_t nl = text.find('\n');
  std::string_view head = text.substr(0, nl == std::string_view::npos ? text.size() : nl + 1);
  if (!ValidateUtf8(head).ok()) return bad_utf8();
  CsvParser hp(head);
  std::vector<std::string_view> cols;
  auto r = hp.Next(&cols);
  if (!r.ok()) return Status::InvalidArgument(path + ":1: " + r.status().message());
  if (!*r) return Status::InvalidArgument(path + ": empty file (no header row)");
  std::unordered_set<std::string_view> seen;
  for (auto c : cols) {
    if (!seen.insert(c).second) return Status::InvalidArgument(path + ":1: duplicate column '" + std::string(c) + "'");
    f.header_.emplace_back(c);
  }
  f.body_ = text.substr(head.size());
  // The body is scanned in pieces on `threads` threads: UTF-8, line ends and quotes at once.
  // Each piece is scanned in windows of at most about kScanWindowBytes split at line ends (a
  // line end is never inside a UTF-8 sequence); in a body larger than one window, each window's
  // pages are dropped once scanned, so that the scan does not leave the whole file resident.
  std::vector<std::string_view> pieces = SplitAtLines(f.body_, threads == 1 ? 1 : threads * 4);
  struct Window {
    size_t piece;
    std::string_view text;
  };
  std::vector<Window> windows;
  for (size_t c = 0; c < pieces.size(); ++c) {
    const int n = static_cast<int>(std::max<size_t>(1, (pieces[c].size() + kScanWindowBytes - 1) / kScanWindowBytes));
    for (std::string_view w : SplitAtLines(pieces[c], n)) windows.push_back({c, w});
  }
  const bool drop = f.body_.size() > kScanWindowBytes;
  std::vector<PieceScan> window_scans(windows.size());
  std::vector<char> utf8_ok(windows.size(), 1);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t w; (w = next++) < windows.size();) {
      window_scans[w] = ScanPiece(windows[w].text);
      if (!window_scans[w].ascii) utf8_ok[w] = ValidateUtf8(windows[w].text).ok();
      if (drop) MappedFile::DropPages(windows[w].text);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads && windows.size() > 1; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  std::vector<PieceScan> scans(pieces.size());
  int64_t lines = 0;
  for (size_t w = 0; w < windows.size(); ++w) {
    if (!utf8_ok[w]) return bad_utf8();
    PieceScan& sc = scans[windows[w].piece];
    sc.lines += window_scans[w].lines;
    sc.quote |= window_scans[w].quote;
    f.has_quotes_ |= window_scans[w].quote;
    lines += window_scans[w].lines;
  }
  if (f.has_quotes_ || pieces.empty()) {
    f.chunks_.assign(1, f.body_);
    f.chunk_line_counts_.assign(1, lines);
  } else {
    f.chunks_ = std::move(pieces);
    for (auto& sc : scans) f.chunk_line_counts_.push_back(sc.lines);
  }
  int64_t line = f.body_line_;
  for (int64_t n : f.chunk_line_counts_) {
    f.chunk_first_lines_.push_back(line);
    line += n;
  }
  return f;
}

int CsvFile::ColumnIndex(std::string_view name) const {
  for (size_t i = 0; i < header_.size(); ++i) if (header_[i] == name) return static_cast<int>(i);
  return -1;
}

Result<bool> CsvFile::NextRow(CsvParser& p, std::vector<std::string_view>* row) const {
  auto more = p.Next(row);
  if (!more.ok()) return Error(p.line(), more.status().message());
  if (*more && row->size() != header_.size()) {
    return Error(p.line(), "expected " + std::to_string(header_.size()) + " fields, found " + std::to_string(row->size()));
  }
  return more;
}

Status CsvFile::ForEachRow(const std::function<Status(int64_t, const std::vector<std::string_view>&)>& fn) const {
  CsvParser p(body_, body_line_);
  std::vector<std::string_view> row;
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool more, NextRow(p, &row));
    if (!more) return Status::OK();
    ARK_RETURN_IF_ERROR(fn(p.line(), row));
  }
}

Status CsvFile::Error(int64_t line, std::string_view column, std::string_view what) const {
  return Status::InvalidArgument(path_ + ":" + std::to_string(line) + ": column '" + std::string(column) +
                                 "': " + std::string(what));
}

Status CsvFile::Error(int64_t line, std::string_view what) const {
  return Status::InvalidArgument(path_ + ":" + std::to_string(line) + ": " + std::string(what));
}

std::vector<std::string_view> SplitAtLines(std::string_view body, int n) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (int k = 1; k <= n && start < body.size(); ++k) {
    size_t end = k == n ? body.size() : std::max(start, body.size() * k / n);
    if (end < body.size()) {
      size_t nl = body.find('\n', end);
      end = nl == std::string_view::npos ? body.size() : nl + 1;
    }
    if (end > start) out.push_back(body.substr(start, end - start));
    start = end;
  }
  return out;
}

int64_t CountLines(std::string_view text) { return ScanPiece(text).lines; }

void AppendCsvField(std::string* out, std::string_view f) {
  if (f.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(f);
    return;
  }
  out->push_back('"');
  for (char c : f) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendCsvRow(std::string* out, const std::vector<std::string_view>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out->push_back(',');
    AppendCsvField(out, fields[i]);
  }
  out->push_back('\n');
}

}  // namespace ark
