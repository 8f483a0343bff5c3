// The fixed frame of a synthetic region: observation window, small areas (LSOAs) with their
// deprivation deciles and postcodes, postcode districts, GP practices, NHS numbers and the
// permutations that make custodians' local ids.
//
// A World is built once from (people, years, seed) on one thread and is read-only afterwards,
// so any number of threads may share it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "synth/nhs_number.h"
#include "synth/profile.h"
#include "synth/rng.h"

namespace ark::synth {

// A pseudo-random bijection of [0, domain) (a keyed Feistel network with cycle walking).
// Used to turn dense keys (person, registration) into local ids that reveal nothing.
class IdPermutation {
 public:
  IdPermutation() = default;
  IdPermutation(uint64_t domain, uint64_t key);
  // REQUIRES: x < domain.
  uint64_t Map(uint64_t x) const;
  uint64_t domain() const { return domain_; }

 private:
  uint64_t Encrypt(uint64_t x) const;
  uint64_t domain_ = 1;
  uint64_t key_ = 0;
  int half_bits_ = 1;
  uint64_t mask_ = 1;
};

struct Lsoa {
  std::string code;         // E01900001, ... (outside the range of real LSOA codes)
  uint8_t imd_decile = 5;   // 1 most deprived .. 10 least deprived
  uint16_t district = 0;
  uint32_t first_postcode = 0;
  uint32_t num_postcodes = 0;
};

struct District {
  std::string outward;                // "LS7"
  std::vector<uint32_t> lsoas;
  std::vector<uint16_t> practices;
};

struct Practice {
  std::string code;  // "B86001"
  uint16_t district = 0;
};

// Most GP registrations a person can have in the window; the GP patient_id key is
// person * kMaxRegistrations + registration index.
constexpr uint32_t kMaxRegistrations = 8;

class World {
 public:
  // REQUIRES: people >= 1, 1 <= years <= 50. The profile sets the small areas' deprivation
  // deciles and the age structure (profile.h); the default is the region as always.
  World(uint64_t people, int years, uint64_t seed, const RegionProfile& profile = RegionProfiles()[0]);

  uint64_t people() const { return people_; }
  int years() const { return years_; }
  uint64_t seed() const { return seed_; }
  const RegionProfile& profile() const { return profile_; }
  int32_t start_day() const { return start_day_; }  // first day of the window
  int32_t end_day() const { return end_day_; }      // 2025-12-31, inclusive

  const std::vector<Lsoa>& lsoas() const { return lsoas_; }
  const std::vector<District>& districts() const { return districts_; }
  const std::vector<Practice>& practices() const { return practices_; }
  const std::string& postcode(uint32_t i) const { return postcodes_[i]; }
  uint32_t postcode_lsoa(uint32_t i) const { return postcode_lsoa_[i]; }

  // A small area for a new resident (population-weighted).
  uint32_t DrawLsoa(Rng& rng) const;
  // A destination for a move from `from`: often the same district, similar deprivation.
  uint32_t DrawMove(uint32_t from, Rng& rng) const;
  uint32_t DrawPostcode(uint32_t lsoa, Rng& rng) const;
  // A practice for someone living in `district` (mostly a local one, by list size).
  uint16_t DrawPractice(uint16_t district, Rng& rng) const;

  uint64_t nhs_number(uint64_t person) const { return nhs_.Get(person); }
  // Local-id permutations: GP (person * kMaxRegistrations + k), acute (person * 2 + k),
  // community (person), social care (person).
  const IdPermutation& gp_ids() const { return gp_ids_; }
  const IdPermutation& mrn_ids() const { return mrn_ids_; }
  const IdPermutation& client_ids() const { return client_ids_; }
  const IdPermutation& social_ids() const { return social_ids_; }

 private:
  uint64_t people_;
  int years_;
  uint64_t seed_;
  RegionProfile profile_;
  int32_t start_day_;
  int32_t end_day_;
  std::vector<Lsoa> lsoas_;
  std::vector<District> districts_;
  std::vector<Practice> practices_;
  std::vector<std::string> postcodes_;
  std::vector<uint32_t> postcode_lsoa_;
  std::vector<std::vector<uint32_t>> lsoas_by_decile_;
  Categorical lsoa_dist_;
  std::vector<Categorical> practice_dist_;  // per district
  std::vector<double> practice_weight_;
  Categorical all_practices_;
  NhsAllocator nhs_;
  IdPermutation gp_ids_, mrn_ids_, client_ids_, social_ids_;
};

}  // namespace ark::synth
