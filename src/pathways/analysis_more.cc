// Waiting time, rework, group comparison and conformance (built on the core pass).
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "pathways/analysis.h"

namespace ark::pathways {

Result<Waiting> WaitingTime(const EventLog& log, const std::string& from, const std::string& to) {
  const int a = log.ActivityId(from), b = log.ActivityId(to);
  Waiting w;
  w.from = from;
  w.to = to;
  if (a < 0 || b < 0) return w;  // activity absent from this log: no cases
  for (size_t c = 0; c < log.num_cases(); ++c) {
    const uint64_t s = log.case_start[c], e = log.case_start[c + 1];
    uint64_t i = s;
    while (i < e && log.activity[i] != static_cast<uint32_t>(a)) ++i;
    if (i == e) continue;
    ++w.cases_with_from;
    uint64_t j = i + 1;
    while (j < e && log.activity[j] != static_cast<uint32_t>(b)) ++j;
    if (j == e) continue;
    ++w.cases_with_both;
    w.samples_ms.push_back(log.time_ms[j] - log.time_ms[i]);
  }
  w.time = Summarise(w.samples_ms);
  return w;
}

std::vector<Rework> FindRework(const EventLog& log) {
  const size_t A = log.activities.size();
  std::vector<Rework> r(A);
  std::vector<uint32_t> seen(A, 0);
  for (size_t a = 0; a < A; ++a) r[a].activity = static_cast<uint32_t>(a);
  for (size_t c = 0; c < log.num_cases(); ++c) {
    const uint64_t s = log.case_start[c], e = log.case_start[c + 1];
    for (uint64_t i = s; i < e; ++i) seen[log.activity[i]] = 0;
    for (uint64_t i = s; i < e; ++i) {
      const uint32_t x = log.activity[i];
      if (++seen[x] == 2) ++r[x].cases_repeated;
      if (seen[x] >= 2) ++r[x].extra_events;
      if (i > s && log.activity[i - 1] == x) ++r[x].self_loops;
      if (i > s + 1 && log.activity[i - 2] == x && log.activity[i - 1] != x) ++r[x].short_loops;
    }
  }
  std::vector<Rework> out;
  for (auto& x : r)
    if (x.extra_events) out.push_back(x);
  std::sort(out.begin(), out.end(), [](const Rework& a, const Rework& b) { return a.cases_repeated > b.cases_repeated; });
  return out;
}

namespace {

Difference Share(std::string what, uint64_t xa, uint64_t na, uint64_t xb, uint64_t nb) {
  Difference d;
  d.what = std::move(what);
  d.a = na ? static_cast<double>(xa) / na : 0;
  d.b = nb ? static_cast<double>(xb) / nb : 0;
  d.diff = d.a - d.b;
  if (na && nb) {
    const double p = static_cast<double>(xa + xb) / (na + nb);
    const double se = std::sqrt(p * (1 - p) * (1.0 / na + 1.0 / nb));
    d.z = se > 0 ? d.diff / se : 0;
  }
  d.highlight = std::fabs(d.z) >= 3 && std::fabs(d.diff) >= 0.02;
  return d;
}

Difference Time(std::string what, const Distribution& a, const Distribution& b) {
  Difference d;
  d.what = std::move(what);
  d.a = a.median;
  d.b = b.median;
  d.diff = a.median - b.median;
  const double lo = std::min(a.median, b.median), hi = std::max(a.median, b.median);
  d.highlight = a.n >= 30 && b.n >= 30 && hi > 0 && (lo <= 0 || hi / lo >= 1.25);
  return d;
}

}  // namespace

Result<Comparison> Compare(const EventLog& log, const std::string& attr, const std::vector<std::string>& a,
                           const std::vector<std::string>& b, const std::string& label_a,
                           const std::string& label_b, const AnalysisOptions& opts) {
  const int k = log.CaseAttr(attr);
  if (k < 0) return Status::InvalidArgument("the log has no case attribute '" + attr + "' to compare by");
  std::set<std::string> sa(a.begin(), a.end()), sb(b.begin(), b.end());
  std::vector<bool> ka(log.num_cases()), kb(log.num_cases());
  for (size_t c = 0; c < log.num_cases(); ++c) {
    ka[c] = sa.count(log.case_attrs[k][c]) > 0;
    kb[c] = sb.count(log.case_attrs[k][c]) > 0;
  }
  Comparison cmp;
  cmp.attribute = attr;
  cmp.label_a = label_a;
  cmp.label_b = label_b;
  cmp.a = AnalyseCases(log, ka, opts);
  cmp.b = AnalyseCases(log, kb, opts);
  const Core &A = cmp.a, &B = cmp.b;
  cmp.differences.push_back(Time("case duration (median)", A.duration, B.duration));
  for (size_t x = 0; x < log.activities.size(); ++x)
    if (A.activity_cases[x] || B.activity_cases[x])
      cmp.differences.push_back(
          Share("cases with " + log.activities[x], A.activity_cases[x], A.cases, B.activity_cases[x], B.cases));
  std::map<std::pair<uint32_t, uint32_t>, std::pair<const Edge*, const Edge*>> edges;
  for (auto& e : A.edges) edges[{e.from, e.to}].first = &e;
  for (auto& e : B.edges) edges[{e.from, e.to}].second = &e;
  for (auto& [key, pr] : edges) {
    const std::string name = log.activities[key.first] + " -> " + log.activities[key.second];
    cmp.differences.push_back(Share("cases with " + name, pr.first ? pr.first->cases : 0, A.cases,
                                    pr.second ? pr.second->cases : 0, B.cases));
    if (pr.first && pr.second) cmp.differences.push_back(Time("time " + name + " (median)", pr.first->time, pr.second->time));
  }
  std::stable_sort(cmp.differences.begin(), cmp.differences.end(), [](const Difference& x, const Difference& y) {
    if (x.highlight != y.highlight) return x.highlight;
    return std::fabs(x.z) > std::fabs(y.z);
  });
  return cmp;
}

Result<Conformance> CheckConformance(const EventLog& log, const Core& core, const std::vector<std::string>& reference) {
  Conformance out;
  out.reference = reference;
  out.cases = core.cases;
  std::vector<int> ref;
  for (auto& r : reference) ref.push_back(log.ActivityId(r));  // -1: never matches (always missing)
  std::map<std::string, uint64_t> dev;
  double fitness_sum = 0;
  const size_t m = ref.size();
  std::vector<uint32_t> L;
  for (const Variant& v : core.variants) {
    const auto& s = v.activities;
    const size_t n = s.size();
    // LCS table (n+1) x (m+1).
    L.assign((n + 1) * (m + 1), 0);
    for (size_t i = n; i-- > 0;)
      for (size_t j = m; j-- > 0;)
        L[i * (m + 1) + j] = (ref[j] >= 0 && s[i] == static_cast<uint32_t>(ref[j]))
                                 ? L[(i + 1) * (m + 1) + j + 1] + 1
                                 : std::max(L[(i + 1) * (m + 1) + j], L[i * (m + 1) + j + 1]);
    const size_t lcs = L[0];
    if (lcs == m) out.contains += v.count;
    if (lcs == m && n == m) out.fitting += v.count;
    fitness_sum += v.count * (1.0 - static_cast<double>((n - lcs) + (m - lcs)) / std::max<size_t>(n + m, 1));
    // Walk one optimal alignment and record the moves (each kind once per case).
    std::set<std::string> moves;
    size_t i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && ref[j] >= 0 && s[i] == static_cast<uint32_t>(ref[j]) &&
          L[i * (m + 1) + j] == L[(i + 1) * (m + 1) + j + 1] + 1) {
        ++i;
        ++j;
      } else if (j < m && (i == n || L[i * (m + 1) + j + 1] >= L[(i + 1) * (m + 1) + j])) {
        moves.insert("missing " + reference[j]);
        ++j;
      } else {
        moves.insert("extra " + log.activities[s[i]]);
        ++i;
      }
    }
    for (auto& mv : moves) dev[mv] += v.count;
  }
  out.mean_fitness = core.cases ? fitness_sum / core.cases : 0;
  for (auto& [k, v] : dev) out.deviations.push_back({k, v});
  std::stable_sort(out.deviations.begin(), out.deviations.end(),
                   [](const Conformance::Deviation& a, const Conformance::Deviation& b) { return a.cases > b.cases; });
  return out;
}

}  // namespace ark::pathways
