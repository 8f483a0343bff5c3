// XES (IEEE 1849) reading and writing. The reader is a small single-pass XML scanner that knows
// XES's shape (log > trace > event, attributes as empty elements, nested attributes skipped); it
// does not build a DOM, so it reads at memory speed. Positions in errors are line:column.
#include <zlib.h>

#include <cstdlib>
#include <deque>

#include "core/fs.h"
#include "report/svg.h"
#include "pathways/log_io.h"

namespace ark::pathways {
namespace {

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Result<std::string> ReadGzip(const std::string& path) {
  const uint64_t limit = MaxDecompressedBytes();
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return Status::IOError(path + ": cannot open");
  gzbuffer(f, 1 << 17);
  std::string out;
  char buf[1 << 16];
  for (;;) {
    if (out.size() > limit) {  // a gzip bomb, or a log too large to hold: stop before memory runs out
      gzclose(f);
      return Status::InvalidArgument(
          path + ": decompresses to more than " + std::to_string(limit) +
          " bytes, the limit for a gzip-compressed log (set ARK_MAX_DECOMPRESSED_BYTES to raise it)");
    }
    const int n = gzread(f, buf, sizeof buf);
    if (n < 0) {
      int err = 0;
      std::string msg = gzerror(f, &err);
      gzclose(f);
      return Status::InvalidArgument(path + ": gzip data is corrupt or cut short after " + std::to_string(out.size()) +
                                     " bytes (" + msg + ")");
    }
    if (n == 0) break;
    out.append(buf, n);
  }
  // zlib reports a stream cut short only through gzerror after EOF.
  int err = 0;
  const char* msg = gzerror(f, &err);
  if (err != Z_OK && err != Z_STREAM_END) {
    std::string m = msg;
    gzclose(f);
    return Status::InvalidArgument(path + ": gzip data is corrupt or cut short after " + std::to_string(out.size()) +
                                   " bytes (" + m + ")");
  }
  gzclose(f);
  return out;
}

// XML text and attribute values need the same escapes as HTML: one function serves both.
std::string XmlEscape(std::string_view s) { return svg::Escape(std::string(s)); }

// Scanner over XES text.
class XesReader {
 public:
  XesReader(std::string_view text, const std::string& name) : s_(text), name_(name) {}

  Result<EventLog> Run();

 private:
  struct Tag {
    std::string_view name;
    bool close = false;       // </name>
    bool self_close = false;  // <name ... />
    size_t pos = 0;
    std::string_view key, value;  // the key= and value= attributes
  };
  struct PendingEvent {
    std::string_view act, res, lc;
    int64_t time = 0;
    bool has_time = false;
    size_t pos = 0;
  };

  Status ErrorAt(size_t pos, const std::string& what) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return Status::InvalidArgument(name_ + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + what);
  }
  size_t LineOf(size_t pos) const {
    size_t line = 1;
    for (size_t i = 0; i < pos && i < s_.size(); ++i) line += s_[i] == '\n';
    return line;
  }
  // Reads the next tag; returns false at end of input.
  Result<bool> NextTag(Tag* t);
  std::string_view Decode(std::string_view v) {
    if (v.find('&') == std::string_view::npos) return v;
    std::string o;
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] != '&') {
        o += v[i];
        continue;
      }
      const size_t semi = v.find(';', i);
      if (semi == std::string_view::npos) {
        o += v[i];
        continue;
      }
      std::string_view ent = v.substr(i + 1, semi - i - 1);
      if (ent == "amp") o += '&';
      else if (ent == "lt") o += '<';
      else if (ent == "gt") o += '>';
      else if (ent == "quot") o += '"';
      else if (ent == "apos") o += '\'';
      else if (!ent.empty() && ent[0] == '#') {
        unsigned long cp = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X')
                               ? std::strtoul(std::string(ent.substr(2)).c_str(), nullptr, 16)
                               : std::strtoul(std::string(ent.substr(1)).c_str(), nullptr, 10);
        if (cp < 0x80) {
          o += static_cast<char>(cp);
        } else if (cp < 0x800) {
          o += static_cast<char>(0xC0 | (cp >> 6));
          o += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
          o += static_cast<char>(0xE0 | (cp >> 12));
          o += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          o += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
          o += static_cast<char>(0xF0 | (cp >> 18));
          o += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
          o += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          o += static_cast<char>(0x80 | (cp & 0x3F));
        }
      } else {
        o.append(v.substr(i, semi - i + 1));
      }
      i = semi;
    }
    strings_.push_back(std::move(o));
    return strings_.back();
  }

  std::string_view s_;
  const std::string& name_;
  size_t p_ = 0;
  std::deque<std::string> strings_;  // decoded values of the current trace
};

Result<bool> XesReader::NextTag(Tag* t) {
  for (;;) {
    const size_t lt = s_.find('<', p_);
    if (lt == std::string_view::npos) {
      p_ = s_.size();
      return false;
    }
    p_ = lt;
    if (s_.compare(p_, 4, "<!--") == 0) {
      const size_t e = s_.find("-->", p_ + 4);
      if (e == std::string_view::npos) return ErrorAt(p_, "unexpected end of file inside a comment");
      p_ = e + 3;
      continue;
    }
    if (s_.compare(p_, 2, "<?") == 0 || s_.compare(p_, 2, "<!") == 0) {
      const size_t e = s_.find('>', p_ + 2);
      if (e == std::string_view::npos) return ErrorAt(p_, "unexpected end of file inside a declaration");
      p_ = e + 1;
      continue;
    }
    break;
  }
  *t = Tag();
  t->pos = p_;
  size_t i = p_ + 1;
  if (i < s_.size() && s_[i] == '/') {
    t->close = true;
    ++i;
  }
  const size_t name_start = i;
  while (i < s_.size() && !std::isspace(static_cast<unsigned char>(s_[i])) && s_[i] != '>' && s_[i] != '/') ++i;
  t->name = s_.substr(name_start, i - name_start);
  // Attributes.
  for (;;) {
    while (i < s_.size() && std::isspace(static_cast<unsigned char>(s_[i]))) ++i;
    if (i >= s_.size()) return ErrorAt(t->pos, "unexpected end of file inside the tag <" + std::string(t->name) + ">");
    if (s_[i] == '>') {
      ++i;
      break;
    }
    if (s_[i] == '/') {
      if (i + 1 >= s_.size()) return ErrorAt(t->pos, "unexpected end of file inside the tag <" + std::string(t->name) + ">");
      if (s_[i + 1] != '>') return ErrorAt(i, "expected '>' after '/'");
      t->self_close = true;
      i += 2;
      break;
    }
    const size_t an = i;
    while (i < s_.size() && s_[i] != '=' && s_[i] != '>' && !std::isspace(static_cast<unsigned char>(s_[i]))) ++i;
    std::string_view aname = s_.substr(an, i - an);
    while (i < s_.size() && std::isspace(static_cast<unsigned char>(s_[i]))) ++i;
    if (i >= s_.size()) return ErrorAt(t->pos, "unexpected end of file inside the tag <" + std::string(t->name) + ">");
    if (s_[i] != '=') return ErrorAt(i, "expected '=' after attribute '" + std::string(aname) + "'");
    ++i;
    while (i < s_.size() && std::isspace(static_cast<unsigned char>(s_[i]))) ++i;
    if (i >= s_.size()) return ErrorAt(t->pos, "unexpected end of file inside the tag <" + std::string(t->name) + ">");
    const char q = s_[i];
    if (q != '"' && q != '\'') return ErrorAt(i, "expected a quoted value for attribute '" + std::string(aname) + "'");
    const size_t vs = i + 1;
    const size_t ve = s_.find(q, vs);
    if (ve == std::string_view::npos)
      return ErrorAt(t->pos, "unexpected end of file inside the tag <" + std::string(t->name) + ">");
    std::string_view val = s_.substr(vs, ve - vs);
    if (aname == "key") t->key = val;
    else if (aname == "value") t->value = val;
    i = ve + 1;
  }
  p_ = i;
  return true;
}

bool IsSimpleAttr(std::string_view n) {
  return n == "string" || n == "date" || n == "int" || n == "float" || n == "boolean" || n == "id";
}

Result<EventLog> XesReader::Run() {
  EventLogBuilder b;
  Tag t;
  bool in_log = false, log_closed = false;
  size_t log_pos = 0;
  // Scanning state inside the log.
  bool in_trace = false, in_event = false;
  size_t trace_pos = 0;
  int skip_depth = 0;  // depth inside elements we do not interpret (globals, nested attributes)
  std::string_view case_id;
  std::vector<std::pair<std::string_view, std::string_view>> trace_attrs;
  std::vector<PendingEvent> events;
  PendingEvent ev;
  size_t traces = 0;
  for (;;) {
    ARK_ASSIGN_OR_RETURN(bool more, NextTag(&t));
    if (!more) break;
    if (skip_depth > 0) {
      if (t.close) --skip_depth;
      else if (!t.self_close) ++skip_depth;
      continue;
    }
    if (!in_log) {
      if (t.close) return ErrorAt(t.pos, "unexpected </" + std::string(t.name) + ">");
      if (t.name != "log") return ErrorAt(t.pos, "expected <log>, found <" + std::string(t.name) + ">");
      if (log_closed) return ErrorAt(t.pos, "a second <log>");
      in_log = true;
      log_pos = t.pos;
      if (t.self_close) {
        in_log = false;
        log_closed = true;
      }
      continue;
    }
    if (t.close) {
      if (in_event && t.name == "event") {
        if (!ev.has_time)
          return ErrorAt(ev.pos, "event without a time:timestamp attribute");
        if (ev.act.empty()) return ErrorAt(ev.pos, "event without a concept:name attribute");
        events.push_back(ev);
        in_event = false;
      } else if (in_trace && !in_event && t.name == "trace") {
        ++traces;
        std::string fallback;
        if (case_id.empty()) fallback = "trace " + std::to_string(traces);
        std::string_view cid = case_id.empty() ? std::string_view(fallback) : case_id;
        for (auto& e : events) b.Add(cid, e.act, e.time, e.res, e.lc);
        for (auto& [k, v] : trace_attrs) b.SetCaseAttr(cid, k, v);
        in_trace = false;
        events.clear();
        trace_attrs.clear();
        strings_.clear();
      } else if (!in_trace && t.name == "log") {
        in_log = false;
        log_closed = true;
      } else {
        return ErrorAt(t.pos, "unexpected </" + std::string(t.name) + ">");
      }
      continue;
    }
    if (in_event) {
      if (IsSimpleAttr(t.name)) {
        if (t.key == "concept:name") ev.act = Decode(t.value);
        else if (t.key == "org:resource") ev.res = Decode(t.value);
        else if (t.key == "lifecycle:transition") ev.lc = Decode(t.value);
        else if (t.key == "time:timestamp") {
          auto ts = ParseTimestampMs(t.value);
          if (!ts.ok())
            return ErrorAt(t.pos, "'" + std::string(t.value) + "' is not a timestamp (" + ts.status().message() + ")");
          ev.time = *ts;
          ev.has_time = true;
        }
      }
      if (!t.self_close) skip_depth = 1;  // nested attributes or lists
      continue;
    }
    if (in_trace) {
      if (t.name == "event") {
        ev = PendingEvent();
        ev.pos = t.pos;
        in_event = !t.self_close;
        if (t.self_close) return ErrorAt(t.pos, "empty <event/> without attributes");
      } else {
        if (IsSimpleAttr(t.name)) {
          if (t.key == "concept:name") case_id = Decode(t.value);
          else trace_attrs.emplace_back(Decode(t.key), Decode(t.value));
        }
        if (!t.self_close) skip_depth = 1;
      }
      continue;
    }
    if (t.name == "trace") {
      if (t.self_close) continue;
      in_trace = true;
      trace_pos = t.pos;
      case_id = {};
      continue;
    }
    // Log-level elements (extension, global, classifier, attributes): skipped.
    if (!t.self_close) skip_depth = 1;
  }
  if (in_event) return ErrorAt(s_.size(), "unexpected end of file inside <event> opened at line " + std::to_string(LineOf(ev.pos)));
  if (in_trace)
    return ErrorAt(s_.size(), "unexpected end of file inside <trace> opened at line " + std::to_string(LineOf(trace_pos)));
  if (skip_depth > 0) return ErrorAt(s_.size(), "unexpected end of file inside an element");
  if (in_log) return ErrorAt(s_.size(), "unexpected end of file: <log> opened at line " + std::to_string(LineOf(log_pos)) + " is not closed");
  if (!log_closed) return ErrorAt(s_.size(), "no <log> element");
  if (b.events() == 0) return Status::InvalidArgument(name_ + ": the log has no events");
  return std::move(b).Finish();
}

}  // namespace

uint64_t MaxDecompressedBytes() {
  const char* e = std::getenv("ARK_MAX_DECOMPRESSED_BYTES");
  if (!e || !*e) return kDefaultMaxDecompressedBytes;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(e, &end, 10);
  return *end == '\0' && v > 0 ? v : kDefaultMaxDecompressedBytes;
}

Result<EventLog> ParseXes(std::string_view text, const std::string& name) {
  XesReader r(text, name);
  return r.Run();
}

Result<EventLog> ReadXesLog(const std::string& path) {
  if (EndsWith(path, ".gz")) {
    ARK_ASSIGN_OR_RETURN(std::string text, ReadGzip(path));
    return ParseXes(text, path);
  }
  ARK_ASSIGN_OR_RETURN(MappedFile m, MappedFile::Open(path));
  return ParseXes(m.view(), path);
}

std::string XesText(const EventLog& log) {
  std::string o;
  o.reserve(log.num_events() * 200);
  o += "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n"
       "<log xes.version=\"1849-2016\" xes.features=\"nested-attributes\" xmlns=\"http://www.xes-standard.org/\">\n"
       "  <extension name=\"Concept\" prefix=\"concept\" uri=\"http://www.xes-standard.org/concept.xesext\"/>\n"
       "  <extension name=\"Time\" prefix=\"time\" uri=\"http://www.xes-standard.org/time.xesext\"/>\n"
       "  <extension name=\"Lifecycle\" prefix=\"lifecycle\" uri=\"http://www.xes-standard.org/lifecycle.xesext\"/>\n"
       "  <extension name=\"Organizational\" prefix=\"org\" uri=\"http://www.xes-standard.org/org.xesext\"/>\n"
       "  <classifier name=\"Activity\" keys=\"concept:name\"/>\n";
  for (size_t c = 0; c < log.num_cases(); ++c) {
    o += "  <trace>\n    <string key=\"concept:name\" value=\"" + XmlEscape(log.case_ids[c]) + "\"/>\n";
    for (size_t a = 0; a < log.case_attrs.size(); ++a) {
      if (log.case_attrs[a][c].empty()) continue;
      o += "    <string key=\"" + XmlEscape(log.case_attr_names[a]) + "\" value=\"" + XmlEscape(log.case_attrs[a][c]) + "\"/>\n";
    }
    for (uint64_t i = log.case_start[c]; i < log.case_start[c + 1]; ++i) {
      o += "    <event>\n      <string key=\"concept:name\" value=\"";
      o += XmlEscape(log.activities[log.activity[i]]);
      o += "\"/>\n      <date key=\"time:timestamp\" value=\"";
      o += FormatTimestampMs(log.time_ms[i]);
      o += "\"/>\n";
      if (!log.resource.empty() && log.resource[i])
        o += "      <string key=\"org:resource\" value=\"" + XmlEscape(log.resources[log.resource[i]]) + "\"/>\n";
      if (!log.lifecycle.empty() && log.lifecycle[i])
        o += "      <string key=\"lifecycle:transition\" value=\"" + XmlEscape(log.lifecycles[log.lifecycle[i]]) + "\"/>\n";
      o += "    </event>\n";
    }
    o += "  </trace>\n";
  }
  o += "</log>\n";
  return o;
}

Status WriteXesLog(const EventLog& log, const std::string& path) {
  const std::string text = XesText(log);
  if (!EndsWith(path, ".gz")) return WriteFileAtomic(path, text);
  const std::string tmp = path + ".tmp";
  gzFile f = gzopen(tmp.c_str(), "wb6");
  if (!f) return Status::IOError(tmp + ": cannot create");
  size_t off = 0;
  while (off < text.size()) {
    const unsigned n = static_cast<unsigned>(std::min<size_t>(text.size() - off, 1u << 30));
    if (gzwrite(f, text.data() + off, n) != static_cast<int>(n)) {
      gzclose(f);
      return Status::IOError(tmp + ": write failed");
    }
    off += n;
  }
  if (gzclose(f) != Z_OK) return Status::IOError(tmp + ": close failed");
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Status::IOError(path + ": rename failed");
  return Status::OK();
}

}  // namespace ark::pathways
