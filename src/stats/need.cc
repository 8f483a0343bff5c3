#include "stats/need.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "disclosure/opensafely.h"

namespace ark::stats {
namespace {

// Labels in order, numbers (deprivation deciles) by value: 1, 2, ..., 10, then the rest.
struct LabelLess {
  static bool Digits(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  }
  bool operator()(const std::string& a, const std::string& b) const {
    const bool da = Digits(a), db = Digits(b);
    if (da != db) return da;
    if (da && a.size() != b.size()) return a.size() < b.size();
    return a < b;
  }
};

double Tenth(double v) { return std::round(v * 10) / 10; }

Status Publish(NeedRow* r) {
  ARK_ASSIGN_OR_RETURN(r->people_published, sdc::PublishCount(r->people));
  ARK_ASSIGN_OR_RETURN(r->above_published, sdc::PublishCount(r->above));
  if (r->people_published) r->expected_published = Tenth(r->expected);
  return Status::OK();
}

std::string Fixed1(const std::optional<double>& v) {
  if (!v) return "[REDACTED]";
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", *v);
  return b;
}

}  // namespace

Result<NeedTable> AggregateNeed(const std::string& by, const std::vector<std::string>& labels, const std::vector<double>& risk,
                                double threshold) {
  if (labels.size() != risk.size()) return Status::InvalidArgument("labels and risks differ in number");
  std::map<std::string, NeedRow, LabelLess> rows;
  NeedTable t;
  t.by = by;
  t.total.group = "total";
  for (size_t i = 0; i < risk.size(); ++i) {
    if (!(risk[i] >= 0 && risk[i] <= 1)) return Status::InvalidArgument("risk " + std::to_string(i + 1) + " is outside [0, 1]");
    NeedRow& r = rows[labels[i].empty() ? "unknown" : labels[i]];
    for (NeedRow* x : {&r, &t.total}) {
      ++x->people;
      x->expected += risk[i];
      x->above += risk[i] >= threshold;
    }
  }
  for (auto& [label, r] : rows) {
    r.group = label;
    ARK_RETURN_IF_ERROR(Publish(&r));
    t.rows.push_back(r);
  }
  ARK_RETURN_IF_ERROR(Publish(&t.total));
  // One withheld group could be recovered from the total: withhold the next smallest too.
  const auto withheld = std::count_if(t.rows.begin(), t.rows.end(), [](const NeedRow& r) { return !r.expected_published; });
  if (withheld == 1 && t.total.expected_published) {
    NeedRow* smallest = nullptr;
    for (NeedRow& r : t.rows)
      if (r.expected_published && (!smallest || r.people < smallest->people)) smallest = &r;
    if (smallest) smallest->expected_published.reset();
  }
  return t;
}

std::string NeedCsv(const NeedTable& t) {
  std::string s = t.by + ",people,expected_admissions,people_at_or_above_threshold\n";
  auto row = [&](const NeedRow& r) {
    std::string label = r.group;
    if (label.find_first_of(",\"\n") != std::string::npos) {
      std::string q = "\"";
      for (char c : label) q += c == '"' ? std::string("\"\"") : std::string(1, c);
      label = q + "\"";
    }
    s += label + "," + sdc::Show(r.people_published) + "," + Fixed1(r.expected_published) + "," + sdc::Show(r.above_published) + "\n";
  };
  for (const NeedRow& r : t.rows) row(r);
  row(t.total);
  return s;
}

Result<std::vector<CaseList>> CaseFindingLists(const std::vector<uint64_t>& persons, const std::vector<std::string>& practice,
                                               const std::vector<double>& risk, double threshold) {
  if (persons.size() != practice.size() || persons.size() != risk.size())
    return Status::InvalidArgument("persons, practices and risks differ in number");
  std::map<std::string, CaseList> lists;
  for (size_t i = 0; i < persons.size(); ++i) {
    if (practice[i].empty() || !(risk[i] >= threshold)) continue;
    CaseList& l = lists[practice[i]];
    l.practice = practice[i];
    l.people.push_back({persons[i], risk[i]});
  }
  std::vector<CaseList> out;
  for (auto& [p, l] : lists) {
    std::sort(l.people.begin(), l.people.end(),
              [](const CaseEntry& a, const CaseEntry& b) { return a.risk != b.risk ? a.risk > b.risk : a.person < b.person; });
    out.push_back(std::move(l));
  }
  return out;
}

std::string CaseListCsv(const CaseList& l) {
  std::string s = "person_key,risk,rank\n";
  char b[64];
  for (size_t i = 0; i < l.people.size(); ++i) {
    std::snprintf(b, sizeof b, "%llu,%.6f,%zu\n", static_cast<unsigned long long>(l.people[i].person), l.people[i].risk, i + 1);
    s += b;
  }
  return s;
}

}  // namespace ark::stats
