// OpenSAFELY's default disclosure rules for counts (shared SPECS.md, "Disclosure control"):
// any count <= 7 is redacted, then every count is rounded to the nearest 5; ratios are computed
// from the rounded numerator and denominator and redacted where either was redacted.
// The governance issue brings the full engine (rule sets, suppression, dominance); outputs that
// leave the Ark before then go through these functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ark/status.h"

namespace ark::sdc {

constexpr int64_t kRedactAtOrBelow = 7;
constexpr int64_t kRoundTo = 5;

// The published value of a count: nullopt when redacted. InvalidArgument for a negative count.
Result<std::optional<int64_t>> PublishCount(int64_t n);

// Rate per `per` from published counts: nullopt if either is redacted or the denominator is 0.
std::optional<double> PublishRate(const std::optional<int64_t>& num, const std::optional<int64_t>& den, double per);

// "[REDACTED]" or the number, for tables.
std::string Show(const std::optional<int64_t>& v);

}  // namespace ark::sdc
