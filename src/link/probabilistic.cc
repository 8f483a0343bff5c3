#include "link/probabilistic.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <thread>
#include <unordered_map>

namespace ark {
namespace {

constexpr uint8_t kNull = 255;

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<std::string> LevelLabels(FieldKind k, bool encoded) {
  if (encoded) {
    switch (k) {
      case FieldKind::kName:
      case FieldKind::kString: return {"dice>=0.9", "dice>=0.75", "dice>=0.6", "dice>=0.45", "else"};
      case FieldKind::kDate:
      case FieldKind::kPostcode: return {"dice>=0.93", "dice>=0.8", "dice>=0.6", "else"};
      case FieldKind::kExact: return {"equal", "else"};
    }
  }
  switch (k) {
    case FieldKind::kName:
    case FieldKind::kString: return {"exact", "jw>=0.92", "jw>=0.88", "jw>=0.7", "else"};
    case FieldKind::kDate: return {"exact", "one part differs or day/month swapped", "same year", "else"};
    case FieldKind::kPostcode: return {"exact", "one character differs", "same district", "else"};
    case FieldKind::kExact: return {"exact", "else"};
  }
  return {};
}

uint8_t PlainLevel(FieldKind k, const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return kNull;
  if (a == b) return 0;
  switch (k) {
    case FieldKind::kName:
    case FieldKind::kString: {
      double s = JaroWinkler(a, b);
      return s >= 0.92 ? 1 : s >= 0.88 ? 2 : s >= 0.7 ? 3 : 4;
    }
    case FieldKind::kDate: {
      if (a.size() != 8 || b.size() != 8) return 3;
      int diff = (a.compare(0, 4, b, 0, 4) != 0) + (a.compare(4, 2, b, 4, 2) != 0) + (a.compare(6, 2, b, 6, 2) != 0);
      bool swap = a.compare(0, 4, b, 0, 4) == 0 && a.compare(4, 2, b, 6, 2) == 0 && a.compare(6, 2, b, 4, 2) == 0;
      if (diff <= 1 || swap) return 1;
      return a.compare(0, 4, b, 0, 4) == 0 ? 2 : 3;
    }
    case FieldKind::kPostcode: {
      if (a.size() == b.size()) {
        int d = 0;
        for (size_t i = 0; i < a.size(); ++i) d += a[i] != b[i];
        if (d <= 1) return 1;
      }
      size_t pa = a.size() > 4 ? a.size() - 3 : a.size() > 2 ? a.size() - 2 : a.size();
      size_t pb = b.size() > 4 ? b.size() - 3 : b.size() > 2 ? b.size() - 2 : b.size();
      return pa == pb && a.compare(0, pa, b, 0, pb) == 0 ? 2 : 3;
    }
    case FieldKind::kExact: return 1;
  }
  return kNull;
}

uint8_t EncodedLevel(FieldKind k, const uint64_t* a, const uint64_t* b) {
  double d = Dice(a, b, kFieldWords);
  switch (k) {
    case FieldKind::kName:
    case FieldKind::kString: return d >= 0.9 ? 0 : d >= 0.75 ? 1 : d >= 0.6 ? 2 : d >= 0.45 ? 3 : 4;
    case FieldKind::kDate:
    case FieldKind::kPostcode: return d >= 0.93 ? 0 : d >= 0.8 ? 1 : d >= 0.6 ? 2 : 3;
    case FieldKind::kExact: return d >= 0.8 ? 0 : 1;
  }
  return kNull;
}

class Comparer {
 public:
  explicit Comparer(const LinkInput& in) : in_(in) {
    // The first two name fields (given and family name) are also compared crossed.
    for (size_t f = 0; f < in.fields.size() && name2_ < 0; ++f) {
      if (in.fields[f].kind != FieldKind::kName) continue;
      (name1_ < 0 ? name1_ : name2_) = static_cast<int>(f);
    }
  }
  uint8_t Level(size_t fa, size_t fb, uint32_t a, uint32_t b) const {
    if (in_.encoded) {
      if (!in_.present[fa][a] || !in_.present[fb][b]) return kNull;
      return EncodedLevel(in_.fields[fa].kind, &in_.filters[fa][size_t(a) * kFieldWords],
                          &in_.filters[fb][size_t(b) * kFieldWords]);
    }
    return PlainLevel(in_.fields[fa].kind, in_.values[fa][a], in_.values[fb][b]);
  }
  void Levels(uint32_t a, uint32_t b, uint8_t* out) const {
    for (size_t f = 0; f < in_.fields.size(); ++f) out[f] = Level(f, f, a, b);
    if (name2_ >= 0) {
      // Swapped given and family names: take the crossed levels when both are better.
      uint8_t x = Level(name1_, name2_, a, b), y = Level(name2_, name1_, a, b);
      if (x != kNull && y != kNull && x < out[name1_] && y < out[name2_] && out[name1_] != kNull &&
          out[name2_] != kNull) {
        out[name1_] = std::max<uint8_t>(x, 1);
        out[name2_] = std::max<uint8_t>(y, 1);
      }
    }
  }

 private:
  const LinkInput& in_;
  int name1_ = -1, name2_ = -1;
};

template <typename Fn>
void ParallelFor(size_t n, int threads, Fn fn) {
  threads = std::max(1, threads);
  if (n < 10000 || threads == 1) { fn(0, n); return; }
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    size_t lo = n * t / threads, hi = n * (t + 1) / threads;
    ts.emplace_back([=] { fn(lo, hi); });
  }
  for (auto& t : ts) t.join();
}

struct UnionFind {
  std::vector<uint32_t> parent;
  std::vector<uint32_t> group;
  explicit UnionFind(size_t n) : parent(n), group(n, LinkInput::kNoGroup) { std::iota(parent.begin(), parent.end(), 0u); }
  uint32_t Find(uint32_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  // False if the two clusters hold different groups (a cannot-link constraint).
  bool Union(uint32_t a, uint32_t b) {
    a = Find(a), b = Find(b);
    if (a == b) return true;
    if (group[a] != LinkInput::kNoGroup && group[b] != LinkInput::kNoGroup && group[a] != group[b]) return false;
    if (a > b) std::swap(a, b);
    parent[b] = a;
    if (group[a] == LinkInput::kNoGroup) group[a] = group[b];
    return true;
  }
};

// EM with u fixed: updates m (fields with data) and *lambda; returns iterations run.
int RunEm(const std::map<std::vector<uint8_t>, double>& pat_map, std::vector<FieldModel>* model, double* lambda,
          int max_iter) {
  const size_t nf = model->size();
  std::vector<const std::vector<uint8_t>*> pats;
  std::vector<double> counts;
  for (auto& [k, c] : pat_map) {
    pats.push_back(&k);
    counts.push_back(c);
  }
  std::vector<double> post(pats.size());
  int it = 0;
  for (; it < max_iter && !pats.empty(); ++it) {
    for (size_t q = 0; q < pats.size(); ++q) {
      double lw = std::log(*lambda) - std::log1p(-*lambda);
      for (size_t f = 0; f < nf; ++f) {
        uint8_t l = (*pats[q])[f];
        if (l != kNull) lw += std::log((*model)[f].m[l]) - std::log((*model)[f].u[l]);
      }
      post[q] = 1.0 / (1.0 + std::exp(-lw));
    }
    double change = 0, tot = 0, match = 0;
    for (size_t f = 0; f < nf; ++f) {
      std::vector<double> acc((*model)[f].m.size(), 0.0);
      double den = 0;
      for (size_t q = 0; q < pats.size(); ++q) {
        uint8_t l = (*pats[q])[f];
        if (l == kNull) continue;
        acc[l] += counts[q] * post[q];
        den += counts[q] * post[q];
      }
      if (den <= 0) continue;
      for (size_t l = 0; l < acc.size(); ++l) {
        double v = std::max(acc[l] / den, 1e-6);
        change = std::max(change, std::fabs(v - (*model)[f].m[l]));
        (*model)[f].m[l] = v;
      }
    }
    for (size_t q = 0; q < pats.size(); ++q) {
      tot += counts[q];
      match += counts[q] * post[q];
    }
    double nl = std::clamp(match / tot, 1e-9, 1 - 1e-9);
    change = std::max(change, std::fabs(nl - *lambda));
    *lambda = nl;
    if (change < 1e-7) break;
  }
  return it;
}

}  // namespace

double JaroWinkler(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return 0;
  if (a == b) return 1;
  const int la = static_cast<int>(a.size()), lb = static_cast<int>(b.size());
  const int range = std::max(0, std::max(la, lb) / 2 - 1);
  uint64_t ma_small[4] = {0}, mb_small[4] = {0};
  std::vector<char> ma_v, mb_v;
  char* ma;
  char* mb;
  if (la <= 32 && lb <= 32) {
    ma = reinterpret_cast<char*>(ma_small);
    mb = reinterpret_cast<char*>(mb_small);
  } else {
    ma_v.assign(la, 0);
    mb_v.assign(lb, 0);
    ma = ma_v.data();
    mb = mb_v.data();
  }
  int m = 0;
  for (int i = 0; i < la; ++i) {
    int lo = std::max(0, i - range), hi = std::min(lb - 1, i + range);
    for (int j = lo; j <= hi; ++j) {
      if (!mb[j] && a[i] == b[j]) {
        ma[i] = mb[j] = 1;
        ++m;
        break;
      }
    }
  }
  if (m == 0) return 0;
  int t = 0, k = 0;
  for (int i = 0; i < la; ++i) {
    if (!ma[i]) continue;
    while (!mb[k]) ++k;
    if (a[i] != b[k]) ++t;
    ++k;
  }
  double jaro = (static_cast<double>(m) / la + static_cast<double>(m) / lb + (m - t / 2.0) / m) / 3.0;
  int prefix = 0;
  while (prefix < 4 && prefix < la && prefix < lb && a[prefix] == b[prefix]) ++prefix;
  return jaro + prefix * 0.1 * (1 - jaro);
}

std::string ExplainPair(const LinkOutcome& o, const ScoredPair& p) {
  std::string s;
  char buf[64];
  for (size_t f = 0; f < o.model.size(); ++f) {
    const FieldModel& fm = o.model[f];
    if (!s.empty()) s += "; ";
    s += fm.name + ": ";
    if (p.levels[f] == kNull) {
      s += "missing (0)";
      continue;
    }
    double w = std::log2(fm.m[p.levels[f]] / fm.u[p.levels[f]]);
    std::snprintf(buf, sizeof buf, " (%+.1f)", w);
    s += fm.levels[p.levels[f]] + buf;
  }
  return s;
}

Result<LinkOutcome> LinkProbabilistic(const LinkInput& in, const LinkOptions& opt) {
  auto t0 = std::chrono::steady_clock::now();
  LinkOutcome o;
  const size_t n = in.n, nf = in.fields.size();
  if (nf == 0) return Status::InvalidArgument("no fields to compare");
  if (nf > kMaxLinkFields) {
    return Status::InvalidArgument("at most " + std::to_string(kMaxLinkFields) + " fields can be compared, not " +
                                   std::to_string(nf));
  }
  if (n > 0xfffffff0u) return Status::InvalidArgument("too many records");
  auto src = [&](uint32_t i) { return in.source.empty() ? 0u : in.source[i]; };
  auto grp = [&](uint32_t i) { return in.group.empty() ? LinkInput::kNoGroup : in.group[i]; };

  // 1. Candidate pairs from the union of the blocking rules.
  std::vector<uint64_t> pairs;
  std::vector<std::vector<uint64_t>> rule_pairs(std::min<size_t>(in.blocking.size(), kNameRules));
  o.pairs_per_rule.assign(in.blocking.size(), 0);
  for (size_t r = 0; r < in.blocking.size(); ++r) {
    const auto& keys = in.blocking[r];
    std::vector<std::pair<uint64_t, uint32_t>> kv;
    kv.reserve(n);
    for (uint32_t i = 0; i < n; ++i) if (keys[i]) kv.emplace_back(keys[i], i);
    std::sort(kv.begin(), kv.end());
    for (size_t lo = 0; lo < kv.size();) {
      size_t hi = lo;
      while (hi < kv.size() && kv[hi].first == kv[lo].first) ++hi;
      if (hi - lo > opt.max_block) {
        ++o.skipped_blocks;
        o.skipped_block_records += hi - lo;
      } else {
        for (size_t x = lo; x < hi; ++x) {
          for (size_t y = x + 1; y < hi; ++y) {
            uint32_t a = kv[x].second, b = kv[y].second;
            if (opt.cross_source_only && src(a) == src(b)) continue;
            if (opt.skip_grouped_pairs && grp(a) != LinkInput::kNoGroup && grp(b) != LinkInput::kNoGroup) continue;
            pairs.push_back(uint64_t(std::min(a, b)) << 32 | std::max(a, b));
            if (r < rule_pairs.size()) rule_pairs[r].push_back(pairs.back());
            ++o.pairs_per_rule[r];
          }
        }
      }
      lo = hi;
    }
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  o.candidate_pairs = pairs.size();
  o.seconds_blocking = Seconds(t0);

  // 2. Comparison levels.
  Comparer cmp(in);
  std::vector<uint8_t> levels(pairs.size() * nf);
  ParallelFor(pairs.size(), opt.threads, [&](size_t lo, size_t hi) {
    for (size_t p = lo; p < hi; ++p) cmp.Levels(pairs[p] >> 32, static_cast<uint32_t>(pairs[p]), &levels[p * nf]);
  });

  // 3. u from random pairs.
  o.model.resize(nf);
  for (size_t f = 0; f < nf; ++f) {
    o.model[f].name = in.fields[f].name;
    o.model[f].levels = LevelLabels(in.fields[f].kind, in.encoded);
    o.model[f].m.assign(o.model[f].levels.size(), 0);
    o.model[f].u.assign(o.model[f].levels.size(), 0);
  }
  {
    uint64_t s = opt.seed * 0x9e3779b97f4a7c15ULL + 12345;
    auto rnd = [&]() {
      s ^= s << 13;
      s ^= s >> 7;
      s ^= s << 17;
      return s;
    };
    const double total = n < 2 ? 0 : static_cast<double>(n) * (n - 1) / 2;
    const size_t samples = static_cast<size_t>(std::min<double>(opt.u_samples, std::max(total, 1.0) * 2));
    std::vector<std::vector<double>> cnt(nf);
    for (size_t f = 0; f < nf; ++f) cnt[f].assign(o.model[f].levels.size(), 0);
    std::vector<uint8_t> lv(nf);
    size_t got = 0;
    for (size_t k = 0; k < samples * 4 && got < samples && n >= 2; ++k) {
      uint32_t a = rnd() % n, b = rnd() % n;
      if (a == b || (opt.cross_source_only && src(a) == src(b))) continue;
      ++got;
      cmp.Levels(a, b, lv.data());
      for (size_t f = 0; f < nf; ++f) if (lv[f] != kNull) cnt[f][lv[f]] += 1;
    }
    for (size_t f = 0; f < nf; ++f) {
      double tot = 0;
      for (double c : cnt[f]) tot += c;
      const size_t L = cnt[f].size();
      for (size_t l = 0; l < L; ++l) o.model[f].u[l] = (cnt[f][l] + 0.5) / (tot + 0.5 * L);
    }
  }

  // 4. m-probabilities by EM, one training session per blocking rule (as Splink does): a
  // session uses the pairs its rule produced, keeps u fixed, and does not estimate the fields
  // the rule depends on (those agree by construction). Each field's m is the mean over the
  // sessions that estimated it; a field no session could estimate is estimated on all pairs.
  auto te = std::chrono::steady_clock::now();
  for (size_t f = 0; f < nf; ++f) {
    const size_t L = o.model[f].m.size();
    for (size_t l = 0; l < L; ++l) o.model[f].m[l] = l == 0 ? 0.9 : 0.1 / (L - 1);
  }
  const auto rule_fields = BlockingRuleFields(in.fields);
  std::vector<std::vector<double>> m_sum(nf);
  std::vector<int> m_n(nf, 0);
  for (size_t f = 0; f < nf; ++f) m_sum[f].assign(o.model[f].m.size(), 0.0);
  auto session = [&](const std::vector<uint64_t>* subset, const std::vector<int>& touched) {
    std::map<std::vector<uint8_t>, double> pat_map;
    std::vector<uint8_t> lv(nf);
    auto add = [&](size_t p) {
      std::copy(&levels[p * nf], &levels[p * nf] + nf, lv.begin());
      for (int f : touched) lv[f] = kNull;
      pat_map[lv] += 1;
    };
    if (subset) {
      for (uint64_t key : *subset) {
        auto it = std::lower_bound(pairs.begin(), pairs.end(), key);
        if (it != pairs.end() && *it == key) add(it - pairs.begin());
      }
    } else {
      for (size_t p = 0; p < pairs.size(); ++p) add(p);
    }
    std::vector<FieldModel> model = o.model;
    double lam = 0.5;
    o.em_iterations += RunEm(pat_map, &model, &lam, opt.em_iterations);
    return model;
  };
  for (size_t r = 0; r < rule_pairs.size(); ++r) {
    if (rule_pairs[r].empty()) continue;
    auto model = session(&rule_pairs[r], rule_fields[r]);
    for (size_t f = 0; f < nf; ++f) {
      if (std::find(rule_fields[r].begin(), rule_fields[r].end(), static_cast<int>(f)) != rule_fields[r].end()) continue;
      for (size_t l = 0; l < model[f].m.size(); ++l) m_sum[f][l] += model[f].m[l];
      ++m_n[f];
    }
  }
  bool need_all = false;
  for (size_t f = 0; f < nf; ++f) need_all |= m_n[f] == 0;
  std::vector<FieldModel> all_model;
  if (need_all) all_model = session(nullptr, {});
  for (size_t f = 0; f < nf; ++f) {
    for (size_t l = 0; l < o.model[f].m.size(); ++l) {
      o.model[f].m[l] = m_n[f] ? m_sum[f][l] / m_n[f] : all_model[f].m[l];
    }
  }
  // λ: the share of matches among all record pairs, by a fixed point over the candidates
  // (pairs outside them are taken as non-matches): λ = Σ posterior(λ) / all pairs.
  std::vector<std::vector<double>> w(nf);
  for (size_t f = 0; f < nf; ++f) {
    for (size_t l = 0; l < o.model[f].m.size(); ++l) w[f].push_back(std::log2(o.model[f].m[l] / o.model[f].u[l]));
  }
  std::vector<double> pw(pairs.size());
  for (size_t p = 0; p < pairs.size(); ++p) {
    double ws = 0;
    for (size_t f = 0; f < nf; ++f) if (levels[p * nf + f] != kNull) ws += w[f][levels[p * nf + f]];
    pw[p] = ws;
  }
  double all_pairs = 0;
  if (opt.cross_source_only) {
    std::unordered_map<uint32_t, double> per;
    for (uint32_t i = 0; i < n; ++i) per[src(i)] += 1;
    double sum = 0, sq = 0;
    for (auto& [k, c] : per) sum += c, sq += c * c;
    all_pairs = (sum * sum - sq) / 2;
  } else {
    all_pairs = static_cast<double>(n) * (n - 1) / 2;
  }
  double lambda = std::clamp(static_cast<double>(pairs.size()) / std::max(all_pairs, 1.0) / 2, 1e-12, 0.5);
  for (int it = 0; it < 200 && !pairs.empty(); ++it) {
    const double prior = std::log2(lambda / (1 - lambda));
    double sum = 0;
    for (double x : pw) sum += 1.0 / (1.0 + std::exp2(-(x + prior)));
    double nl = std::clamp(sum / std::max(all_pairs, 1.0), 1e-12, 0.5);
    if (std::fabs(nl - lambda) < 1e-9 * lambda) {
      lambda = nl;
      break;
    }
    lambda = nl;
  }
  o.lambda = lambda;
  o.seconds_em = Seconds(te);
  const double prior = std::log2(lambda / (1 - lambda));
  o.threshold_probability = opt.threshold_probability.value_or(0.5);
  o.threshold_weight = std::log2(o.threshold_probability / (1 - o.threshold_probability)) - prior;

  // Weights of every pair.
  o.pairs.resize(pairs.size());
  ParallelFor(pairs.size(), opt.threads, [&](size_t lo, size_t hi) {
    for (size_t p = lo; p < hi; ++p) {
      ScoredPair& sp = o.pairs[p];
      sp.a = pairs[p] >> 32;
      sp.b = static_cast<uint32_t>(pairs[p]);
      std::copy(&levels[p * nf], &levels[p * nf] + nf, sp.levels.begin());
      double ws = 0;
      for (size_t f = 0; f < nf; ++f) if (sp.levels[f] != kNull) ws += w[f][sp.levels[f]];
      sp.weight = static_cast<float>(ws);
      sp.probability = static_cast<float>(1.0 / (1.0 + std::exp2(-(ws + prior))));
      sp.clk_dice = in.clk.empty() ? -1.0f
                                   : static_cast<float>(Dice(&in.clk[size_t(sp.a) * kClkWords],
                                                             &in.clk[size_t(sp.b) * kClkWords], kClkWords));
    }
  });

  // 5. Clustering.
  UnionFind uf(n);
  if (!in.group.empty()) {
    std::vector<uint32_t> first(0);
    std::unordered_map<uint32_t, uint32_t> seen;
    for (uint32_t i = 0; i < n; ++i) {
      if (in.group[i] == LinkInput::kNoGroup) continue;
      uf.group[i] = in.group[i];
      auto [it, fresh] = seen.emplace(in.group[i], i);
      if (!fresh) uf.Union(it->second, i);
    }
  }
  std::vector<uint32_t> order(o.pairs.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) { return o.pairs[x].weight > o.pairs[y].weight; });
  std::vector<uint8_t> matched(opt.one_to_one ? n : 0, 0);
  for (uint32_t idx : order) {
    const ScoredPair& sp = o.pairs[idx];
    if (sp.weight >= o.threshold_weight) {
      o.expected_false_matches += 1 - sp.probability;
      if (grp(sp.a) != LinkInput::kNoGroup && grp(sp.b) != LinkInput::kNoGroup) continue;  // decided by groups
      if (opt.one_to_one) {
        if (matched[sp.a] || matched[sp.b]) continue;
        if (uf.Union(sp.a, sp.b)) matched[sp.a] = matched[sp.b] = 1;
        else ++o.refused_merges;
      } else if (!uf.Union(sp.a, sp.b)) {
        ++o.refused_merges;
      }
    } else {
      o.expected_missed_matches += sp.probability;
    }
  }
  o.cluster.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    o.cluster[i] = uf.Find(i);
    if (o.cluster[i] == i) ++o.clusters;
  }
  o.seconds_total = Seconds(t0);
  return o;
}

}  // namespace ark
