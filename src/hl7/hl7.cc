// HL7 v2 parsing and escapes (hl7.h).
#include "hl7/hl7.h"

#include <cctype>

#include <fmt/format.h>

namespace ark::hl7 {
namespace {

bool IsSegmentIdChar(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool IsSeparatorChar(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return u >= 0x21 && u <= 0x7e && !std::isalnum(u);
}

// Printable rendering of input text in error messages (control characters as \xHH, cut short).
std::string Printable(std::string_view s, size_t max = 40) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; i++) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7f) {
      out += fmt::format("\\x{:02X}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

// The `index`-th (0-based) piece of `text` split by `sep`; empty when absent.
std::string_view Piece(std::string_view text, char sep, int index) {
  if (index < 0) return {};
  size_t start = 0;
  for (int i = 0; i < index; i++) {
    size_t p = text.find(sep, start);
    if (p == std::string_view::npos) return {};
    start = p + 1;
  }
  size_t end = text.find(sep, start);
  return text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

// MSH-18 (first repetition, first component) as written in the raw first line.
std::string_view RawMsh18(std::string_view text, const Separators& sep) {
  std::string_view line = text.substr(0, text.find_first_of("\r\n"));
  size_t pos = 3;  // at MSH-1; the k-th field separator after it starts MSH-(k+2)
  for (int field = 3; field <= 18; field++) {
    pos = line.find(sep.field, pos + 1);
    if (pos == std::string_view::npos) return {};
  }
  std::string_view f = line.substr(pos + 1);
  f = f.substr(0, f.find(sep.field));
  f = f.substr(0, f.find(sep.repetition));
  return f.substr(0, f.find(sep.component));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string Unescape(std::string_view text, const Separators& sep, const Charset& cs) {
  if (text.find(sep.escape) == std::string_view::npos) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c != sep.escape) {
      out += c;
      i++;
      continue;
    }
    size_t close = text.find(sep.escape, i + 1);
    if (close == std::string_view::npos) {  // unterminated: keep as written
      out.append(text.substr(i));
      break;
    }
    std::string_view body = text.substr(i + 1, close - i - 1);
    bool known = true;
    if (body == "F") {
      out += sep.field;
    } else if (body == "S") {
      out += sep.component;
    } else if (body == "T") {
      out += sep.subcomponent;
    } else if (body == "R") {
      out += sep.repetition;
    } else if (body == "E") {
      out += sep.escape;
    } else if (body == ".br") {
      out += '\n';
    } else if (body == "H" || body == "N") {
      // highlighting on/off: no text
    } else if (body.size() >= 3 && body[0] == 'X' && (body.size() - 1) % 2 == 0) {
      std::string bytes;
      for (size_t k = 1; k < body.size() && known; k += 2) {
        int hi = HexValue(body[k]), lo = HexValue(body[k + 1]);
        if (hi < 0 || lo < 0) known = false;
        else bytes += static_cast<char>(hi * 16 + lo);
      }
      if (known) out += ToUtf8(bytes, cs);
    } else {
      known = false;
    }
    if (!known) out.append(text.substr(i, close - i + 1));  // unknown escape: verbatim
    i = close + 1;
  }
  return out;
}

std::string Escape(std::string_view text, const Separators& sep) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == sep.escape) out += {sep.escape, 'E', sep.escape};
    else if (c == sep.field) out += {sep.escape, 'F', sep.escape};
    else if (c == sep.component) out += {sep.escape, 'S', sep.escape};
    else if (c == sep.subcomponent) out += {sep.escape, 'T', sep.escape};
    else if (c == sep.repetition) out += {sep.escape, 'R', sep.escape};
    else if (c == '\r') out += std::string{sep.escape} + "X0D" + sep.escape;
    else if (c == '\n') out += std::string{sep.escape} + "X0A" + sep.escape;
    else out += c;
  }
  return out;
}

Result<Message> Message::Parse(std::string_view text) {
  // Skip leading blank lines (some senders put a newline before MSH).
  size_t start = 0;
  while (start < text.size() && (text[start] == '\r' || text[start] == '\n')) start++;
  text = text.substr(start);
  if (text.size() < 3 || text.substr(0, 3) != "MSH") {
    return Status::InvalidArgument(fmt::format("segment 1: message does not start with MSH (starts '{}')",
                                               Printable(text.substr(0, 8))));
  }
  if (text.size() < 8) {
    return Status::InvalidArgument("segment 1 (MSH), field 2: message too short for the separators");
  }
  if (text.size() > UINT32_MAX) return Status::InvalidArgument("message larger than 4 GiB");
  Message m;
  m.sep_.field = text[3];
  if (!IsSeparatorChar(m.sep_.field)) {
    return Status::InvalidArgument(
        fmt::format("segment 1 (MSH), field 1: bad field separator '{}'", Printable(text.substr(3, 1))));
  }
  size_t enc_end = 4;
  while (enc_end < text.size() && text[enc_end] != m.sep_.field && text[enc_end] != '\r' &&
         text[enc_end] != '\n') {
    enc_end++;
  }
  std::string_view enc = text.substr(4, enc_end - 4);
  if (enc.size() < 4 || enc.size() > 5) {
    return Status::InvalidArgument(fmt::format(
        "segment 1 (MSH), field 2: expected 4 encoding characters, got '{}'", Printable(enc)));
  }
  for (size_t i = 0; i < 4; i++) {
    if (!IsSeparatorChar(enc[i])) {
      return Status::InvalidArgument(
          fmt::format("segment 1 (MSH), field 2: bad encoding character '{}'", Printable(enc.substr(i, 1))));
    }
    if (enc[i] == m.sep_.field || enc.substr(0, i).find(enc[i]) != std::string_view::npos) {
      return Status::InvalidArgument(
          fmt::format("segment 1 (MSH), field 2: encoding characters '{}' repeat a separator", Printable(enc)));
    }
  }
  m.sep_.component = enc[0];
  m.sep_.repetition = enc[1];
  m.sep_.escape = enc[2];
  m.sep_.subcomponent = enc[3];

  ARK_ASSIGN_OR_RETURN(m.charset_, CharsetFor(RawMsh18(text, m.sep_), text));
  m.text_ = ToUtf8(text, m.charset_);
  if (m.text_.size() > UINT32_MAX) return Status::InvalidArgument("message larger than 4 GiB");
  m.segments_.reserve(8);
  const std::string& t = m.text_;
  size_t pos = 0;
  while (pos < t.size()) {
    size_t end = pos;  // (a plain loop: find_first_of with a set is several times slower)
    while (end < t.size() && t[end] != '\r' && t[end] != '\n') end++;
    if (end > pos) {
      int number = static_cast<int>(m.segments_.size()) + 1;
      std::string_view line(t.data() + pos, end - pos);
      size_t id_len = line.find(m.sep_.field);
      if (id_len == std::string_view::npos) id_len = line.size();
      std::string_view id = line.substr(0, id_len);
      bool id_ok = id.size() == 3;
      for (char c : id) id_ok = id_ok && IsSegmentIdChar(c);
      if (!id_ok) {
        return Status::InvalidArgument(
            fmt::format("segment {}: bad segment id '{}'", number, Printable(id, 10)));
      }
      Segment seg;
      size_t seps = 0;
      for (char c : line) seps += c == m.sep_.field;
      seg.fields.reserve(seps + 2);
      seg.id = {static_cast<uint32_t>(pos), 3};
      seg.fields.push_back(seg.id);
      size_t fpos = pos + 3;
      if (number == 1) {
        if (id != "MSH") {
          return Status::InvalidArgument(fmt::format("segment 1: expected MSH, got '{}'", Printable(id)));
        }
        seg.fields.push_back({static_cast<uint32_t>(pos + 3), 1});                     // MSH-1
        seg.fields.push_back({static_cast<uint32_t>(pos + 4), static_cast<uint32_t>(enc.size())});  // MSH-2
        fpos = pos + 4 + enc.size();
      } else if (id == "MSH") {
        return Status::InvalidArgument(
            fmt::format("segment {} (MSH): second MSH in one message (messages not separated?)", number));
      }
      // fpos is at a field separator or the end of the line.
      while (fpos < end) {
        size_t fstart = fpos + 1;
        size_t fend = t.find(m.sep_.field, fstart);
        if (fend == std::string::npos || fend > end) fend = end;
        seg.fields.push_back({static_cast<uint32_t>(fstart), static_cast<uint32_t>(fend - fstart)});
        fpos = fend;
      }
      m.segments_.push_back(std::move(seg));
    }
    pos = end + 1;
  }
  if (m.type().empty()) {
    return Status::InvalidArgument("segment 1 (MSH), field 9: missing message type");
  }
  if (m.control_id().empty()) {
    return Status::InvalidArgument("segment 1 (MSH), field 10: missing message control id");
  }
  return m;
}

int Message::IndexOf(std::string_view seg, int occurrence) const {
  int seen = 0;
  for (size_t i = 0; i < segments_.size(); i++) {
    const Span& id = segments_[i].id;
    if (std::string_view(text_.data() + id.pos, id.len) == seg) {
      if (seen == occurrence) return static_cast<int>(i);
      seen++;
    }
  }
  return -1;
}

const Message::Segment* Message::Find(std::string_view seg, int occurrence) const {
  int i = IndexOf(seg, occurrence);
  return i < 0 ? nullptr : &segments_[i];
}

std::string_view Message::FieldText(const Segment& s, int field) const {
  if (field < 0 || static_cast<size_t>(field) >= s.fields.size()) return {};
  const Span& sp = s.fields[field];
  return std::string_view(text_.data() + sp.pos, sp.len);
}

std::string Message::Extract(std::string_view f, int comp, int rep, int sub) const {
  std::string_view r = Piece(f, sep_.repetition, rep);
  std::string_view c = Piece(r, sep_.component, comp - 1);
  std::string_view s = Piece(c, sep_.subcomponent, sub - 1);
  return Unescape(s, sep_, charset_);
}

std::vector<std::string_view> Message::RepetitionTexts(int index, int field) const {
  std::vector<std::string_view> out;
  if (index < 0 || index >= segment_count() || field < 1) return out;
  std::string_view f = FieldText(segments_[index], field);
  if (f.empty()) return out;
  if (index == 0 && (field == 1 || field == 2)) return {f};
  size_t start = 0;
  for (;;) {
    size_t end = f.find(sep_.repetition, start);
    out.push_back(f.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

std::string Message::ComponentOf(std::string_view repetition, int comp, int sub) const {
  if (comp < 1 || sub < 1) return {};
  return Unescape(Piece(Piece(repetition, sep_.component, comp - 1), sep_.subcomponent, sub - 1), sep_, charset_);
}

std::string Message::Get(std::string_view seg, int field, int comp, int rep, int sub, int occurrence) const {
  int i = IndexOf(seg, occurrence);
  if (i < 0) return {};
  return GetAt(i, field, comp, rep, sub);
}

std::string Message::GetAt(int index, int field, int comp, int rep, int sub) const {
  if (index < 0 || index >= segment_count() || field < 1 || comp < 1 || rep < 0 || sub < 1) return {};
  const Segment& s = segments_[index];
  std::string_view f = FieldText(s, field);
  if (index == 0 && (field == 1 || field == 2)) return std::string(f);  // MSH-1, MSH-2 verbatim
  return Extract(f, comp, rep, sub);
}

std::string_view Message::Raw(std::string_view seg, int field, int occurrence) const {
  return RawAt(IndexOf(seg, occurrence), field);
}

std::string_view Message::RawAt(int index, int field) const {
  if (index < 0 || index >= segment_count()) return {};
  return FieldText(segments_[index], field);
}

int Message::Count(std::string_view seg) const {
  int n = 0;
  for (const Segment& s : segments_) n += std::string_view(text_.data() + s.id.pos, s.id.len) == seg;
  return n;
}

int Message::Repetitions(std::string_view seg, int field, int occurrence) const {
  return RepetitionsAt(IndexOf(seg, occurrence), field);
}

int Message::RepetitionsAt(int index, int field) const {
  if (index < 0 || index >= segment_count() || field < 1) return 0;
  std::string_view f = FieldText(segments_[index], field);
  if (f.empty()) return 0;
  if (index == 0 && (field == 1 || field == 2)) return 1;
  int n = 1;
  for (char c : f) n += c == sep_.repetition;
  return n;
}

std::string_view Message::segment_id(int index) const {
  if (index < 0 || index >= segment_count()) return {};
  const Span& id = segments_[index].id;
  return std::string_view(text_.data() + id.pos, id.len);
}

std::string_view Message::type() const {
  if (segments_.empty()) return {};
  return Piece(Piece(FieldText(segments_[0], 9), sep_.repetition, 0), sep_.component, 0);
}
std::string_view Message::trigger() const {
  if (segments_.empty()) return {};
  return Piece(Piece(FieldText(segments_[0], 9), sep_.repetition, 0), sep_.component, 1);
}
std::string_view Message::control_id() const {
  if (segments_.empty()) return {};
  return FieldText(segments_[0], 10);
}
std::string_view Message::version() const {
  if (segments_.empty()) return {};
  return Piece(Piece(FieldText(segments_[0], 12), sep_.repetition, 0), sep_.component, 0);
}

}  // namespace ark::hl7
