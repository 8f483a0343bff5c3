#include "core/csv.h"

#include <algorithm>
#include <cstring>
#include <unordered_set>

namespace ark {

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

Result<CsvFile> CsvFile::Open(const std::string& path) {
  CsvFile f;
  f.path_ = path;
  ARK_ASSIGN_OR_RETURN(f.map_, MappedFile::Open(path, /*populate=*/true));
  std::string_view text = f.map_.view();
  if (text.empty()) return Status::InvalidArgument(path + ": empty file (no header row)");
  Status u = ValidateUtf8(text);
  if (!u.ok()) return Status::InvalidArgument(path + ": " + u.message());
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // BOM
  size_t nl = text.find('\n');
  std::string_view head = text.substr(0, nl == std::string_view::npos ? text.size() : nl + 1);
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
  f.has_quotes_ = std::memchr(f.body_.data(), '"', f.body_.size()) != nullptr;
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

int64_t CountLines(std::string_view text) {
  int64_t n = 0;
  const char* p = text.data();
  const char* e = p + text.size();
  while ((p = static_cast<const char*>(std::memchr(p, '\n', e - p))) != nullptr) { ++n; ++p; }
  return n;
}

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
