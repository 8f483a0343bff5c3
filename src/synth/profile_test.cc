#include "synth/profile.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/csv.h"
#include "core/time.h"
#include "synth/model.h"
#include "synth/world.h"

namespace ark::synth {
namespace {

TEST(RegionProfile, FourProfilesNamedWithSharesSummingToOne) {
  ASSERT_EQ(RegionProfiles().size(), 4u);
  EXPECT_TRUE(RegionProfiles()[0].is_default);
  for (const RegionProfile& p : RegionProfiles()) {
    double sum = 0;
    for (double s : p.decile_share) sum += s;
    EXPECT_NEAR(sum, 1, 1e-12) << p.name;
    EXPECT_TRUE(FindRegionProfile(p.name).ok());
  }
  auto bad = FindRegionProfile("rural");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("default, young-deprived, old-affluent, mixed"), std::string::npos)
      << bad.status().message();
}

// Share of small areas in deciles 1-3, and of people aged 65+ and 20-39 at the start.
struct Shape {
  double deprived = 0, old = 0, young_adult = 0;
};

Shape ShapeOf(const RegionProfile& p) {
  Shape s;
  const World w(150000, 1, 7, p);  // 100 small areas
  for (const Lsoa& l : w.lsoas()) s.deprived += l.imd_decile <= 3;
  s.deprived /= static_cast<double>(w.lsoas().size());
  Rng rng = Rng::ForStream(7, 99);
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    double age = 0;
    char sex = 0;
    model::DrawStartAgeSex(rng, &age, &sex, p.is_default ? nullptr : p.age_weight.data());
    s.old += age >= 65;
    s.young_adult += age >= 20 && age < 40;
  }
  s.old /= n;
  s.young_adult /= n;
  return s;
}

TEST(RegionProfile, ProfilesDifferInAgeAndDeprivationAsClaimed) {
  const Shape d = ShapeOf(*FindRegionProfile("default")), y = ShapeOf(*FindRegionProfile("young-deprived")),
              o = ShapeOf(*FindRegionProfile("old-affluent")), m = ShapeOf(*FindRegionProfile("mixed"));
  EXPECT_NEAR(d.deprived, 0.40, 0.02);  // 16 + 13 + 11%
  EXPECT_NEAR(y.deprived, 0.64, 0.02);
  EXPECT_NEAR(o.deprived, 0.10, 0.02);
  EXPECT_NEAR(m.deprived, 0.30, 0.02);
  EXPECT_GT(y.young_adult, d.young_adult + 0.08);
  EXPECT_LT(o.young_adult, d.young_adult - 0.05);
  EXPECT_GT(o.old, d.old + 0.08);
  EXPECT_LT(y.old, d.old - 0.05);
  EXPECT_NEAR(m.old, d.old, 1e-12) << "mixed keeps England's ages (the same draws)";
}

// Through the command: without --people a profile gives its size; the written region's people
// (truth/persons.csv) have the profile's age and deprivation; only a profile's manifest names it.
struct Region {
  size_t people = 0;
  double mean_age = 0, deprived = 0;
  std::string manifest;
};

Region Synth(const std::string& profile) {
  const std::string dir = ::testing::TempDir() + "ark_profile_" + profile + "_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  const std::string cmd = std::string(ARK_BINARY) + " synth --years 1 --seed 11 --quiet --out " + dir +
                          (profile == "default" ? " --people 3000" : " --profile " + profile) + " > /dev/null";
  Region r;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::stringstream m;
  m << std::ifstream(dir + "/manifest.json").rdbuf();
  r.manifest = m.str();
  auto file = CsvFile::Open(dir + "/truth/persons.csv");
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  if (!file.ok()) return r;
  CsvParser p(file->body(), file->body_first_line());
  std::vector<std::string_view> row;
  const int32_t ref = DaysFromCivil(2025, 1, 1);
  for (auto more = p.Next(&row); more.ok() && *more; more = p.Next(&row)) {
    ++r.people;
    auto dob = ParseTime(row[3], "%Y-%m-%d");
    EXPECT_TRUE(dob.ok()) << row[3];
    if (dob.ok()) r.mean_age += (ref - DayOf(*dob)) / 365.25;
    r.deprived += std::atoi(std::string(row[5]).c_str()) <= 3;
  }
  r.mean_age /= static_cast<double>(r.people);
  r.deprived /= static_cast<double>(r.people);
  std::filesystem::remove_all(dir);
  return r;
}

TEST(RegionProfile, CommandWritesRegionsOfTheProfilesSizeAgeAndDeprivation) {
  const Region y = Synth("young-deprived"), o = Synth("old-affluent"), d = Synth("default");
  EXPECT_EQ(y.people, 14000u);
  EXPECT_EQ(o.people, 6000u);
  EXPECT_EQ(d.people, 3000u);
  EXPECT_GT(o.mean_age, y.mean_age + 10) << "old-affluent " << o.mean_age << ", young-deprived " << y.mean_age;
  EXPECT_GT(y.deprived, 0.5);
  EXPECT_LT(o.deprived, 0.2);
  EXPECT_NE(y.manifest.find("\"profile\": \"young-deprived\""), std::string::npos) << y.manifest;
  EXPECT_EQ(d.manifest.find("profile"), std::string::npos) << "the default manifest is as before";
}

}  // namespace
}  // namespace ark::synth
