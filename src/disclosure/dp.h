// Differentially private counts (optional output mode): the discrete Laplace mechanism sampled in
// exact integer arithmetic (Canonne, Kamath, Steinke 2020, "The Discrete Gaussian for Differential
// Privacy", Algorithms 1-2). No floating point touches the noise, so there are no floating-point
// side channels (Mironov 2012). Scale = sensitivity / epsilon with epsilon a rational num/den.
//
// Thread safety: a DpSampler is not synchronised; use one per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "ark/status.h"

namespace ark::sdc {

class DpSampler {
 public:
  // `uniform(n)` returns a uniform integer in [0, n); default: the OS's CSPRNG (OpenSSL RAND_bytes).
  explicit DpSampler(std::function<uint64_t(uint64_t)> uniform = {});

  // Exact Bernoulli(num/den).
  bool Bernoulli(uint64_t num, uint64_t den);
  // Exact Bernoulli(exp(-num/den)).
  bool BernoulliExp(uint64_t num, uint64_t den);
  // Discrete Laplace with scale t/s: P(x) proportional to exp(-|x| s / t).
  int64_t DiscreteLaplace(uint64_t t, uint64_t s);

 private:
  bool BernoulliExp1(uint64_t num, uint64_t den);  // num <= den
  std::function<uint64_t(uint64_t)> uniform_;
};

// Epsilon as a decimal ("0.5", "1", "0.25") -> num/den exactly. InvalidArgument unless 0 < eps <= 10.
Status ParseEpsilon(const std::string& text, uint64_t* num, uint64_t* den);

// A noisy count: n + DiscreteLaplace(sensitivity / epsilon), clamped at 0.
int64_t NoisyCount(DpSampler& s, int64_t n, uint64_t sensitivity, uint64_t eps_num, uint64_t eps_den);

}  // namespace ark::sdc
