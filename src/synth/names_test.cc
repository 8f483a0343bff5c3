#include "synth/names.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "synth/format.h"

namespace ark::synth {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

TEST(SynthNames, NoCommonWords) {
  // Words that are also names and must stay out of the lists (case-insensitive).
  const std::set<std::string> words = {
      "rose", "mark", "will", "bill", "bob", "rob", "sue", "pat", "grace", "hope", "faith", "joy", "dawn",
      "holly", "ivy", "lily", "daisy", "poppy", "ruby", "amber", "jade", "hazel", "heather", "june", "may",
      "april", "summer", "jack", "frank", "ray", "gene", "guy", "dean", "lee", "green", "hall", "ward", "wood",
      "hill", "king", "baker", "young", "bell", "price", "cook", "fox", "gray", "grey", "brown", "white",
      "black", "mills", "knight", "hunt", "mason", "walker", "turner", "newton", "carter", "cooper", "booth"};
  for (std::string_view n : AllNames()) {
    EXPECT_FALSE(words.count(Lower(n))) << n;
    for (char c : n) EXPECT_TRUE(std::isalpha(static_cast<unsigned char>(c)) || c == '\'' || c == '-') << n;
  }
}

TEST(SynthNames, FrequencySkewAndCohorts) {
  Rng rng(11);
  std::map<std::string, int> family, older, younger;
  for (int i = 0; i < 20000; ++i) {
    PersonName a = DrawName('F', 1940, rng), b = DrawName('F', 2010, rng);
    ++family[std::string(FamilyName(a.family))];
    ++older[std::string(GivenName(a.given))];
    ++younger[std::string(GivenName(b.given))];
  }
  EXPECT_GT(family["Smith"], 5 * family["Sykes"]);
  EXPECT_GT(older["Margaret"], 100);
  EXPECT_EQ(younger["Margaret"], 0);
  EXPECT_GT(younger["Olivia"], 100);
}

TEST(SynthNames, NicknamesAndTypos) {
  Rng rng(5);
  const std::set<std::string> liz = {"Liz", "Beth", "Lizzie"};
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(liz.count(std::string(Nickname("Elizabeth", rng))));
  EXPECT_EQ(Nickname("Olwen", rng), "");
  int changed = 0;
  for (int i = 0; i < 1000; ++i) {
    std::string t = Typo("Robinson", rng);
    changed += t != "Robinson";
    EXPECT_GE(t.size(), 7u);
    EXPECT_LE(t.size(), 9u);
  }
  EXPECT_GT(changed, 900);
  EXPECT_EQ(Typo("Al", rng), "Al");
}

TEST(SynthFormat, NumbersAndDates) {
  std::string s;
  AppendTenths(&s, 275, 1), s.push_back(' '), AppendTenths(&s, 80, 0), s.push_back(' '), AppendInt(&s, -12);
  EXPECT_EQ(s, "27.5 8 -12");
  const int32_t d = DaysFromCivil(2024, 3, 7);
  s.clear();
  AppendDate(&s, d, DateStyle::kIso), s.push_back(' ');
  AppendDate(&s, d, DateStyle::kDmySlash), s.push_back(' ');
  AppendDate(&s, d, DateStyle::kDmyDash), s.push_back(' ');
  AppendDate(&s, d, DateStyle::kCompact), s.push_back(' ');
  AppendMinutes(&s, d * 1440 + 9 * 60 + 5);
  EXPECT_EQ(s, "2024-03-07 07/03/2024 07-03-2024 20240307 2024-03-07 09:05");
}

}  // namespace
}  // namespace ark::synth
