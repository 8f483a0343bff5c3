#include "report/contents.h"

#include <cctype>
#include <vector>

namespace ark {
namespace {

// "Live: HL7 feed to alerts" -> "live-hl7-feed-to-alerts"
std::string Slug(const std::string& text) {
  std::string s;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!s.empty() && s.back() != '-') {
      s += '-';
    }
  }
  while (!s.empty() && s.back() == '-') s.pop_back();
  return s.empty() ? "section" : s;
}

// The text of an element's content, tags removed.
std::string PlainText(const std::string& inner) {
  std::string t;
  bool tag = false;
  for (char c : inner) {
    if (c == '<') tag = true;
    else if (c == '>') tag = false;
    else if (!tag) t += c;
  }
  return t;
}

}  // namespace

std::string WithContents(const std::string& html) {
  if (html.find("<nav class=toc>") != std::string::npos) return html;
  std::string out;
  std::vector<std::pair<std::string, std::string>> entries;  // id, inner HTML
  size_t pos = 0;
  for (;;) {
    const size_t at = html.find("<h2", pos);
    if (at == std::string::npos || (html[at + 3] != '>' && html[at + 3] != ' ')) {
      if (at == std::string::npos) break;
      out.append(html, pos, at + 3 - pos);
      pos = at + 3;
      continue;
    }
    const size_t open_end = html.find('>', at);
    const size_t close = html.find("</h2>", open_end);
    if (open_end == std::string::npos || close == std::string::npos) break;
    const std::string attrs = html.substr(at + 3, open_end - at - 3);
    const std::string inner = html.substr(open_end + 1, close - open_end - 1);
    std::string id;
    if (const size_t i = attrs.find("id=\""); i != std::string::npos) {
      id = attrs.substr(i + 4, attrs.find('"', i + 4) - i - 4);
    } else {
      id = Slug(PlainText(inner));
      for (int n = 2; [&] {
             for (auto& e : entries) if (e.first == id) return true;
             return false;
           }();
           ++n) {
        id = Slug(PlainText(inner)) + "-" + std::to_string(n);
      }
    }
    entries.emplace_back(id, inner);
    out.append(html, pos, at - pos);
    out += attrs.find("id=\"") != std::string::npos ? "<h2" + attrs + ">" : "<h2 id=\"" + id + "\"" + attrs + ">";
    pos = open_end + 1;
  }
  out.append(html, pos, std::string::npos);
  if (entries.size() < 2) return out;
  std::string nav = "<nav class=toc><b>Contents</b><ol>";
  for (auto& [id, inner] : entries) nav += "<li><a href=\"#" + id + "\">" + inner + "</a></li>";
  nav += "</ol></nav>\n";
  const size_t first = out.find("<section");
  out.insert(first == std::string::npos ? 0 : first, nav);
  return out;
}

}  // namespace ark
