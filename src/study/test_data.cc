#include "study/test_data.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "core/fs.h"
#include "core/time.h"
#include "store/timeline_writer.h"

namespace ark::study {
namespace {

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  for (auto& s : out) {
    while (!s.empty() && s.back() == ' ') s.pop_back();
    while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  }
  return out;
}

uint32_t Intern(std::vector<std::string>* dict, std::map<std::string, uint32_t>* index, const std::string& s) {
  if (s.empty()) return 0;
  auto it = index->find(s);
  if (it != index->end()) return it->second;
  uint32_t id = static_cast<uint32_t>(dict->size());
  dict->push_back(s);
  (*index)[s] = id;
  return id;
}

Result<Seconds> Time(const std::string& s, const std::string& where) {
  auto t = ParseTime(s, s.size() > 10 ? "%Y-%m-%d %H:%M" : "%Y-%m-%d");
  if (!t.ok()) return Status::InvalidArgument(where + ": bad time '" + s + "'");
  return *t;
}

Result<TestData> ParseTestDataImpl(const std::string& text, const std::string& where) {
  TestData d;
  std::map<std::string, uint32_t> codes, practices, sources;
  std::istringstream in(text);
  std::string line, section;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    const std::string at = where + " line " + std::to_string(n);
    if (line.empty() || line[0] == '#') continue;
    if (line == "persons:" || line == "events:") {
      section = line;
      continue;
    }
    auto f = Split(line);
    if (section == "persons:") {
      if (f.size() != 7) return Status::InvalidArgument(at + ": a person needs 7 fields: key,birth,sex,imd,practice,death,optout");
      Person p;
      p.key = static_cast<PersonKey>(std::stoul(f[0]));
      if (p.key != d.persons.size()) return Status::InvalidArgument(at + ": person keys must be 0, 1, 2, ... in order");
      if (!f[1].empty()) {
        if (f[1].size() != 7) return Status::InvalidArgument(at + ": birth must be YYYY-MM");
        p.birth_year = static_cast<int16_t>(std::stoi(f[1].substr(0, 4)));
        p.birth_month = static_cast<uint8_t>(std::stoi(f[1].substr(5, 2)));
      }
      p.sex = f[2].empty() ? 'U' : f[2][0];
      p.imd_decile = f[3].empty() ? 0 : static_cast<uint8_t>(std::stoi(f[3]));
      p.practice = Intern(&d.dicts.practices, &practices, f[4]);
      if (!f[5].empty()) {
        ARK_ASSIGN_OR_RETURN(Seconds t, Time(f[5], at));
        p.death_day = DayOf(t);
      }
      if (f[6] == "ok") p.flags = kLinkedByNhsNumber | kOptOutKnown;
      else if (f[6] == "national") p.flags = kLinkedByNhsNumber | kOptOutKnown | kOptedOutNational;
      else if (f[6] == "type1") p.flags = kLinkedByNhsNumber | kOptOutKnown | kOptedOutType1;
      else if (f[6] == "unknown") p.flags = 0;
      else return Status::InvalidArgument(at + ": optout must be ok, national, type1 or unknown");
      d.persons.push_back(p);
      d.events.emplace_back();
    } else if (section == "events:") {
      if (f.size() != 5) return Status::InvalidArgument(at + ": an event needs 5 fields: person,time,end,code,value");
      Event e;
      e.person = static_cast<PersonKey>(std::stoul(f[0]));
      if (e.person >= d.persons.size()) return Status::InvalidArgument(at + ": unknown person " + f[0]);
      ARK_ASSIGN_OR_RETURN(e.time, Time(f[1], at));
      if (!f[2].empty()) {
        ARK_ASSIGN_OR_RETURN(e.end, Time(f[2], at));
      }
      if (f[3].empty()) return Status::InvalidArgument(at + ": empty code");
      e.code = Intern(&d.dicts.codes, &codes, f[3]);
      if (!f[4].empty()) e.value = std::stod(f[4]);
      d.events[e.person].push_back(e);
    } else {
      return Status::InvalidArgument(at + ": expected 'persons:' or 'events:' first");
    }
  }
  for (auto& ev : d.events) std::stable_sort(ev.begin(), ev.end(), [](const Event& a, const Event& b) { return a.time < b.time; });
  return d;
}

}  // namespace

Result<TestData> ParseTestData(const std::string& text, const std::string& where) {
  try {
    return ParseTestDataImpl(text, where);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(where + ": bad number (" + e.what() + ")");
  }
}

Status WriteTestArk(const TestData& data, const std::string& ark_dir) {
  ARK_RETURN_IF_ERROR(MakeDirs(ark_dir));
  if (!PathExists(ark_dir + "/catalog.db")) ARK_RETURN_IF_ERROR(WriteFileAtomic(ark_dir + "/catalog.db", ""));
  ARK_ASSIGN_OR_RETURN(auto w, TimelineWriter::Create(ark_dir + "/store"));
  for (size_t i = 0; i < data.persons.size(); ++i) ARK_RETURN_IF_ERROR(w->AddPerson(data.persons[i], data.events[i]));
  return w->Finish(data.dicts);
}

}  // namespace ark::study
