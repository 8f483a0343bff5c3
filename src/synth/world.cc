#include "synth/world.h"

#include <algorithm>
#include <numeric>

#include "core/time.h"

namespace ark::synth {

// ---- IdPermutation ----

IdPermutation::IdPermutation(uint64_t domain, uint64_t key) : domain_(domain < 1 ? 1 : domain), key_(key) {
  int bits = 2;
  while (bits < 62 && (uint64_t{1} << bits) < domain_) bits += 2;
  half_bits_ = bits / 2;
  mask_ = (uint64_t{1} << half_bits_) - 1;
}

uint64_t IdPermutation::Encrypt(uint64_t x) const {
  uint64_t l = x >> half_bits_, r = x & mask_;
  for (uint64_t round = 0; round < 4; ++round) {
    uint64_t f = Mix64(key_ + round, r) & mask_;
    uint64_t next_l = r;
    r = l ^ f;
    l = next_l;
  }
  return (l << half_bits_) | r;
}

uint64_t IdPermutation::Map(uint64_t x) const {
  uint64_t y = Encrypt(x);
  while (y >= domain_) y = Encrypt(y);  // cycle walking stays a bijection on [0, domain)
  return y;
}

// ---- World ----

namespace {

// Postcode areas of a northern English city region and its neighbours.
const char* const kAreas[] = {"LS", "BD", "WF", "HX", "HD", "HG", "YO", "DN", "HU", "S",
                              "M",  "OL", "BL", "WN", "PR", "BB", "L",  "CH", "ST", "DE",
                              "NG", "LE", "B",  "CV", "WS", "WV", "DY", "SK", "WA", "CW"};
// Letters used in the unit part of real postcodes (no C I K M O V).
const char kUnitLetters[] = "ABDEFGHJLNPQRSTUWXYZ";
// Share of small areas in each IMD decile: a city region skewed towards deprivation.

}  // namespace

World::World(uint64_t people, int years, uint64_t seed, const RegionProfile& profile)
    : people_(people), years_(years), seed_(seed), profile_(profile), nhs_(people, seed) {
  const auto& share = profile_.decile_share;
  Rng rng = Rng::ForStream(seed, kWorldStream);
  end_day_ = DaysFromCivil(2025, 12, 31);
  start_day_ = DaysFromCivil(2025 - years + 1, 1, 1);

  // Small areas and districts: about 1,500 people per LSOA, 12 LSOAs per district.
  const uint32_t num_lsoas = static_cast<uint32_t>(std::max<uint64_t>(20, (people + 750) / 1500));
  const uint32_t num_districts = std::max<uint32_t>(2, (num_lsoas + 11) / 12);
  districts_.resize(num_districts);
  for (uint32_t d = 0; d < num_districts; ++d) {
    // 30 districts per postcode area (LS1..LS30, BD1..BD30, ...); numbers go higher only
    // beyond 900 districts (about 16 million people).
    const uint32_t area = (d / 30) % 30;
    districts_[d].outward = std::string(kAreas[area]) + std::to_string(d % 30 + 1 + 30 * (d / 900));
  }
  std::vector<double> district_effect(num_districts);
  for (double& e : district_effect) e = rng.Normal(0, 1);

  lsoas_.resize(num_lsoas);
  std::vector<double> latent(num_lsoas), weight(num_lsoas);
  for (uint32_t i = 0; i < num_lsoas; ++i) {
    Lsoa& l = lsoas_[i];
    l.code = "E01" + std::to_string(900001 + i);
    l.district = static_cast<uint16_t>(i % num_districts);
    districts_[l.district].lsoas.push_back(i);
    latent[i] = district_effect[l.district] + rng.Normal(0, 0.7);
    weight[i] = rng.Uniform(0.75, 1.25);
  }
  // Deciles by rank of the latent score, so areas of one district have similar deprivation.
  std::vector<uint32_t> order(num_lsoas);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return latent[a] < latent[b]; });
  double cumulative = 0;
  uint32_t decile = 0;
  for (uint32_t rank = 0; rank < num_lsoas; ++rank) {
    while (decile < 9 && rank >= (cumulative + share[decile]) * num_lsoas) cumulative += share[decile++];
    lsoas_[order[rank]].imd_decile = static_cast<uint8_t>(decile + 1);
  }
  lsoas_by_decile_.assign(11, {});
  for (uint32_t i = 0; i < num_lsoas; ++i) lsoas_by_decile_[lsoas_[i].imd_decile].push_back(i);
  lsoa_dist_ = Categorical(weight);

  // Postcodes: each LSOA lies in one sector (district + digit) and has 20-40 unit postcodes.
  for (uint32_t d = 0; d < num_districts; ++d) {
    std::vector<std::vector<std::string>> sector_units(10);
    for (int s = 0; s < 10; ++s) {
      auto& units = sector_units[static_cast<size_t>(s)];
      for (int a = 0; a < 20; ++a)
        for (int b = 0; b < 20; ++b) units.push_back(std::string{kUnitLetters[a], kUnitLetters[b]});
      for (size_t k = units.size(); k > 1; --k) std::swap(units[k - 1], units[rng.Below(static_cast<uint32_t>(k))]);
    }
    const auto& ids = districts_[d].lsoas;
    for (size_t j = 0; j < ids.size(); ++j) {
      Lsoa& l = lsoas_[ids[j]];
      const size_t sector = (j + d) % 10;
      auto& units = sector_units[sector];
      l.first_postcode = static_cast<uint32_t>(postcodes_.size());
      l.num_postcodes = static_cast<uint32_t>(std::min<size_t>(units.size(), 20 + rng.Below(21)));
      for (uint32_t k = 0; k < l.num_postcodes; ++k) {
        postcodes_.push_back(districts_[d].outward + " " + std::to_string(sector) + units.back());
        postcode_lsoa_.push_back(ids[j]);
        units.pop_back();
      }
    }
  }

  // GP practices: about one per 8,000 people, at least one per district.
  const uint32_t num_practices =
      std::max<uint32_t>({5u, num_districts, static_cast<uint32_t>((people + 4000) / 8000)});
  practices_.resize(num_practices);
  std::vector<double> district_size(num_districts);
  for (uint32_t d = 0; d < num_districts; ++d) district_size[d] = static_cast<double>(districts_[d].lsoas.size());
  Categorical district_dist(district_size);
  for (uint32_t p = 0; p < num_practices; ++p) {
    practices_[p].code = "B" + std::to_string(86001 + p);
    uint16_t d = static_cast<uint16_t>(p < num_districts ? p : district_dist.Draw(rng));
    practices_[p].district = d;
    districts_[d].practices.push_back(static_cast<uint16_t>(p));
    practice_weight_.push_back(rng.Uniform(0.4, 1.8));
  }
  for (uint32_t d = 0; d < num_districts; ++d) {
    std::vector<double> w;
    for (uint16_t p : districts_[d].practices) w.push_back(practice_weight_[p]);
    practice_dist_.emplace_back(w);
  }
  all_practices_ = Categorical(practice_weight_);

  gp_ids_ = IdPermutation(people * kMaxRegistrations, Rng::ForStream(seed, kIdStream, 1).Next());
  mrn_ids_ = IdPermutation(people * 2, Rng::ForStream(seed, kIdStream, 2).Next());
  client_ids_ = IdPermutation(people, Rng::ForStream(seed, kIdStream, 3).Next());
  social_ids_ = IdPermutation(people, Rng::ForStream(seed, kIdStream, 4).Next());
}

uint32_t World::DrawLsoa(Rng& rng) const { return static_cast<uint32_t>(lsoa_dist_.Draw(rng)); }

uint32_t World::DrawMove(uint32_t from, Rng& rng) const {
  const Lsoa& cur = lsoas_[from];
  double r = rng.Uniform();
  if (r < 0.55) {  // same district
    const auto& ids = districts_[cur.district].lsoas;
    return ids[rng.Below(static_cast<uint32_t>(ids.size()))];
  }
  if (r < 0.85) {  // similar deprivation anywhere
    int d = std::clamp(cur.imd_decile + rng.Range(-1, 1), 1, 10);
    const auto& ids = lsoas_by_decile_[static_cast<size_t>(d)];
    if (!ids.empty()) return ids[rng.Below(static_cast<uint32_t>(ids.size()))];
  }
  return DrawLsoa(rng);
}

uint32_t World::DrawPostcode(uint32_t lsoa, Rng& rng) const {
  const Lsoa& l = lsoas_[lsoa];
  return l.first_postcode + rng.Below(l.num_postcodes);
}

uint16_t World::DrawPractice(uint16_t district, Rng& rng) const {
  if (rng.Chance(0.9) && !districts_[district].practices.empty())
    return districts_[district].practices[practice_dist_[district].Draw(rng)];
  return static_cast<uint16_t>(all_practices_.Draw(rng));
}

}  // namespace ark::synth
