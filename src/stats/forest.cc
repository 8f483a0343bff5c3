#include "stats/forest.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <thread>

#include <nlohmann/json.hpp>

namespace ark::stats {
namespace {

using Json = nlohmann::json;

// One tree of the booster as xgboost's JSON keeps it: parallel arrays indexed by node id, a leaf
// having left child -1 and its value in split_conditions.
struct Tree {
  std::vector<int> left, right, feature;
  std::vector<float> split;
};

Status NotFlattened(const std::string& why) { return Status::FailedPrecondition("booster: " + why); }

Result<Tree> ReadTree(const Json& t, size_t index, size_t cols) {
  Tree tree;
  t.at("left_children").get_to(tree.left);
  t.at("right_children").get_to(tree.right);
  t.at("split_indices").get_to(tree.feature);
  t.at("split_conditions").get_to(tree.split);
  const size_t n = tree.left.size();
  const std::string name = "tree " + std::to_string(index);
  if (n == 0 || tree.right.size() != n || tree.feature.size() != n || tree.split.size() != n)
    return Status::InvalidArgument("booster: " + name + " has node arrays of different lengths");
  if (t.contains("split_type"))
    for (int s : t["split_type"].get<std::vector<int>>())
      if (s != 0) return NotFlattened(name + " has a categorical split");
  for (size_t i = 0; i < n; ++i) {
    if (tree.left[i] == -1) continue;
    if (tree.left[i] <= 0 || tree.right[i] <= 0 || static_cast<size_t>(tree.left[i]) >= n || static_cast<size_t>(tree.right[i]) >= n)
      return Status::InvalidArgument("booster: " + name + " node " + std::to_string(i) + " has a child out of range");
    if (tree.feature[i] < 0 || static_cast<size_t>(tree.feature[i]) >= cols)
      return Status::InvalidArgument("booster: " + name + " node " + std::to_string(i) + " splits on column " +
                                     std::to_string(tree.feature[i]) + " of " + std::to_string(cols));
  }
  return tree;
}

// The depth of the tree below `root` (a leaf alone: 0), or -1 when a node is reached twice.
int Depth(const Tree& t) {
  std::vector<std::pair<int, int>> stack{{0, 0}};
  size_t seen = 0;
  int depth = 0;
  while (!stack.empty()) {
    auto [node, d] = stack.back();
    stack.pop_back();
    if (++seen > t.left.size()) return -1;
    depth = std::max(depth, d);
    if (t.left[node] != -1) stack.push_back({t.left[node], d + 1}), stack.push_back({t.right[node], d + 1});
  }
  return depth;
}

float ParseFloat(const Json& v, const char* what) {
  const std::string s = v.get<std::string>();
  char* end = nullptr;
  errno = 0;
  const float f = std::strtof(s.c_str(), &end);
  if (s.empty() || *end != '\0' || errno != 0) throw std::invalid_argument(std::string(what) + " '" + s + "' is not a number");
  return f;
}

// xgboost's sigmoid, in float.
double Sigmoid(float margin) { return 1.0f / (std::exp(std::min(-margin, 88.7f)) + 1.0f); }

}  // namespace

Result<Forest> Forest::Flatten(const std::string& booster_json, size_t cols) {
  const Json j = Json::parse(booster_json, nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument("booster: not JSON");
  Forest f;
  f.cols_ = cols;
  std::vector<Tree> trees;
  try {
    const Json& learner = j.at("learner");
    if (learner.at("objective").at("name") != "binary:logistic") return NotFlattened("objective is not binary:logistic");
    const Json& booster = learner.at("gradient_booster");
    if (booster.at("name") != "gbtree") return NotFlattened("booster is not gbtree");
    const Json& param = learner.at("learner_model_param");
    if (param.contains("num_target") && param["num_target"] != "1") return NotFlattened("more than one target");
    if (param.contains("num_class") && param["num_class"] != "0") return NotFlattened("more than one class");
    const float base = ParseFloat(param.at("base_score"), "base_score");
    if (!(base > 0 && base < 1)) return Status::InvalidArgument("booster: base_score is not a probability in (0, 1)");
    f.base_margin_ = -std::log(1.0f / base - 1.0f);
    const Json& model = booster.at("model");
    for (int group : model.at("tree_info").get<std::vector<int>>())
      if (group != 0) return NotFlattened("more than one output group");
    for (const Json& t : model.at("trees")) {
      auto tree = ReadTree(t, trees.size(), cols);
      if (!tree.ok()) return tree.status();
      trees.push_back(std::move(*tree));
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("booster: ") + e.what());
  }
  for (size_t i = 0; i < trees.size(); ++i) {
    const int d = Depth(trees[i]);
    if (d < 0) return Status::InvalidArgument("booster: tree " + std::to_string(i) + " is not a tree");
    if (d > kMaxForestDepth) return NotFlattened("tree " + std::to_string(i) + " is deeper than " + std::to_string(kMaxForestDepth));
    f.depth_ = std::max(f.depth_, d);
  }
  f.trees_ = trees.size();
  const size_t internal = (size_t{1} << f.depth_) - 1, leaves = size_t{1} << f.depth_;
  f.feature_.assign(f.trees_ * internal, 0);
  f.split_.assign(f.trees_ * internal, 0);
  f.leaf_.assign(f.trees_ * leaves, 0);
  // Each tree becomes a perfect tree of depth_: a leaf above the bottom level is copied into
  // every slot below it, so whichever way its padding nodes send a row, it ends there.
  for (size_t t = 0; t < f.trees_; ++t) {
    const Tree& tree = trees[t];
    std::vector<std::pair<int, size_t>> stack{{0, 0}};  // (xgboost node, slot in the perfect tree)
    while (!stack.empty()) {
      auto [node, slot] = stack.back();
      stack.pop_back();
      if (slot >= internal) {
        f.leaf_[t * leaves + slot - internal] = tree.split[node];
        continue;
      }
      const bool leaf = tree.left[node] == -1;
      if (!leaf) {
        f.feature_[t * internal + slot] = static_cast<uint32_t>(tree.feature[node]);
        f.split_[t * internal + slot] = tree.split[node];
      }
      stack.push_back({leaf ? node : tree.left[node], 2 * slot + 1});
      stack.push_back({leaf ? node : tree.right[node], 2 * slot + 2});
    }
  }
  return f;
}

namespace {

// Shallow trees (depth <= kMaskDepth): every node's comparison is made for a block of rows at
// once, column by column (contiguous loads, which the compiler vectorises), into one bit per node;
// the leaf is then looked up from the bits (kLeafOf). Deeper trees are walked row by row.
constexpr int kMaskDepth = 4;
constexpr size_t kBlock = 256;

// For a perfect tree of depth d: the leaf reached when bit i of the mask says "right" at node i.
std::vector<uint8_t> LeafOfMask(int depth) {
  const size_t internal = (size_t{1} << depth) - 1;
  std::vector<uint8_t> leaf(size_t{1} << internal);
  for (size_t mask = 0; mask < leaf.size(); ++mask) {
    size_t i = 0;
    for (int d = 0; d < depth; ++d) i = 2 * i + 1 + ((mask >> i) & 1);
    leaf[mask] = static_cast<uint8_t>(i - internal);
  }
  return leaf;
}

// Adds each tree's leaf for the kBlock rows of the block to sum; `xt` holds the block column-major
// (column c of row r at c * kBlock + r). Loops of a fixed length, so that they are vectorised; an
// AVX2 clone (8 lanes) is chosen at load time where the CPU has it (the build's baseline has 4).
__attribute__((target_clones("avx2", "default"))) void AddTreesByMask(const float* xt, size_t trees, int depth, const uint32_t* feature, const float* split,
                    const float* leaf, const uint8_t* leaf_of, float* sum) {
  const size_t internal = (size_t{1} << depth) - 1, leaves = size_t{1} << depth;
  uint32_t mask[kBlock];
  for (size_t t = 0; t < trees; ++t, feature += internal, split += internal, leaf += leaves) {
    for (size_t r = 0; r < kBlock; ++r) mask[r] = 0;
    for (size_t i = 0; i < internal; ++i) {
      const float* col = xt + feature[i] * kBlock;
      const float s = split[i];
      const uint32_t bit = uint32_t{1} << i;
      for (size_t r = 0; r < kBlock; ++r) mask[r] |= col[r] >= s ? bit : 0;  // finite rows: >= is !(<)
    }
    for (size_t r = 0; r < kBlock; ++r) sum[r] += leaf[leaf_of[mask[r]]];
  }
}

void AddTreesByWalk(const float* xt, size_t n, size_t trees, int depth, const uint32_t* feature, const float* split,
                    const float* leaf, float* sum) {
  const size_t internal = (size_t{1} << depth) - 1, leaves = size_t{1} << depth;
  uint32_t node[kBlock];
  for (size_t t = 0; t < trees; ++t, feature += internal, split += internal, leaf += leaves) {
    std::fill(node, node + n, 0u);
    for (int d = 0; d < depth; ++d)
      for (size_t r = 0; r < n; ++r) {
        const uint32_t i = node[r];
        node[r] = 2 * i + 1 + !(xt[feature[i] * kBlock + r] < split[i]);
      }
    for (size_t r = 0; r < n; ++r) sum[r] += leaf[node[r] - internal];
  }
}

}  // namespace

void Forest::PredictRows(const Design& x, size_t begin, size_t end, double* out) const {
  const std::vector<uint8_t> leaf_of = depth_ <= kMaskDepth ? LeafOfMask(depth_) : std::vector<uint8_t>{};
  std::vector<float> xt(kBlock * cols_);
  float sum[kBlock];
  for (size_t b = begin; b < end; b += kBlock) {
    const size_t n = std::min(kBlock, end - b);
    const double* row = x.values.data() + b * cols_;
    for (size_t r = 0; r < kBlock; ++r)  // a short last block is padded with zeros
      for (size_t c = 0; c < cols_; ++c) xt[c * kBlock + r] = r < n ? static_cast<float>(row[r * cols_ + c]) : 0.0f;
    std::fill(sum, sum + kBlock, base_margin_);
    if (depth_ <= kMaskDepth)
      AddTreesByMask(xt.data(), trees_, depth_, feature_.data(), split_.data(), leaf_.data(), leaf_of.data(), sum);
    else
      AddTreesByWalk(xt.data(), n, trees_, depth_, feature_.data(), split_.data(), leaf_.data(), sum);
    for (size_t r = 0; r < n; ++r) out[b + r] = Sigmoid(sum[r]);
  }
}

std::vector<double> Forest::Predict(const Design& x, int threads) const {
  std::vector<double> p(x.rows);
  const size_t workers = std::clamp<size_t>(threads, 1, std::max<size_t>(1, x.rows / 4096));
  const size_t chunk = (x.rows + workers - 1) / workers;
  std::vector<std::thread> pool;
  for (size_t w = 1; w < workers; ++w)
    pool.emplace_back([&, w] { PredictRows(x, std::min(x.rows, w * chunk), std::min(x.rows, (w + 1) * chunk), p.data()); });
  PredictRows(x, 0, std::min(x.rows, chunk), p.data());
  for (auto& t : pool) t.join();
  return p;
}

}  // namespace ark::stats
