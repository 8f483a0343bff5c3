// HL7 v2 character sets (charset.h).
#include "hl7/charset.h"

#include <iconv.h>

#include <cctype>
#include <cerrno>

#include <fmt/format.h>

namespace ark::hl7 {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], 0 when the bytes there are not one.
size_t Utf8SequenceAt(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; k++) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
    return 0;
  return n;
}

void AppendLatin1(unsigned char c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

bool HasHighByte(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

std::string Normalise(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  std::string out;
  for (char c : s) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// iconv from `from` to `to` over `in`; a byte sequence that does not convert is replaced by
// `bad` and skipped (`skip` returns how many input bytes to skip there).
std::string Iconv(const std::string& to, const std::string& from, std::string_view in, std::string_view bad,
                  size_t (*skip)(std::string_view, size_t)) {
  iconv_t cd = iconv_open(to.c_str(), from.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return std::string(bad);
  std::string out;
  out.reserve(in.size() * 2);
  char* ip = const_cast<char*>(in.data());
  size_t left = in.size();
  char buf[4096];
  while (left > 0) {
    char* op = buf;
    size_t room = sizeof buf;
    const size_t r = iconv(cd, &ip, &left, &op, &room);
    out.append(buf, static_cast<size_t>(op - buf));
    if (r == static_cast<size_t>(-1) && errno != E2BIG) {  // EILSEQ, EINVAL: skip the bad bytes
      out.append(bad);
      const size_t k = std::min(left, std::max<size_t>(1, skip(std::string_view(ip, left), 0)));
      ip += k;
      left -= k;
      iconv(cd, nullptr, nullptr, nullptr, nullptr);
    }
  }
  iconv_close(cd);
  return out;
}

size_t SkipOne(std::string_view, size_t) { return 1; }
size_t SkipUtf8(std::string_view s, size_t i) {
  const size_t n = Utf8SequenceAt(s, i);
  return n == 0 ? 1 : n;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8SequenceAt(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

Result<Charset> CharsetFor(std::string_view msh18, std::string_view bytes) {
  Charset cs;
  cs.declared = std::string(msh18);
  const std::string name = Normalise(msh18);
  if (name.empty() || name == "ASCII") {
    cs.kind = HasHighByte(bytes) && IsValidUtf8(bytes) ? Charset::Kind::kUtf8 : Charset::Kind::kLatin1;
    return cs;
  }
  if (name == "8859/1" || name == "ISO IR100" || name == "ISO_IR 100") {
    cs.kind = Charset::Kind::kLatin1;
    return cs;
  }
  if (name == "UNICODE UTF-8") {
    cs.kind = Charset::Kind::kUtf8;
    return cs;
  }
  cs.kind = Charset::Kind::kIconv;
  if (name.size() == 6 && name.rfind("8859/", 0) == 0 && name[5] >= '2' && name[5] <= '9') {
    cs.iconv = std::string("ISO-8859-") + name[5];
  } else if (name == "8859/15") {
    cs.iconv = "ISO-8859-15";
  } else if (name == "GB 18030-2000") {
    cs.iconv = "GB18030";
  } else if (name == "BIG-5") {
    cs.iconv = "BIG5";
  } else if (name == "KS X 1001") {
    cs.iconv = "EUC-KR";
  } else {
    return Status::InvalidArgument(fmt::format(
        "segment 1 (MSH), field 18: unsupported character set '{}' (Ark reads ASCII, 8859/1-9, "
        "8859/15, UNICODE UTF-8, GB 18030-2000, BIG-5, KS X 1001)",
        std::string(msh18.substr(0, 40))));
  }
  iconv_t cd = iconv_open("UTF-8", cs.iconv.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    return Status::InvalidArgument(fmt::format(
        "segment 1 (MSH), field 18: unsupported character set '{}': not available on this system (iconv {})",
        std::string(msh18), cs.iconv));
  }
  iconv_close(cd);
  return cs;
}

std::string ToUtf8(std::string_view bytes, const Charset& cs) {
  if (!HasHighByte(bytes)) return std::string(bytes);
  std::string out;
  switch (cs.kind) {
    case Charset::Kind::kLatin1:
      out.reserve(bytes.size() + bytes.size() / 4);
      for (char c : bytes) AppendLatin1(static_cast<unsigned char>(c), &out);
      return out;
    case Charset::Kind::kUtf8:
      out.reserve(bytes.size());
      for (size_t i = 0; i < bytes.size();) {
        const size_t n = Utf8SequenceAt(bytes, i);
        if (n == 0) {
          AppendLatin1(static_cast<unsigned char>(bytes[i]), &out);
          i++;
        } else {
          out.append(bytes.substr(i, n));
          i += n;
        }
      }
      return out;
    case Charset::Kind::kIconv:
      return Iconv("UTF-8", cs.iconv, bytes, "\xEF\xBF\xBD", SkipOne);
  }
  return std::string(bytes);
}

std::string FromUtf8(std::string_view text, const Charset& cs) {
  if (!HasHighByte(text) || cs.kind == Charset::Kind::kUtf8) return std::string(text);
  if (cs.kind == Charset::Kind::kIconv) return Iconv(cs.iconv, "UTF-8", text, "?", SkipUtf8);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t n = Utf8SequenceAt(text, i);
    if (n == 0) {
      out.push_back('?');
      i++;
      continue;
    }
    const auto b = [&](size_t k) { return static_cast<unsigned char>(text[i + k]); };
    if (n == 1) out.push_back(text[i]);
    else if (n == 2 && b(0) <= 0xC3) out.push_back(static_cast<char>(((b(0) & 0x1F) << 6) | (b(1) & 0x3F)));
    else out.push_back('?');
    i += n;
  }
  return out;
}

}  // namespace ark::hl7
