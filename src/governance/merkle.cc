#include "governance/merkle.h"

#include <openssl/evp.h>

#include <bit>
#include <cstring>
#include <memory>
#include <thread>

namespace ark::merkle {
namespace {

// One fetched SHA-256 implementation and one reusable context per thread: EVP_Digest would fetch
// the algorithm on every call, which costs more than hashing 65 bytes.
struct Hasher {
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Hasher() {
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
  }
  Hash Run(const void* a, size_t na, const void* b = nullptr, size_t nb = 0, const void* c = nullptr, size_t nc = 0) {
    Hash out;
    unsigned int len = 0;
    EVP_DigestInit_ex(ctx, md, nullptr);
    EVP_DigestUpdate(ctx, a, na);
    if (nb) EVP_DigestUpdate(ctx, b, nb);
    if (nc) EVP_DigestUpdate(ctx, c, nc);
    EVP_DigestFinal_ex(ctx, out.data(), &len);
    return out;
  }
};

Hasher& TlsHasher() {
  thread_local Hasher h;
  return h;
}

Hash NodeOf(std::string_view l, std::string_view r) {
  static const uint8_t kNode = 1;
  return TlsHasher().Run(&kNode, 1, l.data(), l.size(), r.data(), r.size());
}

std::string Str(const Hash& h) { return std::string(View(h)); }

}  // namespace

Hash Sha256(std::string_view data) { return TlsHasher().Run(data.data(), data.size()); }

Hash LeafHash(std::string_view entry) {
  static const uint8_t kLeaf = 0;
  return TlsHasher().Run(&kLeaf, 1, entry.data(), entry.size());
}

Hash NodeHash(const Hash& left, const Hash& right) { return NodeOf(View(left), View(right)); }

Hash EmptyRoot() { return Sha256(""); }

uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

std::string HexOf(const Hash& h) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (uint8_t b : h) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

Hash RootOf(const Hash* leaves, uint64_t n) {
  if (n == 0) return EmptyRoot();
  if (n == 1) return leaves[0];
  uint64_t k = SplitPoint(n);
  return NodeHash(RootOf(leaves, k), RootOf(leaves + k, n - k));
}

void ParallelRanges(uint64_t n, int threads, const std::function<void(uint64_t, uint64_t)>& fn) {
  if (threads <= 1 || n < 4096) {
    fn(0, n);
    return;
  }
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    uint64_t b = n * t / threads, e = n * (t + 1) / threads;
    ts.emplace_back([&fn, b, e] { fn(b, e); });
  }
  for (auto& t : ts) t.join();
}

MerkleTree MerkleTree::Build(std::vector<Hash> leaves, int threads) {
  MerkleTree t;
  t.levels_.push_back(std::move(leaves));
  for (size_t h = 0; t.levels_[h].size() >= 2; ++h) {
    const uint64_t n = t.levels_[h].size() / 2;
    std::vector<Hash> up(n);
    const auto& lv = t.levels_[h];
    ParallelRanges(n, threads, [&](uint64_t b, uint64_t e) {
      for (uint64_t i = b; i < e; ++i) up[i] = NodeHash(lv[2 * i], lv[2 * i + 1]);
    });
    t.levels_.push_back(std::move(up));
  }
  return t;
}

void MerkleTree::Reserve(uint64_t n) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].reserve(n);
  if (levels_.size() < 2) levels_.emplace_back();
  levels_[1].reserve(n / 2 + 1);
}

void MerkleTree::Append(const Hash& leaf_hash) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(leaf_hash);
  for (size_t h = 0; (levels_[h].size() & 1) == 0; ++h) {
    if (levels_.size() <= h + 1) levels_.emplace_back();
    const auto& lv = levels_[h];
    Hash parent = NodeHash(lv[lv.size() - 2], lv[lv.size() - 1]);
    levels_[h + 1].push_back(parent);
  }
}

Hash MerkleTree::Subtree(uint64_t begin, uint64_t end) const {
  uint64_t n = end - begin;
  if (std::has_single_bit(n) && begin % n == 0) {
    int h = std::countr_zero(n);
    return levels_[h][begin >> h];
  }
  uint64_t k = SplitPoint(n);
  return NodeHash(Subtree(begin, begin + k), Subtree(begin + k, end));
}

Result<Hash> MerkleTree::Root(uint64_t n) const {
  if (n > size()) return Status::InvalidArgument("tree size " + std::to_string(n) + " beyond the log's " + std::to_string(size()));
  if (n == 0) return EmptyRoot();
  return Subtree(0, n);
}

void MerkleTree::Path(uint64_t m, uint64_t begin, uint64_t end, std::vector<Hash>* out) const {
  uint64_t n = end - begin;
  if (n <= 1) return;
  uint64_t k = SplitPoint(n);
  if (m < k) {
    Path(m, begin, begin + k, out);
    out->push_back(Subtree(begin + k, end));
  } else {
    Path(m - k, begin + k, end, out);
    out->push_back(Subtree(begin, begin + k));
  }
}

Result<std::vector<Hash>> MerkleTree::InclusionProof(uint64_t index, uint64_t n) const {
  if (n > size()) return Status::InvalidArgument("tree size " + std::to_string(n) + " beyond the log's " + std::to_string(size()));
  if (index >= n) return Status::InvalidArgument("leaf " + std::to_string(index) + " is not in a tree of " + std::to_string(n));
  std::vector<Hash> out;
  Path(index, 0, n, &out);
  return out;
}

void MerkleTree::SubProof(uint64_t m, uint64_t begin, uint64_t end, bool whole, std::vector<Hash>* out) const {
  uint64_t n = end - begin;
  if (m == n) {
    if (!whole) out->push_back(Subtree(begin, end));
    return;
  }
  uint64_t k = SplitPoint(n);
  if (m <= k) {
    SubProof(m, begin, begin + k, whole, out);
    out->push_back(Subtree(begin + k, end));
  } else {
    SubProof(m - k, begin + k, end, false, out);
    out->push_back(Subtree(begin, begin + k));
  }
}

Result<std::vector<Hash>> MerkleTree::ConsistencyProof(uint64_t m, uint64_t n) const {
  if (n > size()) return Status::InvalidArgument("tree size " + std::to_string(n) + " beyond the log's " + std::to_string(size()));
  if (m == 0 || m > n) return Status::InvalidArgument("no consistency proof from size " + std::to_string(m) + " to " + std::to_string(n));
  std::vector<Hash> out;
  if (m < n) SubProof(m, 0, n, true, &out);
  return out;
}

namespace {

Status CheckLengths(const std::vector<std::string>& proof) {
  for (size_t i = 0; i < proof.size(); ++i) {
    if (proof[i].size() != 32) return Status::InvalidArgument("proof element " + std::to_string(i) + " is " + std::to_string(proof[i].size()) + " bytes, not 32");
  }
  return Status::OK();
}

std::string ChainInner(std::string seed, const std::string* p, size_t n, uint64_t index) {
  for (size_t i = 0; i < n; ++i) {
    seed = ((index >> i) & 1) == 0 ? Str(NodeOf(seed, p[i])) : Str(NodeOf(p[i], seed));
  }
  return seed;
}

std::string ChainInnerRight(std::string seed, const std::string* p, size_t n, uint64_t index) {
  for (size_t i = 0; i < n; ++i) {
    if ((index >> i) & 1) seed = Str(NodeOf(p[i], seed));
  }
  return seed;
}

std::string ChainBorderRight(std::string seed, const std::string* p, size_t n) {
  for (size_t i = 0; i < n; ++i) seed = Str(NodeOf(p[i], seed));
  return seed;
}

Status Match(const std::string& calc, std::string_view want, const char* what) {
  if (calc.size() == want.size() && std::memcmp(calc.data(), want.data(), calc.size()) == 0) return Status::OK();
  return Status::Corruption(std::string("calculated ") + what + " does not match the given one");
}

}  // namespace

Status VerifyInclusion(uint64_t index, uint64_t size, std::string_view leaf_hash, const std::vector<std::string>& proof,
                       std::string_view root) {
  if (index >= size) return Status::InvalidArgument("leaf index " + std::to_string(index) + " is beyond tree size " + std::to_string(size));
  if (leaf_hash.size() != 32) return Status::InvalidArgument("leaf hash is " + std::to_string(leaf_hash.size()) + " bytes, not 32");
  ARK_RETURN_IF_ERROR(CheckLengths(proof));
  size_t inner = std::bit_width(index ^ (size - 1));
  size_t border = std::popcount(index >> inner);
  if (proof.size() != inner + border) {
    return Status::InvalidArgument("inclusion proof has " + std::to_string(proof.size()) + " hashes, want " + std::to_string(inner + border));
  }
  std::string h = ChainInner(std::string(leaf_hash), proof.data(), inner, index);
  h = ChainBorderRight(std::move(h), proof.data() + inner, border);
  return Match(h, root, "root");
}

Status VerifyConsistency(uint64_t size1, uint64_t size2, const std::vector<std::string>& proof, std::string_view root1,
                         std::string_view root2) {
  if (size1 == 0) return Status::InvalidArgument("a consistency proof from the empty tree proves nothing");
  if (size2 < size1) return Status::InvalidArgument("size2 " + std::to_string(size2) + " < size1 " + std::to_string(size1));
  if (size1 == size2) {
    if (!proof.empty()) return Status::InvalidArgument("size1 = size2 but the proof is not empty");
    if (root1 != root2) return Status::Corruption("size1 = size2 but the roots differ");
    return Status::OK();
  }
  ARK_RETURN_IF_ERROR(CheckLengths(proof));
  if (proof.empty()) return Status::InvalidArgument("empty consistency proof for different sizes");
  // Now 0 < size1 < size2.
  size_t inner = std::bit_width((size1 - 1) ^ (size2 - 1));
  size_t border = std::popcount((size1 - 1) >> inner);
  size_t shift = std::countr_zero(size1);
  inner -= shift;
  std::string seed = proof[0];
  size_t start = 1;
  if (size1 == (uint64_t{1} << shift)) {
    seed = std::string(root1);
    start = 0;
  }
  if (proof.size() != start + inner + border) {
    return Status::InvalidArgument("consistency proof has " + std::to_string(proof.size()) + " hashes, want " +
                                   std::to_string(start + inner + border));
  }
  const std::string* p = proof.data() + start;
  uint64_t mask = (size1 - 1) >> shift;
  std::string h1 = ChainInnerRight(seed, p, inner, mask);
  h1 = ChainBorderRight(std::move(h1), p + inner, border);
  ARK_RETURN_IF_ERROR(Match(h1, root1, "root1"));
  std::string h2 = ChainInner(seed, p, inner, mask);
  h2 = ChainBorderRight(std::move(h2), p + inner, border);
  return Match(h2, root2, "root2");
}

}  // namespace ark::merkle
