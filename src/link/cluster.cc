#include "link/cluster.h"

#include <algorithm>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

namespace ark {
namespace {

// Union-find with the hard constraints and a circular member list per cluster.
struct Clusters {
  std::vector<uint32_t> parent, next, size;
  std::vector<uint32_t> group;   // per root
  // Per root: bits of the one-record-per-person sources it holds; one byte a record when there
  // are at most 8 such sources, none when there are none.
  class SourceBits {
   public:
    void Init(size_t n, int sources) {
      if (sources > 8) wide_.assign(n, 0);
      else if (sources > 0) narrow_.assign(n, 0);
    }
    uint64_t Get(uint32_t i) const { return !narrow_.empty() ? narrow_[i] : !wide_.empty() ? wide_[i] : 0; }
    void Set(uint32_t i, uint64_t bits) {
      if (!narrow_.empty()) narrow_[i] = static_cast<uint8_t>(bits);
      else wide_[i] = bits;
    }
    void Release() {
      std::vector<uint8_t>().swap(narrow_);
      std::vector<uint64_t>().swap(wide_);
    }
   private:
    std::vector<uint8_t> narrow_;
    std::vector<uint64_t> wide_;
  } unique;
  // Reviewed non-matches: per record its cannot-link partners; per root the records of the
  // cluster that have any (both empty without decisions).
  std::vector<std::vector<uint32_t>> cannot, with_cannot;
  explicit Clusters(size_t n) : parent(n), next(n), size(n, 1), group(n, LinkInput::kNoGroup) {
    std::iota(parent.begin(), parent.end(), 0u);
    std::iota(next.begin(), next.end(), 0u);
  }
  uint32_t Find(uint32_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  // The hard rule roots a and b would break by merging, or nullptr. `same_group`: the two records
  // share a group (an NHS-number pseudonym), which wins over the one-record-per-person rule when
  // the data disagree.
  const char* Conflict(uint32_t a, uint32_t b, bool same_group = false) {
    if (group[a] != LinkInput::kNoGroup && group[b] != LinkInput::kNoGroup && group[a] != group[b]) {
      return "different valid NHS pseudonyms";
    }
    if (!same_group && (unique.Get(a) & unique.Get(b))) return "two records of a one-record-per-person source";
    if (!with_cannot.empty()) {
      if (with_cannot[a].size() > with_cannot[b].size()) std::swap(a, b);
      for (uint32_t r : with_cannot[a])
        for (uint32_t p : cannot[r])
          if (Find(p) == b) return "a reviewed non-match";
    }
    return nullptr;
  }
  void CannotLink(uint32_t x, uint32_t y) {  // records
    if (cannot.empty()) cannot.resize(parent.size()), with_cannot.resize(parent.size());
    for (uint32_t r : {x, y}) {
      if (cannot[r].empty()) with_cannot[Find(r)].push_back(r);
      cannot[r].push_back(r == x ? y : x);
    }
  }
  // Frees what only merging needs: Find and size stay.
  void ReleaseForSummary() {
    std::vector<uint32_t>().swap(next);
    std::vector<uint32_t>().swap(group);
    unique.Release();
    std::vector<std::vector<uint32_t>>().swap(cannot);
    std::vector<std::vector<uint32_t>>().swap(with_cannot);
  }
  void Join(uint32_t a, uint32_t b) {  // roots, a != b
    if (a > b) std::swap(a, b);
    parent[b] = a;
    if (group[a] == LinkInput::kNoGroup) group[a] = group[b];
    if (const uint64_t ub = unique.Get(b)) unique.Set(a, unique.Get(a) | ub);
    size[a] += size[b];
    std::swap(next[a], next[b]);  // splices the two member cycles
    if (!with_cannot.empty() && !with_cannot[b].empty()) {
      with_cannot[a].insert(with_cannot[a].end(), with_cannot[b].begin(), with_cannot[b].end());
      std::vector<uint32_t>().swap(with_cannot[b]);
    }
  }
};

void SetConstraints(const LinkInput& in, Clusters* c) {
  const size_t n = in.n;
  if (!in.unique_source.empty() && !in.source.empty()) {
    std::vector<int> bit(in.unique_source.size(), -1);
    int next_bit = 0;
    for (size_t s = 0; s < in.unique_source.size() && next_bit < 64; ++s)
      if (in.unique_source[s]) bit[s] = next_bit++;
    c->unique.Init(n, next_bit);
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t s = in.source[i];
      if (s < bit.size() && bit[s] >= 0) c->unique.Set(i, uint64_t{1} << bit[s]);
    }
  }
  if (!in.group.empty()) {
    // The first record of each group: in an array when the group ids are dense (below 2n, as
    // NHS-number groups are: 4 bytes a group), else in a map.
    uint32_t top = 0;
    for (uint32_t g : in.group) if (g != LinkInput::kNoGroup) top = std::max(top, g);
    const bool dense = top < 2 * std::max<size_t>(n, 1);
    std::vector<uint32_t> first_dense(dense ? size_t{top} + 1 : 0, LinkInput::kNoGroup);
    std::unordered_map<uint32_t, uint32_t> first_sparse;
    for (uint32_t i = 0; i < n; ++i) {
      if (in.group[i] == LinkInput::kNoGroup) continue;
      c->group[i] = in.group[i];
      uint32_t first = i;
      if (dense) {
        if (first_dense[in.group[i]] == LinkInput::kNoGroup) first_dense[in.group[i]] = i;
        first = first_dense[in.group[i]];
      } else {
        first = first_sparse.emplace(in.group[i], i).first->second;
      }
      if (first == i) continue;
      const uint32_t a = c->Find(first), b = c->Find(i);
      if (a != b && !c->Conflict(a, b, /*same_group=*/true)) c->Join(a, b);
    }
  }
}

// Kept pairs per record (CSR): indices into the pairs, each record's in pair order (4 bytes per
// pair end; the pairs themselves are not copied).
struct Adjacency {
  const std::vector<ScoredPair>& pairs;
  std::vector<uint32_t> start;
  std::vector<uint32_t> at;  // pair index
  Adjacency(size_t n, const std::vector<ScoredPair>& p) : pairs(p), start(n + 1, 0), at(n ? p.size() * 2 : 0) {
    if (n == 0) return;
    for (auto& q : p) ++start[q.a + 1], ++start[q.b + 1];
    for (size_t i = 0; i < n; ++i) start[i + 1] += start[i];
    std::vector<uint32_t> fill(start.begin(), start.end() - 1);
    for (uint32_t i = 0; i < p.size(); ++i) {
      at[fill[p[i].a]++] = i;
      at[fill[p[i].b]++] = i;
    }
  }
  // The other record of pair k of record m, and the pair's match probability.
  uint32_t Other(uint32_t m, uint32_t k) const { return pairs[at[k]].a == m ? pairs[at[k]].b : pairs[at[k]].a; }
  float Probability(uint32_t k) const { return pairs[at[k]].probability; }
};

void Summarise(const LinkInput& in, Clusters& c, const std::vector<uint8_t>& conflicted, LinkOutcome* o) {
  const size_t n = in.n;
  o->cluster.resize(n);
  std::vector<uint8_t> conflict_root(n, 0);
  std::vector<uint8_t> two_groups(n, 0);
  std::vector<uint32_t> group_of_root(in.group.empty() ? 0 : n, LinkInput::kNoGroup);
  for (uint32_t i = 0; i < n; ++i) {
    o->cluster[i] = c.Find(i);
    if (conflicted[i]) conflict_root[o->cluster[i]] = 1;
    if (in.group.empty() || in.group[i] == LinkInput::kNoGroup) continue;
    uint32_t& g = group_of_root[o->cluster[i]];
    if (g == LinkInput::kNoGroup) g = in.group[i];
    else if (g != in.group[i]) two_groups[o->cluster[i]] = 1;
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (o->cluster[i] != i) continue;
    ++o->clusters;
    o->clustering.conflict_clusters += conflict_root[i];
    o->clustering.two_group_clusters += two_groups[i];
    const size_t b = ClusterSizeBucket(c.size[i]);
    if (o->clustering.sizes.size() <= b) o->clustering.sizes.resize(b + 1, 0);
    ++o->clustering.sizes[b];
    o->clustering.largest = std::max<uint64_t>(o->clustering.largest, c.size[i]);
  }
}

}  // namespace

size_t ClusterSizeBucket(size_t size) {
  size_t b = 0;
  while (size > 1) size >>= 1, ++b;
  return b;
}

nlohmann::ordered_json ClusteringJson(const ClusterStats& c, uint64_t clusters, uint64_t refused_merges) {
  nlohmann::ordered_json sizes = nlohmann::ordered_json::object();
  for (size_t b = 0; b < c.sizes.size(); ++b)
    if (c.sizes[b]) sizes[ClusterSizeBucketLabel(b)] = c.sizes[b];
  return {{"clusters", clusters},
          {"largest_cluster", c.largest},
          {"cluster_sizes", sizes},
          {"bound_mean_cross_pair_probability", c.bound},
          {"merges", c.merges},
          {"merges_refused_incoherent", c.incoherent_merges},
          {"merges_refused_hard_conflict", refused_merges},
          {"clusters_with_refused_hard_conflict", c.conflict_clusters},
          {"clusters_with_two_groups", c.two_group_clusters},
          {"expected_false_merges", c.expected_false_merges},
          {"expected_false_merge_rate", c.ExpectedFalseMergeRate()}};
}

std::string ClusterSizeBucketLabel(size_t bucket) {
  if (bucket == 0) return "1";
  return std::to_string(size_t{1} << bucket) + "-" + std::to_string((size_t{2} << bucket) - 1);
}

namespace {

// Reviewed decisions first: non-matches become cannot-links, then matches merge in the order
// given unless a hard rule forbids it. Returns the decided pairs (min << 32 | max).
std::unordered_set<uint64_t> ApplyMatchDecisions(const LinkInput& in, const LinkOptions& opt, Clusters* c,
                                                 std::vector<uint8_t>* matched, LinkOutcome* o) {
  std::unordered_set<uint64_t> decided;
  std::unordered_map<uint64_t, uint32_t> pair_index;
  auto key = [](uint32_t a, uint32_t b) { return uint64_t{std::min(a, b)} << 32 | std::max(a, b); };
  for (const auto& d : in.decisions) {
    decided.insert(key(d.a, d.b));
    if (!d.match) c->CannotLink(d.a, d.b);
  }
  if (in.decisions.empty()) return decided;
  for (uint32_t i = 0; i < o->pairs.size(); ++i) {
    const uint64_t k = key(o->pairs[i].a, o->pairs[i].b);
    if (decided.count(k)) pair_index.emplace(k, i);
  }
  o->decisions.assign(in.decisions.size(), {LinkOutcome::DecisionResult::kKeptApart, ""});
  for (size_t i = 0; i < in.decisions.size(); ++i) {
    const auto& d = in.decisions[i];
    if (!d.match) continue;
    auto& out = o->decisions[i];
    const uint32_t ra = c->Find(d.a), rb = c->Find(d.b);
    const char* why = ra == rb ? nullptr : c->Conflict(ra, rb);
    if (!why && opt.one_to_one && ((*matched)[d.a] || (*matched)[d.b])) why = "one-to-one: a record already linked";
    if (why) {
      out = {LinkOutcome::DecisionResult::kConflict, why};
      continue;
    }
    out.result = LinkOutcome::DecisionResult::kLinked;
    if (ra == rb) continue;
    c->Join(ra, rb);
    if (opt.one_to_one) (*matched)[d.a] = (*matched)[d.b] = 1;
    if (auto it = pair_index.find(key(d.a, d.b)); it != pair_index.end()) o->linked.push_back(it->second);
  }
  return decided;
}

// After clustering: a non-match whose records ended up together (only a shared NHS pseudonym
// can do that) is reported as a conflict.
void CheckNonMatchDecisions(const LinkInput& in, Clusters* c, LinkOutcome* o) {
  for (size_t i = 0; i < in.decisions.size(); ++i) {
    const auto& d = in.decisions[i];
    if (d.match || c->Find(d.a) != c->Find(d.b)) continue;
    o->decisions[i] = {LinkOutcome::DecisionResult::kConflict, "the same valid NHS pseudonym"};
  }
}

}  // namespace

void ClusterAcceptedPairs(const LinkInput& in, const LinkOptions& opt, LinkOutcome* o, const PairScorer* score,
                          const WeakPairFile* weak) {
  const size_t n = in.n;
  auto grp = [&](uint32_t i) { return in.group.empty() ? LinkInput::kNoGroup : in.group[i]; };
  Clusters c(n);
  SetConstraints(in, &c);
  o->clustering.bound = opt.cluster_bound.value_or(o->threshold_probability);
  std::vector<uint8_t> matched(opt.one_to_one ? n : 0, 0), conflicted(n, 0);
  const std::unordered_set<uint64_t> decided = ApplyMatchDecisions(in, opt, &c, &matched, o);
  auto is_decided = [&](const ScoredPair& p) {
    return !decided.empty() && decided.count(uint64_t{std::min(p.a, p.b)} << 32 | std::max(p.a, p.b));
  };
  auto in_band = [&](const ScoredPair& p) {
    return opt.review_band && p.probability >= (*opt.review_band)[0] && p.probability < (*opt.review_band)[1];
  };
  std::vector<uint32_t> order;
  for (uint32_t i = 0; i < o->pairs.size(); ++i) {
    const ScoredPair& p = o->pairs[i];
    if (is_decided(p)) continue;
    if (in_band(p)) {
      if (grp(p.a) == LinkInput::kNoGroup || grp(p.b) == LinkInput::kNoGroup) o->review.push_back(i);
      continue;
    }
    if (p.weight >= o->threshold_weight) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t x, uint32_t y) { return o->pairs[x].weight > o->pairs[y].weight; });
  Adjacency adj(opt.one_to_one ? 0 : n, o->pairs);
  // Refused (root, root) -> their sizes then: unchanged sizes mean unchanged clusters.
  std::unordered_map<uint64_t, uint64_t> refused;
  std::vector<WeakPairFile::End> weak_ends;
  for (uint32_t idx : order) {
    if (weak && !weak->status().ok()) break;
    const ScoredPair& sp = o->pairs[idx];
    if (grp(sp.a) != LinkInput::kNoGroup && grp(sp.b) != LinkInput::kNoGroup) continue;  // decided by groups
    if (opt.one_to_one && (matched[sp.a] || matched[sp.b])) continue;  // a stronger link was kept
    uint32_t ra = c.Find(sp.a), rb = c.Find(sp.b);
    if (ra == rb) {
      o->linked.push_back(idx);
      continue;
    }
    if (c.Conflict(ra, rb)) {
      ++o->refused_merges;
      conflicted[sp.a] = conflicted[sp.b] = 1;
      continue;
    }
    double mean = sp.probability;
    if (!opt.one_to_one) {
      if (c.size[ra] > c.size[rb]) std::swap(ra, rb);
      const uint32_t lo = std::min(ra, rb), hi = std::max(ra, rb);
      const uint64_t key = uint64_t{lo} << 32 | hi, sizes = uint64_t{c.size[lo]} << 32 | c.size[hi];
      if (auto it = refused.find(key); it != refused.end() && it->second == sizes) {
        ++o->clustering.incoherent_merges;
        continue;
      }
      const double cross = static_cast<double>(c.size[ra]) * c.size[rb];
      double sum = 0;
      uint32_t m = ra;
      if (score && cross <= static_cast<double>(opt.cluster_score_limit)) {
        do {  // every cross pair, scored now if blocking did not
          uint32_t x = rb;
          do {
            sum += (*score)(m, x);
            x = c.next[x];
          } while (x != rb);
          m = c.next[m];
        } while (m != ra);
      } else if (weak) {
        do {  // o->pairs' and the weak pairs of m, merged by partner: the order of all kept pairs
          if (!weak->Of(m, &weak_ends)) break;
          uint32_t k = adj.start[m];
          size_t j = 0;
          while (k < adj.start[m + 1] || j < weak_ends.size()) {
            if (j == weak_ends.size() || (k < adj.start[m + 1] && adj.Other(m, k) < weak_ends[j].other)) {
              if (c.Find(adj.Other(m, k)) == rb) sum += adj.Probability(k);
              ++k;
            } else {
              if (c.Find(weak_ends[j].other) == rb) sum += weak_ends[j].probability;
              ++j;
            }
          }
          m = c.next[m];
        } while (m != ra);
        if (!weak->status().ok()) break;
      } else {
        do {
          for (uint32_t k = adj.start[m]; k < adj.start[m + 1]; ++k)
            if (c.Find(adj.Other(m, k)) == rb) sum += adj.Probability(k);
          m = c.next[m];
        } while (m != ra);
      }
      mean = sum / cross;
      if (mean < o->clustering.bound) {
        ++o->clustering.incoherent_merges;
        refused[key] = sizes;
        continue;
      }
    }
    c.Join(ra, rb);
    if (opt.one_to_one) matched[sp.a] = matched[sp.b] = 1;
    o->linked.push_back(idx);
    ++o->clustering.merges;
    o->clustering.expected_false_merges += 1 - std::min(mean, 1.0);
  }
  std::sort(o->linked.begin(), o->linked.end());
  CheckNonMatchDecisions(in, &c, o);
  // What Summarise does not read, freed before it allocates its per-record arrays.
  std::vector<uint32_t>().swap(order);
  std::vector<uint32_t>().swap(adj.start);
  std::vector<uint32_t>().swap(adj.at);
  std::unordered_map<uint64_t, uint64_t>().swap(refused);
  c.ReleaseForSummary();
  Summarise(in, c, conflicted, o);
}

}  // namespace ark
