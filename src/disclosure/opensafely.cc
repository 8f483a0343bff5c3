#include "disclosure/opensafely.h"

namespace ark::sdc {

Result<std::optional<int64_t>> PublishCount(int64_t n) {
  if (n < 0) return Status::InvalidArgument("a count cannot be negative: " + std::to_string(n));
  if (n <= kRedactAtOrBelow) return std::optional<int64_t>();
  return std::optional<int64_t>((n + kRoundTo / 2) / kRoundTo * kRoundTo);
}

std::optional<double> PublishRate(const std::optional<int64_t>& num, const std::optional<int64_t>& den, double per) {
  if (!num || !den || *den == 0) return std::nullopt;
  return per * static_cast<double>(*num) / static_cast<double>(*den);
}

std::string Show(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "[REDACTED]"; }

}  // namespace ark::sdc
