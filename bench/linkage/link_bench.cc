// Linkage benchmarks: `link_bench dice [N]` and `link_bench dedupe N [N...]`.
//
//  dice:   Dice coefficients of 1024-bit CLKs, one query against N filters, on one core; the
//          popcounts of the filters are precomputed, so each comparison is 16 AND+POPCNT.
//  dedupe: synthetic person records (half of the people with a second, corrupted record),
//          encoded as `ark pseudonymise` would, then deduplicated by LinkProbabilistic on the
//          encodings (blocking, EM, scoring, clustering); prints seconds, pairs/s and F1.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "link/link.h"
#include "link/probabilistic.h"
#include "privacy/bloom.h"

using namespace ark;

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Scalar kernel: counts filters with Dice >= t against `q` (popcounts precomputed).
__attribute__((noinline)) size_t DiceScan(const uint64_t* q, int qc, const uint64_t* base, const uint16_t* counts,
                                           size_t n, double t) {
  size_t hits = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t* b = base + i * kClkWords;
    int ab = 0;
    for (int w = 0; w < kClkWords; ++w) ab += __builtin_popcountll(q[w] & b[w]);
    hits += 2.0 * ab >= t * (qc + counts[i]);
  }
  return hits;
}

int Dice(size_t n) {
  std::mt19937_64 rng(7);
  std::vector<uint64_t> base(n * kClkWords);
  std::vector<uint16_t> counts(n);
  for (size_t i = 0; i < n; ++i) {
    int c = 0;
    for (int w = 0; w < kClkWords; ++w) {
      uint64_t x = rng() & rng() | (rng() & rng());  // about half the bits set
      base[i * kClkWords + w] = x;
      c += __builtin_popcountll(x);
    }
    counts[i] = static_cast<uint16_t>(c);
  }
  // Tiled like an all-pairs comparison: each tile of 1,024 filters (128 KB) stays in cache
  // while every query is compared with it.
  const int queries = 256;
  const size_t tile = 1024;
  size_t hits = 0;
  double t0 = Now();
  for (size_t lo = 0; lo < n; lo += tile) {
    const size_t m = std::min(tile, n - lo);
    for (int k = 0; k < queries; ++k) {
      const size_t qi = (static_cast<size_t>(k) * 7919) % n;
      hits += DiceScanClk(&base[qi * kClkWords], counts[qi], &base[lo * kClkWords], &counts[lo], m, 0.8, nullptr);
    }
  }
  double s = Now() - t0;
  double rate = static_cast<double>(queries) * n / s;
  std::printf("{\"bench\": \"dice\", \"filters\": %zu, \"queries\": %d, \"seconds\": %.3f, "
              "\"comparisons_per_second_per_core\": %.0f, \"hits\": %zu}\n", n, queries, s, rate, hits);
  return 0;
}

std::string RandomName(std::mt19937_64& rng, int syl) {
  static const char* kSyl[] = {"an", "ber", "ca", "dor", "el", "fa", "gan", "hol", "is", "jo", "ka", "lin", "mar",
                               "ne", "or", "pa", "qui", "ros", "sa", "tan", "ul", "ver", "wil", "ya", "zen", "th",
                               "mi", "son", "ley", "ton"};
  std::string s;
  for (int i = 0; i < syl; ++i) s += kSyl[rng() % 30];
  return s;
}

std::string Typo(std::mt19937_64& rng, std::string s) {
  if (s.size() < 3) return s;
  size_t p = 1 + rng() % (s.size() - 2);
  switch (rng() % 3) {
    case 0: s.erase(p, 1); break;
    case 1: s[p] = static_cast<char>('a' + rng() % 26); break;
    default: std::swap(s[p], s[p + 1 < s.size() ? p + 1 : p - 1]); break;
  }
  return s;
}

int Dedupe(size_t n, int threads) {
  std::mt19937_64 rng(42 + n);
  Digest kb{};
  kb.fill(0x11);
  ProgrammeKey key = ProgrammeKey::FromBytes(kb);
  const auto& fields = ArkEncodedFields();
  Encoder enc(key, fields);
  const size_t nf = fields.size();
  LinkInput in;
  in.fields = fields;
  in.encoded = true;
  in.n = n;
  in.filters.assign(nf, std::vector<uint64_t>(n * kFieldWords));
  in.present.assign(nf, std::vector<uint8_t>(n));
  in.blocking.assign(kNameRules + kLshBands, std::vector<uint64_t>(n));
  in.clk.resize(n * kClkWords);
  std::vector<uint64_t> truth(n);
  double t0 = Now();
  std::vector<std::string> v(nf), base(nf);
  size_t person = 0;
  for (size_t i = 0; i < n; ++person) {
    base[0] = RandomName(rng, 2);
    base[1] = RandomName(rng, 2 + rng() % 2);
    char dob[16];
    std::snprintf(dob, sizeof dob, "%04d%02d%02d", 1920 + int(rng() % 100), 1 + int(rng() % 12), 1 + int(rng() % 28));
    base[2] = dob;
    char pc[16];
    std::snprintf(pc, sizeof pc, "LS%d%d%c%c", int(rng() % 30), int(rng() % 10), 'A' + int(rng() % 26), 'A' + int(rng() % 26));
    base[3] = pc;
    base[4] = rng() % 2 ? "m" : "f";
    const int copies = rng() % 2 ? 2 : 1;
    for (int c = 0; c < copies && i < n; ++c, ++i) {
      v = base;
      if (c == 1) {
        int what = rng() % 4;
        if (what == 0) v[0] = Typo(rng, v[0]);
        if (what == 1) v[1] = Typo(rng, v[1]);
        if (what == 2) std::swap(v[2][6], v[2][7]);
        if (what == 3) v[3] = "";
      }
      RecordEncoding e = enc.Encode(v, i + 1);
      for (size_t f = 0; f < nf; ++f) {
        std::memcpy(&in.filters[f][i * kFieldWords], &e.fields[f * kFieldWords], kFieldWords * 8);
        in.present[f][i] = e.present[f];
      }
      for (size_t b = 0; b < e.blocking.size(); ++b) in.blocking[b][i] = e.blocking[b];
      std::memcpy(&in.clk[i * kClkWords], e.clk.data(), kClkWords * 8);
      truth[i] = person;
    }
  }
  double t_enc = Now() - t0;
  LinkOptions lo;
  lo.threads = threads;
  auto out = LinkProbabilistic(in, lo);
  if (!out.ok()) {
    std::fprintf(stderr, "%s\n", out.status().message().c_str());
    return 1;
  }
  std::vector<uint64_t> pred(out->cluster.begin(), out->cluster.end());
  PairwiseQuality q = ScorePairs(pred, truth);
  std::printf("{\"bench\": \"dedupe_pprl\", \"records\": %zu, \"threads\": %d, \"encode_seconds\": %.2f, "
              "\"link_seconds\": %.2f, \"blocking_seconds\": %.2f, \"em_seconds\": %.2f, \"candidate_pairs\": %llu, "
              "\"scored_pairs_per_second\": %.0f, \"precision\": %.4f, \"recall\": %.4f, \"f1\": %.4f}\n",
              n, threads, t_enc, out->seconds_total, out->seconds_blocking, out->seconds_em,
              (unsigned long long)out->candidate_pairs, out->candidate_pairs / std::max(out->seconds_total, 1e-9),
              q.precision, q.recall, q.f1);
  std::printf("{\"pairs_per_rule\": [");
  for (size_t r = 0; r < out->pairs_per_rule.size(); ++r) std::printf("%s%llu", r ? ", " : "", (unsigned long long)out->pairs_per_rule[r]);
  std::printf("], \"skipped_blocks\": %llu, \"lsh_bits\": %d, \"kept_pairs\": %zu, \"rule_refine_bits\": [",
              (unsigned long long)out->skipped_blocks, out->lsh_bits, out->pairs.size());
  for (size_t r = 0; r < out->rule_refine_bits.size(); ++r) std::printf("%s%d", r ? ", " : "", out->rule_refine_bits[r]);
  std::printf("]}\n");
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: link_bench dice [N] | link_bench dedupe N [N...]\n");
    return 2;
  }
  std::string what = argv[1];
  if (what == "dice") return Dice(argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000000);
  if (what == "dedupe") {
    int threads = 2;
    for (int i = 2; i < argc; ++i) {
      if (int rc = Dedupe(std::strtoull(argv[i], nullptr, 10), threads)) return rc;
    }
    return 0;
  }
  std::fprintf(stderr, "unknown benchmark '%s'\n", what.c_str());
  return 2;
}
