// Region profiles for `ark synth --profile NAME`: regions of a network that differ in size, age
// structure and deprivation (issue 15). A profile scales the England share of each five-year age
// band at the start of the window and sets the share of small areas (LSOAs) in each IMD decile;
// everything else (rates by age, sex and deprivation) is the same model, so the differences
// between regions follow from who lives there. "default" is the region `ark synth` always wrote,
// byte for byte.
//
//   default          10,000 people, England's age bands, deprivation deciles 16% .. 7%
//   young-deprived   14,000, more 20-39 year olds and children, 30% of areas in decile 1
//   old-affluent      6,000, more people over 60, 18% of areas in decile 10, 2% in decile 1
//   mixed             9,000, England's age bands, every decile 10%
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ark/status.h"

namespace ark::synth {

struct RegionProfile {
  std::string name;
  uint64_t people = 10000;              // size when --people is not given
  std::array<double, 20> age_weight{};  // multiplies the share of bands 0-4 .. 95-99
  std::array<double, 10> decile_share{};  // LSOAs in IMD deciles 1 (most deprived) .. 10; sums to 1
  bool is_default = false;
};

// The four profiles, default first.
const std::vector<RegionProfile>& RegionProfiles();
// InvalidArgument naming the known profiles for an unknown name.
Result<RegionProfile> FindRegionProfile(std::string_view name);

}  // namespace ark::synth
