#include "synth/profile.h"

namespace ark::synth {

const std::vector<RegionProfile>& RegionProfiles() {
  static const std::vector<RegionProfile> profiles = {
      {"default", 10000,
       {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
       {0.16, 0.13, 0.11, 0.10, 0.10, 0.09, 0.09, 0.08, 0.07, 0.07},
       true},
      {"young-deprived", 14000,
       {1.3, 1.2, 1.1, 1.1, 1.5, 1.7, 1.7, 1.5, 1.2, 1.0, 0.9, 0.8, 0.7, 0.6, 0.55, 0.5, 0.45, 0.4, 0.4, 0.4},
       {0.30, 0.20, 0.14, 0.10, 0.08, 0.06, 0.05, 0.03, 0.02, 0.02},
       false},
      {"old-affluent", 6000,
       {0.8, 0.8, 0.85, 0.85, 0.7, 0.6, 0.65, 0.75, 0.85, 0.95, 1.05, 1.15, 1.3, 1.45, 1.6, 1.7, 1.8, 1.8, 1.8, 1.8},
       {0.02, 0.03, 0.05, 0.07, 0.09, 0.11, 0.13, 0.15, 0.17, 0.18},
       false},
      {"mixed", 9000,
       {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
       {0.10, 0.10, 0.10, 0.10, 0.10, 0.10, 0.10, 0.10, 0.10, 0.10},
       false},
  };
  return profiles;
}

Result<RegionProfile> FindRegionProfile(std::string_view name) {
  std::string known;
  for (const RegionProfile& p : RegionProfiles()) {
    if (p.name == name) return p;
    known += (known.empty() ? "" : ", ") + p.name;
  }
  return Status::InvalidArgument("--profile '" + std::string(name) + "' is not one of: " + known);
}

}  // namespace ark::synth
