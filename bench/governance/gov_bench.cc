// Governance benchmark: the transparency ledger's figures from issue 5.
//   1. durable append rate (batches of 1,000 entries: fdatasync + a signed checkpoint per batch)
//   2. inclusion + consistency proof generation and verification on a 10M-entry tree
//   3. full verification (`ark ledger verify`) of a 1M-entry ledger
// Usage: gov_bench [--dir DIR] [--quick] [--batch N (default 1000)]   (--quick: 1M-entry tree, 100k-entry ledger)
// Prints one JSON object.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include "core/fs.h"
#include "governance/ledger.h"
#include "governance/merkle.h"

using namespace ark;
using Clock = std::chrono::steady_clock;

static double Secs(Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); }

int main(int argc, char** argv) {
  std::string dir = (std::filesystem::temp_directory_path() / "ark_gov_bench").string();
  bool quick = false;
  int batch = 1000;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick")) quick = true;
    if (!std::strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
    if (!std::strcmp(argv[i], "--batch") && i + 1 < argc) batch = std::atoi(argv[++i]);
  }
  const uint64_t tree_n = quick ? 1'000'000 : 10'000'000;
  const uint64_t ledger_n = quick ? 100'000 : 1'000'000;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  // 1 + 3: a ledger of ledger_n entries appended in durable batches; then full verification.
  auto l = gov::Ledger::Open(dir);
  if (!l.ok()) {
    std::fprintf(stderr, "%s\n", l.status().ToString().c_str());
    return 1;
  }
  auto t0 = Clock::now();
  for (uint64_t i = 0; i < ledger_n; i += static_cast<uint64_t>(batch)) {
    std::vector<gov::Json> b;
    b.reserve(batch);
    for (int j = 0; j < batch; ++j) {
      b.push_back(gov::Json{{"type", "run.executed"}, {"project", "bench"}, {"run", i + j}, {"population_band", "1000-9999"},
                            {"definition_sha256", "a3277db681a14fe7b12773ff68ac2c197ce5b16e9d7273453f4ad60d26c55ddc"}});
    }
    auto r = (*l)->Append(std::move(b));
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
  }
  double append_s = Secs(t0);
  l->reset();
  t0 = Clock::now();
  auto rep = gov::VerifyLedger(dir + "/ledger");
  double verify_s = Secs(t0);
  if (!rep.ok()) {
    std::fprintf(stderr, "verify failed: %s\n", rep.status().ToString().c_str());
    return 1;
  }

  // 2: proofs on a tree of tree_n leaves.
  merkle::MerkleTree t;
  t.Reserve(tree_n);
  t0 = Clock::now();
  for (uint64_t i = 0; i < tree_n; ++i) {
    uint64_t v = i;
    t.Append(merkle::LeafHash(std::string_view(reinterpret_cast<const char*>(&v), 8)));
  }
  double build_s = Secs(t0);
  std::mt19937_64 rng(1);
  const int probes = 20000;
  const merkle::Hash root = t.Root();
  t0 = Clock::now();
  for (int i = 0; i < probes; ++i) {
    uint64_t idx = rng() % tree_n;
    auto p = t.InclusionProof(idx, tree_n);
    std::vector<std::string> ps;
    for (auto& h : *p) ps.emplace_back(merkle::View(h));
    if (!merkle::VerifyInclusion(idx, tree_n, merkle::View(t.leaf(idx)), ps, merkle::View(root)).ok()) return 2;
  }
  double incl_us = Secs(t0) * 1e6 / probes;
  t0 = Clock::now();
  for (int i = 0; i < probes; ++i) {
    uint64_t m = 1 + rng() % (tree_n - 1);
    auto p = t.ConsistencyProof(m, tree_n);
    std::vector<std::string> ps;
    for (auto& h : *p) ps.emplace_back(merkle::View(h));
    merkle::Hash r1 = *t.Root(m);
    if (!merkle::VerifyConsistency(m, tree_n, ps, merkle::View(r1), merkle::View(root)).ok()) return 3;
  }
  double cons_us = Secs(t0) * 1e6 / probes;
  std::printf(
      "{\n  \"ledger_entries\": %llu,\n  \"append_batch\": %d,\n  \"append_entries_per_s\": %.0f,\n"
      "  \"full_verify_s\": %.3f,\n  \"tree_leaves\": %llu,\n  \"tree_build_s\": %.2f,\n"
      "  \"inclusion_gen_verify_us\": %.2f,\n  \"consistency_gen_verify_us\": %.2f\n}\n",
      (unsigned long long)rep->entries, batch, rep->entries / append_s, verify_s, (unsigned long long)tree_n, build_s, incl_us, cons_us);
  std::filesystem::remove_all(dir);
  return 0;
}
