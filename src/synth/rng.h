// Deterministic pseudo-random numbers for the synthetic region.
//
// Rng is xoshiro256** seeded through SplitMix64. Every stream is derived from (seed, stream id,
// sub id) by hashing, so each person gets its own independent stream and output does not depend
// on how people are spread over threads. Not thread-safe: one Rng per thread or per person.
//
// Example:
//   Rng rng = Rng::ForStream(seed, kPersonStream, person_index);
//   if (rng.Chance(0.03)) ...;
//   int n = rng.Poisson(2.5);
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace ark::synth {

// SplitMix64 step: a good 64-bit mixer, also used to hash ids.
inline uint64_t SplitMix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline uint64_t Mix64(uint64_t a, uint64_t b) {
  uint64_t x = a * 0xD6E8FEB86659FD93ull ^ (b + 0x9E3779B97F4A7C15ull);
  return SplitMix64(x);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& s : s_) s = SplitMix64(seed);
  }
  // An independent stream for (seed, stream, sub): e.g. (seed, kPersonStream, person index).
  static Rng ForStream(uint64_t seed, uint64_t stream, uint64_t sub = 0) {
    return Rng(Mix64(Mix64(seed, stream), sub));
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform integer in [0, n); n > 0.
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(((Next() >> 32) * n) >> 32); }
  // Uniform integer in [lo, hi] (inclusive).
  int Range(int lo, int hi) { return lo + static_cast<int>(Below(static_cast<uint32_t>(hi - lo + 1))); }
  bool Chance(double p) { return Uniform() < p; }

  double Normal(double mean, double sd) {
    double u1 = Uniform();
    double u2 = Uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return mean + sd * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Log-normal with the given median and log-scale sigma.
  double LogNormal(double median, double sigma) { return median * std::exp(Normal(0, sigma)); }
  double Exponential(double mean) { return -mean * std::log(1.0 - Uniform()); }

  // Poisson count with mean lambda (Knuth below 30, rounded normal above).
  int Poisson(double lambda) {
    if (lambda <= 0) return 0;
    if (lambda > 30) {
      double v = Normal(lambda, std::sqrt(lambda));
      return v < 0 ? 0 : static_cast<int>(v + 0.5);
    }
    const double limit = std::exp(-lambda);
    double p = Uniform();
    int k = 0;
    while (p > limit) {
      ++k;
      p *= Uniform();
    }
    return k;
  }

  // Index drawn with probability proportional to weights[i] (weights need not sum to 1).
  template <typename Container>
  size_t Weighted(const Container& weights) {
    double total = 0;
    for (double w : weights) total += w;
    double r = Uniform() * total;
    size_t i = 0;
    for (double w : weights) {
      if (r < w) return i;
      r -= w;
      ++i;
    }
    return i == 0 ? 0 : i - 1;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// A categorical distribution over many items: O(log n) draws from cumulative weights.
class Categorical {
 public:
  Categorical() = default;
  explicit Categorical(const std::vector<double>& weights) {
    cumulative_.reserve(weights.size());
    double total = 0;
    for (double w : weights) cumulative_.push_back(total += w);
  }
  size_t Draw(Rng& rng) const {
    double r = rng.Uniform() * cumulative_.back();
    size_t lo = 0, hi = cumulative_.size() - 1;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (cumulative_[mid] > r) hi = mid; else lo = mid + 1;
    }
    return lo;
  }
  size_t size() const { return cumulative_.size(); }

 private:
  std::vector<double> cumulative_;
};

// Stream ids for Rng::ForStream.
enum Stream : uint64_t {
  kWorldStream = 1,
  kNhsStream = 2,
  kPersonStream = 3,
  kIdStream = 4,
};

}  // namespace ark::synth
