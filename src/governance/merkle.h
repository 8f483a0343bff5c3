// RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification (the transparency
// ledger's core; shared SPECS.md "Transparency ledger").
//
//   leaf hash = SHA-256(0x00 || entry), node hash = SHA-256(0x01 || left || right),
//   empty tree = SHA-256(""); a tree of n > 1 leaves splits at the largest power of two k < n.
//
// MerkleTree keeps every complete ("perfect") subtree hash, level by level (2n hashes in all), so
// the root of any prefix, an inclusion proof and a consistency proof each cost O(log^2 n) hashes at
// worst. Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 (the transparency-dev algorithm);
// malformed input (wrong hash lengths, sizes, proof lengths) is an error, never a crash.
//
// Thread safety: MerkleTree is not synchronised; the free functions are pure.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ark/status.h"

namespace ark::merkle {

using Hash = std::array<uint8_t, 32>;

Hash Sha256(std::string_view data);
Hash LeafHash(std::string_view entry);
Hash NodeHash(const Hash& left, const Hash& right);
Hash EmptyRoot();

// Runs fn(begin, end) over [0, n) split into `threads` contiguous ranges, on that many threads.
void ParallelRanges(uint64_t n, int threads, const std::function<void(uint64_t, uint64_t)>& fn);

// Largest power of two strictly smaller than n (n >= 2).
uint64_t SplitPoint(uint64_t n);

// The root of the leaves (by their hashes), computed directly (O(n)); used by tests and verify.
Hash RootOf(const Hash* leaves, uint64_t n);

class MerkleTree {
 public:
  void Append(const Hash& leaf_hash);
  // A tree over `leaves` built level by level on `threads` threads (same result as Append).
  static MerkleTree Build(std::vector<Hash> leaves, int threads = 1);
  void Reserve(uint64_t n);
  uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }
  const Hash& leaf(uint64_t i) const { return levels_[0][i]; }

  // Root of the first `n` leaves (n <= size()).
  Result<Hash> Root(uint64_t n) const;
  Hash Root() const { return *Root(size()); }
  // RFC 9162 inclusion proof of leaf `index` in the tree of the first `n` leaves.
  Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t n) const;
  // RFC 9162 consistency proof between the trees of the first `m` and `n` leaves (0 < m <= n).
  Result<std::vector<Hash>> ConsistencyProof(uint64_t m, uint64_t n) const;

 private:
  // Hash of leaves [begin, end) where the range is a node of some tree (begin aligned as RFC 6962
  // recursion produces it).
  Hash Subtree(uint64_t begin, uint64_t end) const;
  void Path(uint64_t m, uint64_t begin, uint64_t end, std::vector<Hash>* out) const;
  void SubProof(uint64_t m, uint64_t begin, uint64_t end, bool whole, std::vector<Hash>* out) const;

  // levels_[h][i] = hash of the perfect subtree of 2^h leaves starting at leaf i * 2^h.
  std::vector<std::vector<Hash>> levels_;
};

// Verifies that `leaf_hash` is leaf `index` of the tree of `size` leaves with root `root`.
// Hashes are given as raw bytes so that wrong lengths can be reported rather than assumed away.
Status VerifyInclusion(uint64_t index, uint64_t size, std::string_view leaf_hash,
                       const std::vector<std::string>& proof, std::string_view root);
// Verifies that the tree of size1 leaves (root1) is a prefix of the tree of size2 leaves (root2).
// size1 == 0 is an error (a proof about the empty tree proves nothing).
Status VerifyConsistency(uint64_t size1, uint64_t size2, const std::vector<std::string>& proof,
                         std::string_view root1, std::string_view root2);

inline std::string_view View(const Hash& h) { return {reinterpret_cast<const char*>(h.data()), h.size()}; }
std::string HexOf(const Hash& h);

}  // namespace ark::merkle
