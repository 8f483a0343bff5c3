// The ACK builder (hl7.h).
#include <chrono>
#include <cstdlib>

#include <fmt/format.h>

#include "hl7/hl7.h"

namespace ark::hl7 {
namespace {

// MSH fields read from raw text when the message could not be parsed: field sep from byte 3
// when it is a plausible separator; each value escaped under the default separators.
std::vector<std::string> RawMshFields(std::string_view raw) {
  size_t s = 0;
  while (s < raw.size() && (raw[s] == '\r' || raw[s] == '\n' || raw[s] == '\x0b')) s++;
  raw = raw.substr(s);
  std::vector<std::string> out;
  if (raw.size() < 4 || raw.substr(0, 3) != "MSH") return out;
  char fs = raw[3];
  if (fs == '\r' || fs == '\n' || static_cast<unsigned char>(fs) < 0x20) return out;
  size_t end = raw.find_first_of("\r\n");
  std::string_view line = raw.substr(0, end);
  out.push_back("MSH");
  out.push_back(std::string(1, fs));
  size_t pos = 4;
  while (pos <= line.size()) {
    size_t e = line.find(fs, pos);
    if (e == std::string_view::npos) e = line.size();
    out.push_back(std::string(line.substr(pos, e - pos)));
    pos = e + 1;
  }
  // out[2] = MSH-2 (encoding characters, discarded), out[k] = MSH-k.
  return out;
}

// Error location "segment N (SEG), field F: ..." → {SEG, N, F}.
bool ParseLocation(const std::string& msg, std::string* seg, int* seq, int* field) {
  if (msg.rfind("segment ", 0) != 0) return false;
  char* end = nullptr;
  long n = std::strtol(msg.c_str() + 8, &end, 10);
  if (end == msg.c_str() + 8 || n <= 0) return false;
  *seq = static_cast<int>(n);
  *field = 0;
  seg->clear();
  std::string_view rest(end);
  if (rest.size() >= 6 && rest[0] == ' ' && rest[1] == '(' && rest[5] == ')') {
    *seg = std::string(rest.substr(2, 3));
    rest = rest.substr(6);
  }
  if (rest.rfind(", field ", 0) == 0) {
    std::string tail(rest.substr(8));
    long f = std::strtol(tail.c_str(), &end, 10);
    if (end != tail.c_str() && f > 0) *field = static_cast<int>(f);
  }
  return true;
}

// HL7 table 0357 code for an error text.
std::string ErrorCode(const std::string& text) {
  if (text.find("unsupported message type") != std::string::npos) return "200^Unsupported message type^HL70357";
  if (text.find("unsupported event") != std::string::npos) return "201^Unsupported event code^HL70357";
  if (text.find("missing") != std::string::npos) return "101^Required field missing^HL70357";
  if (text.find("segment id") != std::string::npos || text.find("MSH") != std::string::npos)
    return "100^Segment sequence error^HL70357";
  if (text.find("field") != std::string::npos) return "102^Data type error^HL70357";
  return "207^Application internal error^HL70357";
}

}  // namespace

std::string MakeAck(const Message* msg, std::string_view raw, std::string_view code, const Status& error) {
  Separators sep;  // the ACK uses the message's separators when known, else the defaults
  std::string f3, f4, f5, f6, control, processing = "P", version = "2.4", trigger;
  if (msg) {
    sep = msg->separators();
    f3 = msg->Raw("MSH", 3);
    f4 = msg->Raw("MSH", 4);
    f5 = msg->Raw("MSH", 5);
    f6 = msg->Raw("MSH", 6);
    control = msg->control_id();
    if (!msg->Raw("MSH", 11).empty()) processing = msg->Raw("MSH", 11);
    if (!msg->version().empty()) version = msg->version();
    trigger = msg->trigger();
  } else {
    std::vector<std::string> f = RawMshFields(raw);
    auto field = [&](size_t k) { return k < f.size() ? Escape(f[k], sep) : std::string(); };
    f3 = field(3);
    f4 = field(4);
    f5 = field(5);
    f6 = field(6);
    control = field(10);
    if (!field(11).empty()) processing = field(11).substr(0, 3);
    std::string v = field(12);
    if (!v.empty() && v.size() <= 8) version = v;
    if (f.size() > 9) {
      std::string_view t = f[9];
      size_t a = t.find('^');
      if (a != std::string_view::npos) {
        size_t b = t.find('^', a + 1);
        trigger = Escape(t.substr(a + 1, b == std::string_view::npos ? std::string_view::npos : b - a - 1), sep);
      }
    }
  }
  if (control.size() > 199) control.resize(199);
  std::string ack_control = "ACK" + control;
  if (ack_control.size() > 20) ack_control.resize(20);
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch()).count();
  const char fs = sep.field;
  std::string enc{sep.component, sep.repetition, sep.escape, sep.subcomponent};
  std::string out;
  out.reserve(256);
  out += fmt::format("MSH{}{}{}{}{}{}{}{}{}{}{}{}{}{}", fs, enc, fs, f5, fs, f6, fs, f3, fs, f4, fs,
                     FormatTimestamp(now), fs, fs);
  out += "ACK";
  if (!trigger.empty()) out += sep.component + trigger + sep.component + "ACK";
  out += fmt::format("{}{}{}{}{}{}", fs, ack_control, fs, processing, fs, version);
  if (msg && !msg->charset().declared.empty()) {  // MSH-18: the ACK is in the message's charset
    out += std::string(6, fs);
    out += Escape(msg->charset().declared, sep);
  }
  out += '\r';
  std::string text = error.ok() ? std::string() : Escape(error.message(), sep);
  std::string safe_code = code.empty() ? "AE" : Escape(code.substr(0, 2), sep);
  out += fmt::format("MSA{}{}{}{}", fs, safe_code, fs, control);
  if (!text.empty()) out += fmt::format("{}{}", fs, text);
  out += '\r';
  if (code != "AA" && code != "CA") {
    std::string seg;
    int seq = 0, field = 0;
    std::string loc;
    if (!error.ok() && ParseLocation(error.message(), &seg, &seq, &field)) {
      loc = seg + sep.component + std::to_string(seq);
      if (field > 0) loc += sep.component + std::to_string(field);
    }
    std::string err_code = ErrorCode(error.message());
    for (char& c : err_code) {
      if (c == '^') c = sep.component;
    }
    // ERR-1 empty (deprecated), ERR-2 location, ERR-3 code, ERR-4 severity, ERR-8 user message.
    out += "ERR";
    out += fs;
    out += fs;
    out += loc;
    out += fs;
    out += err_code;
    out += fs;
    out += 'E';
    out += std::string(4, fs);
    out += text;
    out += '\r';
  }
  return msg ? FromUtf8(out, msg->charset()) : out;
}

}  // namespace ark::hl7
