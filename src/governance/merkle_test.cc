#include "governance/merkle.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "governance/proof_file.h"
#include "privacy/key.h"

namespace ark::merkle {
namespace {

const std::string kVectors = std::string(ARK_SOURCE_DIR) + "/tests/data/transparency";

std::string Unhex(const std::string& h) {
  std::string out;
  for (size_t i = 0; i < h.size(); i += 2) out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

std::vector<std::string> Strs(const std::vector<Hash>& v) {
  std::vector<std::string> out;
  for (auto& h : v) out.emplace_back(View(h));
  return out;
}

TEST(Merkle, Rfc6962RootsForTheEightStandardLeaves) {
  std::ifstream f(kVectors + "/rfc6962_roots.json");
  if (!f) FAIL() << "no test vectors at " << kVectors;
  auto j = nlohmann::json::parse(f);
  MerkleTree t;
  EXPECT_EQ(HexOf(*t.Root(0)), j["root_by_size_hex"][0].get<std::string>());
  std::vector<Hash> leaves;
  for (size_t i = 0; i < j["leaf_inputs_hex"].size(); ++i) {
    leaves.push_back(LeafHash(Unhex(j["leaf_inputs_hex"][i].get<std::string>())));
    t.Append(leaves.back());
    EXPECT_EQ(HexOf(t.Root()), j["root_by_size_hex"][i + 1].get<std::string>()) << "size " << i + 1;
    EXPECT_EQ(HexOf(RootOf(leaves.data(), leaves.size())), j["root_by_size_hex"][i + 1].get<std::string>());
  }
}

TEST(Merkle, EveryTransparencyVectorGivesItsWantErr) {
  if (!std::filesystem::exists(kVectors)) FAIL();
  int n = 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(kVectors)) {
    if (e.path().extension() != ".json" || e.path().filename() == "rfc6962_roots.json") continue;
    std::ifstream f(e.path());
    auto j = nlohmann::json::parse(f);
    bool want_err = j.value("wantErr", false);
    Status s = gov::VerifyProofFile(e.path().string());
    EXPECT_EQ(!s.ok(), want_err) << e.path() << ": " << s.ToString();
    ++n;
  }
  EXPECT_GT(n, 150);
}

TEST(Merkle, GeneratedProofsVerifyAndTamperedOnesFail) {
  MerkleTree t;
  for (int i = 0; i < 70; ++i) t.Append(LeafHash("entry " + std::to_string(i)));
  for (uint64_t n = 1; n <= 70; ++n) {
    Hash root = *t.Root(n);
    std::vector<Hash> prefix(n);
    for (uint64_t i = 0; i < n; ++i) prefix[i] = t.leaf(i);
    ASSERT_EQ(root, RootOf(prefix.data(), n));
    for (uint64_t i = 0; i < n; ++i) {
      auto p = Strs(*t.InclusionProof(i, n));
      ASSERT_TRUE(VerifyInclusion(i, n, View(t.leaf(i)), p, View(root)).ok()) << i << "/" << n;
      if (!p.empty()) {
        p[0][3] ^= 1;
        EXPECT_FALSE(VerifyInclusion(i, n, View(t.leaf(i)), p, View(root)).ok());
      }
      if (n > 1) EXPECT_FALSE(VerifyInclusion((i + 1) % n, n, View(t.leaf(i)), Strs(*t.InclusionProof(i, n)), View(root)).ok());
    }
    for (uint64_t m = 1; m <= n; ++m) {
      auto p = Strs(*t.ConsistencyProof(m, n));
      Hash r1 = *t.Root(m);
      ASSERT_TRUE(VerifyConsistency(m, n, p, View(r1), View(root)).ok()) << m << "->" << n;
      if (m < n) {
        Hash other = LeafHash("x");
        EXPECT_FALSE(VerifyConsistency(m, n, p, View(other), View(root)).ok());
        p.back()[0] ^= 0x80;
        EXPECT_FALSE(VerifyConsistency(m, n, p, View(r1), View(root)).ok());
      }
    }
  }
}

TEST(Merkle, MalformedInputIsAnErrorNotACrash) {
  Hash h = LeafHash("a");
  EXPECT_FALSE(VerifyInclusion(0, 0, View(h), {}, View(h)).ok());
  EXPECT_FALSE(VerifyInclusion(0, 1, "short", {}, View(h)).ok());
  EXPECT_FALSE(VerifyConsistency(0, 0, {}, View(h), View(h)).ok());
  EXPECT_FALSE(VerifyConsistency(3, 7, {}, View(h), View(h)).ok());
  EXPECT_FALSE(VerifyConsistency(2, 1, {}, View(h), View(h)).ok());
}

}  // namespace
}  // namespace ark::merkle
