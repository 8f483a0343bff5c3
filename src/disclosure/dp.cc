#include "disclosure/dp.h"

#include <openssl/rand.h>

#include <limits>

namespace ark::sdc {
namespace {

uint64_t CsprngUniform(uint64_t n) {
  // Rejection sampling: no modulo bias.
  const uint64_t limit = std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % n;
  for (;;) {
    uint64_t v = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1) continue;
    if (v < limit) return v % n;
  }
}

}  // namespace

DpSampler::DpSampler(std::function<uint64_t(uint64_t)> uniform)
    : uniform_(uniform ? std::move(uniform) : std::function<uint64_t(uint64_t)>(CsprngUniform)) {}

bool DpSampler::Bernoulli(uint64_t num, uint64_t den) { return uniform_(den) < num; }

bool DpSampler::BernoulliExp1(uint64_t num, uint64_t den) {
  // Algorithm 1 for gamma in [0, 1]: K = smallest k with Bernoulli(gamma/k) = 0; return K odd.
  uint64_t k = 1;
  while (Bernoulli(num, den * k)) ++k;
  return k % 2 == 1;
}

bool DpSampler::BernoulliExp(uint64_t num, uint64_t den) {
  while (num > den) {
    if (!BernoulliExp1(1, 1)) return false;
    num -= den;
  }
  return BernoulliExp1(num, den);
}

int64_t DpSampler::DiscreteLaplace(uint64_t t, uint64_t s) {
  // Algorithm 2.
  for (;;) {
    uint64_t u = uniform_(t);
    if (!BernoulliExp(u, t)) continue;
    uint64_t v = 0;
    while (BernoulliExp(1, 1)) ++v;
    uint64_t x = u + t * v;
    uint64_t y = x / s;
    bool b = Bernoulli(1, 2);
    if (b && y == 0) continue;
    return b ? -static_cast<int64_t>(y) : static_cast<int64_t>(y);
  }
}

Status ParseEpsilon(const std::string& text, uint64_t* num, uint64_t* den) {
  uint64_t n = 0, d = 1;
  bool dot = false, digits = false;
  for (char c : text) {
    if (c == '.' && !dot) {
      dot = true;
    } else if (c >= '0' && c <= '9' && d < 1000000) {
      n = n * 10 + (c - '0');
      if (dot) d *= 10;
      digits = true;
    } else {
      return Status::InvalidArgument("epsilon '" + text + "' is not a decimal number");
    }
  }
  if (!digits || n == 0 || n > 10 * d) return Status::InvalidArgument("epsilon must be in (0, 10]");
  *num = n;
  *den = d;
  return Status::OK();
}

int64_t NoisyCount(DpSampler& s, int64_t n, uint64_t sensitivity, uint64_t eps_num, uint64_t eps_den) {
  // scale = sensitivity / (num/den) = sensitivity*den / num  ->  t = sensitivity*den, s = num.
  int64_t v = n + s.DiscreteLaplace(sensitivity * eps_den, eps_num);
  return v < 0 ? 0 : v;
}

}  // namespace ark::sdc
